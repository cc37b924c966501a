"""Delivering to a real local receiver: what counts as success, and what never gets through.

The receiver is a tiny HTTP/1.1 server on 127.0.0.1 (plain or TLS with a throwaway CA) that
records connections and requests, so each test can also assert what did NOT reach it.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from service.webhooks.signing import new_secret, sign_headers, verify
from service.webhooks.ssrf import EndpointPolicy
from service.webhooks.transport import DeliveryResult, deliver, make_client
from tests.service.webhooks.test_ssrf import patch_dns

LOCAL = EndpointPolicy(allow_loopback=True, allow_http=True, ports=None)
BODY = b'{"type":"person.updated","data":{"id":"p-1"}}'


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Answers by path: /ok 200, /fail 500, /redirect 302 to /target, /big a 50 MB body that
    never comes, /slow nothing until stopped."""

    requests: list[Seen] = field(default_factory=list)
    connections: int = 0
    server_names: list[str | None] = field(default_factory=list)
    port: int = 0
    _server: asyncio.Server | None = None
    _closing: asyncio.Event = field(default_factory=asyncio.Event)
    _open: dict[asyncio.StreamWriter, asyncio.Task[None]] = field(default_factory=dict)

    async def start(self, tls: ssl.SSLContext | None = None) -> None:
        if tls is not None:
            tls.sni_callback = lambda _, name, __: self.server_names.append(name)
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=tls)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening and end every handler (by closing its socket, not by cancelling)."""
        assert self._server is not None
        self._server.close()
        self._closing.set()
        for writer in self._open:
            writer.transport.abort()
        await asyncio.gather(*self._open.values())
        await self._server.wait_closed()

    def paths(self) -> list[str]:
        return [seen.path for seen in self.requests]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._open[writer] = task
        self.connections += 1
        try:
            while not self._closing.is_set():  # keep-alive
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
                request_line, *lines = head.split("\r\n")[:-2]
                method, path, _ = request_line.split(" ", 2)
                headers = {}
                for line in lines:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                self.requests.append(Seen(method, path, headers, body))
                await self._answer(path, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
            del self._open[writer]

    async def _answer(self, path: str, writer: asyncio.StreamWriter) -> None:
        status, extra, body = {
            "/ok": (200, "", b"thanks"),
            "/fail": (500, "", b"oops"),
            "/redirect": (302, f"Location: http://127.0.0.1:{self.port}/target\r\n", b""),
            "/target": (200, "", b""),
        }.get(path, (404, "", b""))
        if path == "/big":
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 50000000\r\n\r\n" + b"x" * 1024)
            await writer.drain()
        if path in ("/slow", "/big"):
            await self._closing.wait()
            return
        head = f"HTTP/1.1 {status} X\r\nContent-Length: {len(body)}\r\n{extra}\r\n"
        writer.write(head.encode() + body)
        await writer.drain()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    server = Receiver()
    await server.start()
    yield server
    await server.stop()


async def _send(url: str, policy: EndpointPolicy = LOCAL) -> DeliveryResult:
    async with make_client(policy) as client:
        return await deliver(client, url, BODY, {"content-type": "application/json"}, policy)


async def test_a_200_is_ok_and_the_receiver_verifies_the_signature(receiver):
    secret = new_secret()
    headers = sign_headers(secret, "msg_1", datetime.now(UTC), BODY)
    async with make_client(LOCAL) as client:
        result = await deliver(client, f"http://127.0.0.1:{receiver.port}/ok", BODY, headers, LOCAL)
    assert result == DeliveryResult(200, None, ok=True)
    [seen] = receiver.requests
    assert (seen.method, seen.body) == ("POST", BODY)
    assert seen.headers["user-agent"].startswith("Kintrace-Webhooks")
    assert verify(secret, seen.headers, seen.body) == "msg_1"


async def test_a_500_is_a_failure_with_its_status(receiver):
    result = await _send(f"http://127.0.0.1:{receiver.port}/fail")
    assert result == DeliveryResult(500, "HTTP 500", ok=False)


async def test_a_redirect_is_a_failure_and_never_followed(receiver):
    result = await _send(f"http://127.0.0.1:{receiver.port}/redirect")
    assert (result.ok, result.status_code) == (False, 302)
    assert receiver.paths() == ["/redirect"]


async def test_a_refused_connection_is_a_failure_not_an_exception():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = await _send(f"http://127.0.0.1:{port}/ok")
    assert (result.ok, result.status_code, result.refused) == (False, None, False)
    assert result.error and "ConnectError" in result.error


async def test_a_slow_endpoint_times_out(receiver):
    async with make_client(LOCAL) as client:
        url = f"http://127.0.0.1:{receiver.port}/slow"
        result = await deliver(client, url, BODY, {}, LOCAL, timeout=0.5)
    assert (result.ok, result.error) == (False, "timed out after 0.5s")


async def test_a_large_body_is_not_read(receiver):
    started = time.monotonic()
    async with make_client(LOCAL) as client:
        url = f"http://127.0.0.1:{receiver.port}/big"
        result = await deliver(client, url, BODY, {}, LOCAL, timeout=3)
    assert result == DeliveryResult(200, None, ok=True)
    assert time.monotonic() - started < 2


async def test_small_answers_let_the_connection_be_reused(receiver):
    async with make_client(LOCAL) as client:
        for _ in range(3):
            url = f"http://127.0.0.1:{receiver.port}/ok"
            assert (await deliver(client, url, BODY, {}, LOCAL)).ok
    assert (len(receiver.requests), receiver.connections) == (3, 1)


@pytest.mark.parametrize(
    ("policy", "reason"),
    [(EndpointPolicy(), "scheme"), (EndpointPolicy(allow_http=True, ports=None), "loopback")],
)
async def test_the_default_policy_refuses_before_connecting(receiver, policy, reason):
    result = await _send(f"http://127.0.0.1:{receiver.port}/ok", policy)
    assert (result.ok, result.refused, result.status_code) == (False, True, None)
    assert result.error and result.error.startswith(f"refused: {reason}")
    assert receiver.connections == 0


async def test_the_clients_own_policy_is_checked_at_connect(receiver):
    async with make_client(EndpointPolicy(allow_http=True, ports=None)) as client:
        url = f"http://127.0.0.1:{receiver.port}/ok"
        result = await deliver(client, url, BODY, {}, LOCAL)
    assert (result.ok, result.refused) == (False, True)
    assert receiver.connections == 0


async def test_the_client_connects_nowhere_outside_deliver(receiver):
    async with make_client(LOCAL) as client:
        with pytest.raises(httpx.ConnectError, match="no vetted address"):
            await client.post(f"http://127.0.0.1:{receiver.port}/ok")
    assert receiver.connections == 0
    async with httpx.AsyncClient() as plain:
        with pytest.raises(TypeError, match="make_client"):
            await deliver(plain, f"http://127.0.0.1:{receiver.port}/ok", BODY, {}, LOCAL)


async def test_the_connection_goes_to_the_vetted_address_with_the_hosts_name(receiver, monkeypatch):
    asked = patch_dns(monkeypatch, {"partner.example": ["127.0.0.1"]})
    result = await _send(f"http://partner.example:{receiver.port}/ok")
    assert result.ok
    assert receiver.requests[0].headers["host"] == f"partner.example:{receiver.port}"
    assert asked == ["partner.example"]  # resolved once, by the check; httpx did not


@pytest.mark.parametrize(
    ("vetted", "later", "arrives"),
    [("127.0.0.1", "127.0.0.2", True), ("127.0.0.2", "127.0.0.1", False)],
)
async def test_a_rebinding_name_cannot_move_the_connection(
    receiver, monkeypatch, vetted, later, arrives
):
    answers = iter([[vetted]])
    real = asyncio.get_running_loop().getaddrinfo

    async def rebinding(host: str, port: int, **kwargs: object) -> object:
        if host != "rebind.example":
            return await real(host, port, **kwargs)
        address = next(answers, [later])[0]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", rebinding)
    result = await _send(f"http://rebind.example:{receiver.port}/ok")
    assert result.ok is arrives
    assert len(receiver.requests) == (1 if arrives else 0)


def _tls_contexts(folder: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context for `partner.test` signed by a throwaway CA, and a client trusting it."""
    now = datetime.now(UTC)

    def certificate(subject: str, key: ec.EllipticCurvePrivateKey, ca: bool) -> x509.Certificate:
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
        builder = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test CA")]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(hours=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
            )
        )
        if not ca:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.DNSName(subject)]), critical=False
            ).add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
        return builder.sign(ca_key, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    ca_pem = certificate("test CA", ca_key, ca=True).public_bytes(serialization.Encoding.PEM)
    leaf_pem = certificate("partner.test", leaf_key, ca=False).public_bytes(
        serialization.Encoding.PEM
    )
    (folder / "cert.pem").write_bytes(leaf_pem + ca_pem)
    (folder / "key.pem").write_bytes(
        leaf_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    return server, ssl.create_default_context(cadata=ca_pem.decode())


async def test_tls_verifies_the_hostname_while_connecting_to_the_pinned_address(
    tmp_path, monkeypatch
):
    server_tls, client_tls = _tls_contexts(tmp_path)
    receiver = Receiver()
    await receiver.start(server_tls)
    patch_dns(monkeypatch, {"partner.test": ["127.0.0.1"], "impostor.test": ["127.0.0.1"]})
    try:
        async with make_client(LOCAL, ssl_context=client_tls) as client:
            good = await deliver(
                client, f"https://partner.test:{receiver.port}/ok", BODY, {}, LOCAL
            )
            bad = await deliver(
                client, f"https://impostor.test:{receiver.port}/ok", BODY, {}, LOCAL
            )
    finally:
        await receiver.stop()
    assert good == DeliveryResult(200, None, ok=True)
    [seen] = receiver.requests
    assert seen.headers["host"] == f"partner.test:{receiver.port}"
    assert receiver.server_names == ["partner.test", "impostor.test"]  # SNI of each handshake
    assert (bad.ok, bad.status_code) == (False, None)
    assert bad.error and "CERTIFICATE_VERIFY_FAILED" in bad.error
