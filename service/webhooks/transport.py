"""One webhook delivery attempt, connecting only to addresses the endpoint policy vetted.

Pinning the address. Checking a name's addresses and then letting the HTTP client resolve the
name again to connect leaves a window in which the answer can change (DNS rebinding: a public
address for the check, 127.0.0.1 for the connection). So `deliver` resolves once, with
`resolve_safe`, and puts the vetted addresses of (host, port) in a context variable for the
duration of the request. The client from `make_client` has a custom httpcore network backend
whose `connect_tcp(host, port)` connects to those addresses in turn and to nothing else: with no
pin it fails (so the client cannot be used around `deliver`), and it checks every address
against the client's own policy once more. The URL keeps its hostname, so httpx sends
`Host: <hostname>`, TLS sends the hostname as SNI and verifies the certificate against it, and
the pool keys connections by hostname (a kept-alive connection is reused only for that name).

The alternative, requesting `https://<ip>/` with a `Host` header and the `sni_hostname` request
extension, pools connections by IP: a partner's request could then ride on a TLS session that
was verified for another partner sharing the address. httpx 0.28 has no parameter for the
network backend, so `_PinnedTransport` replaces the pool that `AsyncHTTPTransport` builds with an
identical one that uses the pinned backend.

No redirect is ever followed (a 3xx is a failure: its target was not vetted), proxies from the
environment are ignored (`trust_env=False`), a response body is read only when its declared
length is at most `RESPONSE_BODY_CAP` (else the connection is dropped unread), and every failure
becomes a `DeliveryResult` with a short reason.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx

from service.webhooks.ssrf import (
    DEFAULT_POLICY,
    EndpointPolicy,
    IPAddress,
    UnsafeEndpoint,
    check_address,
    parse_url,
    resolve_safe,
)

DEFAULT_TIMEOUT = 10.0
RESPONSE_BODY_CAP = 4096
USER_AGENT = "Kintrace-Webhooks/1"
_DROPPED_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection"})
_MAX_ERROR_LENGTH = 300

_Pins = Mapping[tuple[str, int], tuple[IPAddress, ...]]
_PINS: ContextVar[_Pins | None] = ContextVar("kintrace_webhook_pins", default=None)


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    """How one attempt went. `refused`: the policy refused the endpoint (no request was sent)."""

    status_code: int | None
    error: str | None
    ok: bool
    refused: bool = False


class _PinnedBackend(httpcore.AsyncNetworkBackend):
    """Connects a (host, port) only to the addresses `deliver` pinned for it."""

    def __init__(self, policy: EndpointPolicy) -> None:
        self._policy = policy
        self._backend = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = (_PINS.get() or {}).get((host, port))
        if not addresses:
            raise httpcore.ConnectError(f"no vetted address for {host}:{port}; use deliver()")
        failure = httpcore.ConnectError("no address")
        for address in addresses:
            check_address(address, self._policy)
            try:
                return await self._backend.connect_tcp(
                    str(address),
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except httpcore.ConnectError as exc:
                failure = exc
        raise failure

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("webhooks are delivered over TCP only")

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)


class _PinnedTransport(httpx.AsyncHTTPTransport):
    def __init__(self, policy: EndpointPolicy, ssl_context: ssl.SSLContext) -> None:
        limits = httpx.Limits(max_connections=50, max_keepalive_connections=10)
        super().__init__(verify=ssl_context, trust_env=False, limits=limits)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_PinnedBackend(policy),
        )


class WebhookClient(httpx.AsyncClient):
    """An httpx client that connects only to addresses pinned by `deliver`; see `make_client`."""

    def __init__(self, policy: EndpointPolicy, ssl_context: ssl.SSLContext | None = None) -> None:
        context = ssl_context or httpx.create_ssl_context(trust_env=False)
        super().__init__(
            transport=_PinnedTransport(policy, context),
            follow_redirects=False,
            trust_env=False,
            timeout=DEFAULT_TIMEOUT,
            headers={"user-agent": USER_AGENT},
        )
        self.policy = policy


def make_client(
    policy: EndpointPolicy = DEFAULT_POLICY, *, ssl_context: ssl.SSLContext | None = None
) -> WebhookClient:
    """The client to pass to `deliver`; close it (`aclose`/`async with`) when done.

    `ssl_context` replaces the default trust (certifi's CA bundle), e.g. for a private CA.
    """
    return WebhookClient(policy, ssl_context)


def _failed(error: str, *, refused: bool = False) -> DeliveryResult:
    return DeliveryResult(None, error[:_MAX_ERROR_LENGTH], ok=False, refused=refused)


async def _attempt(
    client: WebhookClient,
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    policy: EndpointPolicy,
    timeout: float,
) -> DeliveryResult:
    parsed, port = parse_url(url, policy)
    addresses = await resolve_safe(url, policy)
    sent = {name: value for name, value in headers.items() if name.lower() not in _DROPPED_HEADERS}
    request = client.build_request("POST", parsed, content=body, headers=sent, timeout=timeout)
    token = _PINS.set({(parsed.raw_host.decode("ascii"), port): tuple(addresses)})
    try:
        response = await client.send(request, stream=True, follow_redirects=False)
    finally:
        _PINS.reset(token)
    try:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) <= RESPONSE_BODY_CAP:
            await response.aread()  # bounded by the length; lets the connection be reused
    finally:
        await response.aclose()
    status = response.status_code
    if 200 <= status < 300:
        return DeliveryResult(status, None, ok=True)
    if 300 <= status < 400:
        return DeliveryResult(status, f"HTTP {status}: redirects are not followed", ok=False)
    return DeliveryResult(status, f"HTTP {status}", ok=False)


async def deliver(
    client: httpx.AsyncClient,
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    policy: EndpointPolicy = DEFAULT_POLICY,
    timeout: float = DEFAULT_TIMEOUT,
) -> DeliveryResult:
    """POST `body` to a partner endpoint once; `ok` only for a 2xx. Never raises on failure.

    `client` comes from `make_client`; `headers` are typically `signing.sign_headers(...)`
    (`Host`, `Content-Length` and other framing headers are set here). `timeout` bounds the
    whole attempt: resolution, connection, request, response headers and the capped body.
    """
    if not isinstance(client, WebhookClient):
        raise TypeError("deliver() needs a client from make_client(): it pins vetted addresses")
    try:
        async with asyncio.timeout(timeout):
            return await _attempt(client, url, body, headers, policy, timeout)
    except UnsafeEndpoint as exc:
        return _failed(f"refused: {exc}", refused=True)
    except (TimeoutError, httpx.TimeoutException):
        return _failed(f"timed out after {timeout:g}s")
    except httpx.HTTPError as exc:
        return _failed(f"{type(exc).__name__}: {exc}")
    except OSError as exc:  # resolve_safe: the name does not resolve
        return _failed(f"cannot resolve the host: {exc}")
    except Exception as exc:  # a failed attempt must never take the outbox worker down
        return _failed(f"{type(exc).__name__}: {exc}")
