"""The endpoint policy: every way of naming an internal address is refused, with its reason.

No external DNS is used: hostnames are `localhost` (from /etc/hosts) or answered by `patch_dns`.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from typing import Any

import pytest

from service.webhooks.ssrf import EndpointPolicy, UnsafeEndpoint, check_url, resolve_safe

PUBLIC_V4 = "93.184.216.34"
PUBLIC_V6 = "2606:2800:220:1:248:1893:25c8:1946"


def patch_dns(monkeypatch: pytest.MonkeyPatch, table: dict[str, list[str]]) -> list[str]:
    """Answer lookups of the names in `table` from it (others: not found); returns the log."""
    asked: list[str] = []

    async def getaddrinfo(host: Any, port: Any, **_: Any) -> list[tuple[Any, ...]]:
        asked.append(host)
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        answers = []
        for address in table[host]:
            if ":" in address:
                answers.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0)))
            else:
                answers.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)))
        return answers

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", getaddrinfo)
    return asked


REFUSED = [
    ("http://example.org/hook", "scheme"),
    ("ftp://example.org/hook", "scheme"),
    ("example.org/hook", "scheme"),
    ("https://127.0.0.1/hook", "loopback"),
    ("https://127.8.9.10/hook", "loopback"),
    ("https://localhost/hook", "loopback"),
    ("https://[::1]/hook", "loopback"),
    ("https://169.254.169.254/latest/meta-data", "metadata"),
    ("https://[fd00:ec2::254]/", "metadata"),
    ("https://100.100.100.200/", "metadata"),
    ("https://169.254.1.1/", "link-local"),
    ("https://[fe80::1]/", "link-local"),
    ("https://10.0.0.1/", "private"),
    ("https://192.168.1.1/", "private"),
    ("https://172.16.0.1/", "private"),
    ("https://172.31.255.255/", "private"),
    ("https://100.64.0.1/", "cgnat"),
    ("https://[fc00::1]/", "unique-local"),
    ("https://[fd12:3456::1]/", "unique-local"),
    ("https://[::ffff:127.0.0.1]/", "loopback"),
    ("https://[::ffff:7f00:1]/", "loopback"),
    ("https://[::ffff:169.254.169.254]/", "metadata"),
    ("https://[::ffff:10.0.0.1]/", "private"),
    ("https://[2002:7f00:1::]/", "loopback"),
    ("https://[64:ff9b::a00:1]/", "private"),
    ("https://[::127.0.0.1]/", "reserved"),
    ("https://0.0.0.0/", "unspecified"),
    ("https://[::]/", "unspecified"),
    ("https://224.0.0.1/", "multicast"),
    ("https://[ff02::1]/", "multicast"),
    ("https://240.0.0.1/", "reserved"),
    ("https://255.255.255.255/", "reserved"),
    ("https://192.0.2.1/", "non-global"),
    ("https://0.1.2.3/", "non-global"),
    ("https://2130706433/", "numeric-host"),
    ("https://0x7f000001/", "numeric-host"),
    ("https://0x7f.1/", "numeric-host"),
    ("https://127.1/", "numeric-host"),
    ("https://1.2.3.4.5/", "numeric-host"),
    ("https://partner.0x10/", "numeric-host"),
    ("https://0177.0.0.1/", "invalid-url"),
    ("https://example.org/\n", "invalid-url"),
    ("https://user:pass@example.org/", "userinfo"),
    ("https://user@example.org/", "userinfo"),
    ("https://example.org\\@127.0.0.1/", "userinfo"),
    ("https:///hook", "no-host"),
    ("https://", "no-host"),
    ("https://example.org/hook#part", "fragment"),
    ("https://example.org/hook#", "fragment"),
    ("https://example.org:22/", "port"),
    ("https://example.org:0/", "port"),
    ("https://example.org:99999/", "port"),
    ("https://[fe80::1%25eth0]/", "host"),
    ("https://exa mple.org/", "host"),
    ("https://%31%32%37.0.0.1/", "host"),
    ("https://example.org./", "host"),
    ("https://-example.org/", "host"),
    ("https://" + "a" * 2050 + ".org/", "invalid-url"),
]


@pytest.mark.parametrize(("url", "reason"), REFUSED, ids=[url[:60] for url, _ in REFUSED])
async def test_refused_by_default(url, reason):
    with pytest.raises(UnsafeEndpoint) as refused:
        await resolve_safe(url)
    assert refused.value.reason == reason
    if reason != "loopback" or "localhost" not in url:  # all but a name decide without DNS
        with pytest.raises(UnsafeEndpoint):
            check_url(url)


async def test_public_literal_addresses_pass_without_dns(monkeypatch):
    asked = patch_dns(monkeypatch, {})
    assert check_url(f"https://{PUBLIC_V4}/hook?x=1") == f"https://{PUBLIC_V4}/hook?x=1"
    assert await resolve_safe(f"https://{PUBLIC_V4}/hook") == [ipaddress.ip_address(PUBLIC_V4)]
    assert await resolve_safe(f"https://[{PUBLIC_V6}]:8443/") == [ipaddress.ip_address(PUBLIC_V6)]
    assert await resolve_safe(f"https://[::ffff:{PUBLIC_V4}]/") != []
    assert asked == []


def test_check_url_normalises():
    assert check_url("HTTPS://Partner.EXAMPLE/hook") == "https://partner.example/hook"
    assert check_url("https://bücher.example/hook") == "https://xn--bcher-kva.example/hook"


async def test_loopback_only_when_allowed():
    for url in ("https://127.0.0.1/", "https://[::1]/", "https://localhost/"):
        with pytest.raises(UnsafeEndpoint, match="loopback"):
            await resolve_safe(url, EndpointPolicy(allow_private=True))
        addresses = await resolve_safe(url, EndpointPolicy(allow_loopback=True))
        assert addresses and all(a.is_loopback for a in addresses)


async def test_private_only_when_allowed_and_never_metadata_or_link_local():
    lax = EndpointPolicy(allow_private=True, allow_loopback=True)
    for url in ("https://10.0.0.1/", "https://100.64.0.1/", "https://[fc00::1]/"):
        with pytest.raises(UnsafeEndpoint):
            await resolve_safe(url, EndpointPolicy(allow_loopback=True))
        assert await resolve_safe(url, lax)
    for url in ("https://169.254.169.254/", "https://[fe80::1]/", "https://0.0.0.0/"):
        with pytest.raises(UnsafeEndpoint):
            await resolve_safe(url, lax)


def test_http_and_ports_only_when_allowed():
    with pytest.raises(UnsafeEndpoint, match="scheme"):
        check_url(f"http://{PUBLIC_V4}/")
    assert check_url(f"http://{PUBLIC_V4}/", EndpointPolicy(allow_http=True))
    with pytest.raises(UnsafeEndpoint, match="port"):
        check_url(f"https://{PUBLIC_V4}:9443/")
    assert check_url(f"https://{PUBLIC_V4}:9443/", EndpointPolicy(ports=None))
    with pytest.raises(UnsafeEndpoint, match="port"):
        check_url(f"https://{PUBLIC_V4}:0/", EndpointPolicy(ports=None))


async def test_a_name_is_refused_when_any_of_its_addresses_is(monkeypatch):
    patch_dns(
        monkeypatch,
        {
            "partner.example": [PUBLIC_V4, PUBLIC_V6],
            "mixed.example": [PUBLIC_V4, "10.1.2.3"],
            "mapped.example": [PUBLIC_V6, "::ffff:127.0.0.1"],
            "metadata.example": ["169.254.169.254"],
        },
    )
    assert await resolve_safe("https://partner.example/hook") == [
        ipaddress.ip_address(PUBLIC_V4),
        ipaddress.ip_address(PUBLIC_V6),
    ]
    for host, reason in [("mixed", "private"), ("mapped", "loopback"), ("metadata", "metadata")]:
        with pytest.raises(UnsafeEndpoint, match=f"{host}.example resolves to") as refused:
            await resolve_safe(f"https://{host}.example/hook")
        assert refused.value.reason == reason


async def test_an_unknown_name_is_an_os_error_not_a_refusal(monkeypatch):
    patch_dns(monkeypatch, {})
    with pytest.raises(OSError) as failed:
        await resolve_safe("https://nowhere.example/")
    assert not isinstance(failed.value, UnsafeEndpoint)
