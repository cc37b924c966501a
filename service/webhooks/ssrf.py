"""Which partner endpoints Kintrace may call: the guard against server-side request forgery.

A partner registers a URL and Kintrace POSTs personal data to it, so a URL must not reach the
service's own network: loopback, private and link-local ranges, cloud metadata, and so on.

`check_url` is syntactic and needs no network (registration can call it): https only (http with
`allow_http`), no userinfo, no fragment, a port from `EndpointPolicy.ports`, a host that is a
DNS name in letters-digits-hyphens (IDNA is encoded first) or a literal IP address. A host whose
last label is numeric but is not a dotted quad (`2130706433`, `0x7f.1`, `127.1`) is refused
rather than interpreted, as browsers and `inet_aton` would interpret it. Literal addresses are
checked at once. `resolve_safe` resolves a name and refuses it when ANY address is refused, so
a name cannot mix a public address with an internal one; the transport then connects only to
the addresses returned (see `transport`).

Refused address classes (`UnsafeEndpoint.reason`), checked on the IPv4 address embedded in an
IPv4-mapped (`::ffff:a.b.c.d`), 6to4 (2002::/16) or NAT64 (64:ff9b::/96) address:

    metadata      169.254.169.254, fd00:ec2::254, 100.100.100.200       never allowed
    unspecified   0.0.0.0, ::                                           never allowed
    loopback      127.0.0.0/8, ::1                                      `allow_loopback`
    link-local    169.254.0.0/16, fe80::/10                             never allowed
    multicast     224.0.0.0/4, ff00::/8                                 never allowed
    cgnat         100.64.0.0/10 (carrier-grade NAT)                     `allow_private`
    private       10/8, 172.16/12, 192.168/16                           `allow_private`
    unique-local  fc00::/7                                              `allow_private`
    reserved      240.0.0.0/4, ::/8 and the other reserved ranges       never allowed
    non-global    anything else not globally routable (documentation,  never allowed
                  benchmarking, 0.0.0.0/8, ...)
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from dataclasses import dataclass

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

DEFAULT_PORTS = frozenset({443, 8443, 80, 8080})
SCHEME_PORTS = {"https": 443, "http": 80}
MAX_URL_LENGTH = 2048

_METADATA = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200")
)
_CGNAT = ipaddress.IPv4Network("100.64.0.0/10")
_RFC1918 = tuple(
    ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
)
_UNIQUE_LOCAL = ipaddress.IPv6Network("fc00::/7")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_PRIVATE_CLASSES = frozenset({"cgnat", "private", "unique-local"})
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
_NUMERIC_LABEL = re.compile(r"0x[0-9a-f]*|[0-9]+")


class UnsafeEndpoint(ValueError):
    """Kintrace may not call this endpoint; `reason` is a short stable slug (see module doc)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


@dataclass(frozen=True, slots=True)
class EndpointPolicy:
    """What partner endpoints may be; the defaults are for production."""

    allow_loopback: bool = False
    allow_private: bool = False
    allow_http: bool = False
    ports: frozenset[int] | None = DEFAULT_PORTS  # None: any port 1-65535


DEFAULT_POLICY = EndpointPolicy()


def _address_class(address: IPAddress) -> str | None:
    """The refused class of an address (module doc), or None for a public unicast one."""
    if isinstance(address, ipaddress.IPv6Address):
        address = ipaddress.IPv6Address(int(address))  # drop a zone id
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return _address_class(embedded)
    checks: tuple[tuple[str, bool], ...] = (
        ("metadata", address in _METADATA),
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("cgnat", address in _CGNAT),
        ("private", any(address in network for network in _RFC1918)),
        ("unique-local", address in _UNIQUE_LOCAL),
        ("reserved", address.is_reserved),
        ("non-global", not address.is_global),
    )
    return next((name for name, hit in checks if hit), None)


def check_address(address: IPAddress, policy: EndpointPolicy = DEFAULT_POLICY) -> None:
    """Raise `UnsafeEndpoint` unless the policy lets Kintrace connect to this address."""
    found = _address_class(address)
    if found is None:
        return
    if (found == "loopback" and policy.allow_loopback) or (
        found in _PRIVATE_CLASSES and policy.allow_private
    ):
        return
    raise UnsafeEndpoint(found, f"{address} is a {found} address")


def _literal_address(host: str) -> IPAddress | None:
    """The address a URL host spells, None for a DNS name; refuses anything ambiguous."""
    if ":" in host:  # httpx has already validated a bracketed IPv6 literal
        if "%" in host:
            raise UnsafeEndpoint("host", "IPv6 zone identifiers are not allowed")
        return ipaddress.IPv6Address(host)
    labels = host.split(".")
    if len(host) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise UnsafeEndpoint("host", f"{host!r} is not a host name")
    if not _NUMERIC_LABEL.fullmatch(labels[-1]):
        return None
    try:
        return ipaddress.IPv4Address(host)
    except ipaddress.AddressValueError:
        raise UnsafeEndpoint(
            "numeric-host", f"{host!r} is not a dotted-quad IPv4 address"
        ) from None


def parse_url(url: str, policy: EndpointPolicy = DEFAULT_POLICY) -> tuple[httpx.URL, int]:
    """The checked URL (see `check_url`) and its effective port."""
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeEndpoint("invalid-url", f"longer than {MAX_URL_LENGTH} characters")
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError) as exc:
        raise UnsafeEndpoint("invalid-url", str(exc)) from None
    allowed = ("https", "http") if policy.allow_http else ("https",)
    if parsed.scheme not in allowed:
        raise UnsafeEndpoint("scheme", f"{parsed.scheme or 'no'} scheme; use {allowed[0]}")
    if parsed.userinfo:
        raise UnsafeEndpoint("userinfo", "credentials in the URL are not allowed")
    if "#" in url:
        raise UnsafeEndpoint("fragment", "a fragment is not allowed")
    host = parsed.raw_host.decode("ascii")
    if not host:
        raise UnsafeEndpoint("no-host", "the URL has no host")
    port = SCHEME_PORTS[parsed.scheme] if parsed.port is None else parsed.port
    if not 0 < port < 65536 or (policy.ports is not None and port not in policy.ports):
        raise UnsafeEndpoint("port", f"port {port} is not allowed")
    literal = _literal_address(host)
    if literal is not None:
        check_address(literal, policy)
    return parsed, port


def check_url(url: str, policy: EndpointPolicy = DEFAULT_POLICY) -> str:
    """The URL, normalised, if the policy allows it without resolving it; else `UnsafeEndpoint`."""
    return str(parse_url(url, policy)[0])


async def resolve_safe(url: str, policy: EndpointPolicy = DEFAULT_POLICY) -> list[IPAddress]:
    """The addresses to connect to for `url`, every one of them allowed by the policy.

    Raises `UnsafeEndpoint` when the URL or any resolved address is refused, `OSError`
    (`socket.gaierror`) when the name does not resolve.
    """
    parsed, port = parse_url(url, policy)
    host = parsed.raw_host.decode("ascii")
    literal = _literal_address(host)
    if literal is not None:
        return [literal]
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = list(
        dict.fromkeys(
            ipaddress.ip_address(str(info[4][0]))
            for info in infos
            if info[0] in (socket.AF_INET, socket.AF_INET6)
        )
    )
    if not addresses:
        raise OSError(f"{host} has no IP address")
    for address in addresses:
        try:
            check_address(address, policy)
        except UnsafeEndpoint as exc:
            detail = f"{host} resolves to {address}, a {exc.reason} address"
            raise UnsafeEndpoint(exc.reason, detail) from None
    return addresses
