"""A reference partner system: another society's software exchanging records with Kintrace.

It uses the public HTTP API and its own key pair, nothing else (it imports nothing of Kintrace),
so it is also the worked example of an integration. The flow:

1. `keygen`: the partner makes an EC P-256 key pair and gives only the public half, a JWK Set,
   to the Kintrace operator, who registers the client for the partner's society and tells it
   the client id:

       python reference_partner.py keygen --key-file drk.pem --jwks-file drk.jwks.json
       kintrace clients create "DRK case system" --society drk --jwks drk.jwks.json

2. `run`: the exchange itself.

   a. Access token: `POST /v1/auth/token` with `grant_type=client_credentials` and a client
      assertion, a JWT the partner signs with its private key (`iss` = `sub` = client id,
      `aud` = the token endpoint's URL, valid one minute, a unique `jti`, the key's `kid` in the
      header). Access tokens live minutes; a new one is fetched when needed. Every API call
      also states its purpose: `Kintrace-Purpose: exchange`.
   b. Webhooks: a small HTTP receiver listens on 127.0.0.1, and `POST /v1/webhook-subscriptions`
      registers its URL; the response carries the signing secret, once. The receiver verifies
      every delivery's Standard Webhooks signature with that secret (401 otherwise) and
      processes each `webhook-id` once: the service sends a message again when it did not get
      the acknowledgement.
   c. Records: the partner registers a tracing request (an enquirer looking for his mother) and
      a registration (a woman found safe and well) of its own society; the matcher proposes the
      pair, announced on the society's feed as `candidate.proposed`.
   d. Shared records: `GET /v1/shared/persons` lists the persons other societies' grants let the
      partner read, each with exactly the granted fields; it keeps local copies.
   e. Candidates: on each `candidate.proposed` it reads the link (`GET /v1/candidate-links/{id}`,
      scope `candidates:read`). A link with a `partner_society` was matched across societies
      under a grant: our person is shown, the other society's only by reference until both
      societies' reviewers confirm.
   f. Tombstones: `person.erased` (delete that person) and `grant.revoked` (delete everything
      received under that grant) are applied to the local copies.

   It runs until it has read shared records, every `--wait-for` event type was delivered
   and acknowledged, and no message came for `--quiet` seconds (or `--timeout` passes: exit
   code 1), reads `/v1/shared/persons` once more, and writes what it observed as JSON to
   `--out`.

       python reference_partner.py run --base-url https://kintrace.example.org \\
           --client-id kc-drk-... --key-file drk.pem --out observed.json \\
           --wait-for candidate.proposed --wait-for person.erased --wait-for grant.revoked

Progress is printed one line at a time on standard output.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import queue
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jose import jwt
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

PURPOSE = {"Kintrace-Purpose": "exchange"}
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_SECONDS = 60
POLL_SECONDS = 0.25
TOMBSTONES = ("person.erased", "person.consent_withdrawn", "person.do_not_trace")


def say(message: str) -> None:
    """One line of progress on standard output."""
    print(f"partner: {message}", flush=True)


# --- the key pair and the client assertion ------------------------------------------------------


def b64url(data: bytes) -> str:
    """base64url without padding (JOSE)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class PartnerKey:
    """The partner's EC P-256 signing key; `kid` is its RFC 7638 thumbprint."""

    private_pem: bytes

    @classmethod
    def generate(cls) -> PartnerKey:
        private = ec.generate_private_key(ec.SECP256R1())
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return cls(pem)

    @classmethod
    def load(cls, path: Path) -> PartnerKey:
        return cls(path.read_bytes())

    def save(self, path: Path) -> None:
        """Write the private key, readable by its owner only."""
        path.touch(mode=0o600)
        path.write_bytes(self.private_pem)

    def public_jwk(self) -> dict[str, str]:
        """The public key as a JWK (no private member), with `kid`, `alg` and `use`."""
        private = serialization.load_pem_private_key(self.private_pem, password=None)
        assert isinstance(private, ec.EllipticCurvePrivateKey)
        numbers = private.public_key().public_numbers()
        point = {
            "crv": "P-256",
            "kty": "EC",
            "x": b64url(numbers.x.to_bytes(32, "big")),
            "y": b64url(numbers.y.to_bytes(32, "big")),
        }
        canonical = json.dumps(point, separators=(",", ":"), sort_keys=True).encode()
        kid = b64url(hashlib.sha256(canonical).digest())
        return {**point, "kid": kid, "alg": "ES256", "use": "sig"}

    @property
    def kid(self) -> str:
        return self.public_jwk()["kid"]


def client_assertion(client_id: str, token_endpoint: str, key: PartnerKey) -> str:
    """A `private_key_jwt` client assertion (RFC 7523): who we are, for whom, for one minute."""
    now = int(time.time())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": token_endpoint,
        "iat": now,
        "exp": now + ASSERTION_SECONDS,
        "jti": str(uuid.uuid4()),  # single use: the service refuses a replayed assertion
    }
    signed: str = jwt.encode(
        claims, key.private_pem.decode(), algorithm="ES256", headers={"kid": key.kid}
    )
    return signed


def request_token(
    http: httpx.Client, client_id: str, token_endpoint: str, key: PartnerKey
) -> httpx.Response:
    """`POST /v1/auth/token` with the client_credentials grant and a fresh assertion."""
    return http.post(
        token_endpoint,
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": JWT_BEARER,
            "client_assertion": client_assertion(client_id, token_endpoint, key),
        },
    )


# --- the API client -----------------------------------------------------------------------------


class ApiError(RuntimeError):
    """The service answered an API call with an error."""


class Kintrace:
    """The partner's view of the API: authenticated calls stating the purpose `exchange`."""

    def __init__(self, base_url: str, client_id: str, key: PartnerKey) -> None:
        self.base_url = base_url.rstrip("/")
        self.token_endpoint = f"{self.base_url}/v1/auth/token"
        self.client_id = client_id
        self.key = key
        self.http = httpx.Client(base_url=self.base_url, timeout=10.0)
        self._token: str | None = None
        self._token_expires = 0.0

    def close(self) -> None:
        self.http.close()

    def token(self) -> str:
        """A valid access token (a new one shortly before the current one expires)."""
        if self._token is None or time.monotonic() > self._token_expires - 30:
            issued = request_token(self.http, self.client_id, self.token_endpoint, self.key)
            if issued.status_code != 200:
                raise ApiError(f"token refused: {issued.status_code} {issued.text}")
            body = issued.json()
            self._token = body["access_token"]
            self._token_expires = time.monotonic() + body["expires_in"]
            say(f"access token issued (scope: {body['scope']})")
        return self._token

    def call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        """One API call; its JSON body (ApiError for anything but 2xx)."""
        sent = {"Authorization": f"Bearer {self.token()}", **PURPOSE, **(headers or {})}
        response = self.http.request(method, path, json=body, params=params, headers=sent)
        if not response.is_success:
            raise ApiError(f"{method} {path}: {response.status_code} {response.text}")
        return response.json()

    def create_record(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST a tracing request or a registration; the `Idempotency-Key` makes a retry
        after a lost answer return the first result instead of a second record."""
        created: dict[str, Any] = self.call(
            "POST", path, body, headers={"Idempotency-Key": str(uuid.uuid4())}
        )
        return created

    def subscribe(self, url: str) -> dict[str, Any]:
        """Register our webhook endpoint for every event type; the answer holds the secret."""
        subscription: dict[str, Any] = self.call("POST", "/v1/webhook-subscriptions", {"url": url})
        return subscription

    def candidate_link(self, link_id: str) -> dict[str, Any]:
        """A candidate link on our records, as our society may see it."""
        link: dict[str, Any] = self.call("GET", f"/v1/candidate-links/{link_id}")
        return link

    def shared_persons(self) -> list[dict[str, Any]]:
        """Every person other societies share with us now, page after page."""
        persons: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            page = self.call(
                "GET", "/v1/shared/persons", params={"cursor": cursor} if cursor else None
            )
            persons += page["items"]
            cursor = page["next_cursor"]
            if not cursor:
                return persons


# --- the webhook receiver -----------------------------------------------------------------------


class WebhookReceiver:
    """Kintrace's webhooks, received on 127.0.0.1 (a free port) at `/webhooks`.

    Each delivery is verified against the subscription's secret (401 if it does not verify)
    and processed once per `webhook-id`: a repeated id is acknowledged and ignored. Processed
    events wait in `events` for the main thread. With `simulate_lost_acks` the first delivery
    of every message is processed but answered 503, as if the acknowledgement had been lost,
    so that the service sends it again and the deduplication is exercised.
    """

    def __init__(self, simulate_lost_acks: bool = False) -> None:
        self.secret: str | None = None
        self.simulate_lost_acks = simulate_lost_acks
        self.events: queue.Queue[dict[str, Any]] = queue.Queue()
        self.deliveries: list[dict[str, Any]] = []  # every delivery and how it was answered
        self.acknowledged: set[str] = set()  # event types answered 200 at least once
        self._processed: set[str] = set()  # webhook ids
        self._answered: set[str] = set()  # webhook ids answered 200
        self.last_delivery = time.monotonic()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/webhooks"

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def receive(self, headers: dict[str, str], body: bytes) -> int:
        """Verify, deduplicate and queue one delivery; the status to answer."""
        if self.secret is None:
            return 503  # not subscribed yet: the service will try again
        try:
            payload = Webhook(self.secret).verify(body, headers)
        except (WebhookVerificationError, ValueError):
            self._log(headers.get("webhook-id"), None, verified=False, answer=401)
            return 401
        webhook_id = headers["webhook-id"]
        self.last_delivery = time.monotonic()
        with self._lock:
            first = webhook_id not in self._processed
            if first:
                self._processed.add(webhook_id)
                self.events.put({"webhook_id": webhook_id, **payload})
            answer = 503 if first and self.simulate_lost_acks else 200
            if answer == 200:
                self.acknowledged.add(payload["type"])
                self._answered.add(webhook_id)
            self._log(
                webhook_id, payload["type"], verified=True, answer=answer, duplicate=not first
            )
        return answer

    def settled(self, quiet_seconds: float) -> bool:
        """Every message processed has been acknowledged (none is still to come again) and
        nothing arrived for `quiet_seconds` (events that come in bursts have all come)."""
        with self._lock:
            answered = self._processed <= self._answered
        return answered and time.monotonic() - self.last_delivery >= quiet_seconds

    def _log(self, webhook_id: str | None, event_type: str | None, **how: Any) -> None:
        self.deliveries.append({"webhook_id": webhook_id, "type": event_type, **how})
        say(f"webhook {webhook_id} {event_type}: {how}")

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status = 404
                if self.path == "/webhooks":
                    status = receiver.receive({k.lower(): v for k, v in self.headers.items()}, body)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass  # `_log` says what matters

        return Handler


# --- what the partner does ----------------------------------------------------------------------

ENQUIRER = {
    "role": "enquirer",
    "names": [{"kind": "primary", "full_name": "Yusuf Ahmed Karimi"}],
    "sex": "male",
    "birth_date": {"text": "ca. 1988"},
}
SOUGHT_MOTHER = {
    "role": "sought_person",
    "relationship_to_enquirer": "mother",
    "names": [{"kind": "primary", "full_name": "فاطمة حسن"}],
    "sex": "female",
    "birth_date": {"text": "1960-03-07"},
    "birth_place": {"text": "حلب"},
    "father_name": "حسن محمود",
    "last_known_place": {"text": "Idlib", "country_code": "SY"},
}
FOUND_MOTHER = {
    "registration_kind": "safe_and_well",
    "registration_source": "Reception centre list, Friedland",
    "registration_date": "2024-05-02",
    "names": [{"full_name": "Fatma Hasan"}],
    "sex": "female",
    "birth_date": {"text": "07/03/1960"},
    "birth_place": {"text": "Aleppo"},
    "father_name": "Hassan Mahmoud",
}


def handle_event(
    event: dict[str, Any],
    held: dict[str, dict[str, Any]],
    kintrace: Kintrace,
    candidates: list[dict[str, Any]],
) -> None:
    """Act on one (verified, first-seen) event. `held` are our copies of shared persons;
    proposed candidates are read and kept in `candidates`."""
    data = event["data"]
    if event["type"] in TOMBSTONES:
        dropped = held.pop(data["person_id"], None)
        say(f"{event['type']}: deleted our copy of {data['person_id']}: {dropped is not None}")
    elif event["type"] == "grant.revoked":
        under = [pid for pid, person in held.items() if person["grant_id"] == data["grant_id"]]
        for person_id in under:
            del held[person_id]
        say(f"grant.revoked: deleted {len(under)} record(s) received under {data['grant_id']}")
    elif event["type"] == "candidate.proposed":
        link = kintrace.candidate_link(data["link_id"])
        candidates.append(link)
        across = (
            f" across societies with {link['partner_society']}" if link["partner_society"] else ""
        )
        say(f"candidate.proposed: link {link['id']}{across}")
    else:  # other candidate.* and decision.recorded: our caseworkers follow up in Kintrace
        say(f"{event['type']}: link {data.get('link_id')} of {data.get('society')}")


def run(args: argparse.Namespace) -> int:
    """Subscribe, send records, read shared ones, apply tombstones; write what was observed."""
    kintrace = Kintrace(args.base_url, args.client_id, PartnerKey.load(args.key_file))
    deadline = time.monotonic() + args.timeout
    waited_for = set(args.wait_for)
    held: dict[str, dict[str, Any]] = {}
    events: list[dict[str, Any]] = []
    candidates: list[dict[str, Any]] = []
    observed: dict[str, Any] = {"client_id": args.client_id}
    try:
        with WebhookReceiver(args.simulate_lost_acks) as receiver:
            say(f"listening for webhooks at {receiver.url}")
            subscription = kintrace.subscribe(receiver.url)
            receiver.secret = subscription.pop("secret")
            observed["subscription"] = subscription
            say(f"subscribed {subscription['id']}")

            request = kintrace.create_record(
                "/v1/tracing-requests", {"persons": [ENQUIRER, SOUGHT_MOTHER]}
            )
            found = kintrace.create_record("/v1/registrations", FOUND_MOTHER)
            observed["sent"] = {"tracing_request": request["id"], "registration": found["id"]}
            say(f"sent tracing request {request['id']} and registration {found['id']}")

            shared_read: list[dict[str, Any]] = []
            while time.monotonic() < deadline:
                if not shared_read:
                    shared_read = kintrace.shared_persons()
                    held.update((person["id"], person) for person in shared_read)
                    if shared_read:
                        say(f"read {len(shared_read)} shared person(s)")
                while not receiver.events.empty():
                    event = receiver.events.get()
                    events.append(event)
                    handle_event(event, held, kintrace, candidates)
                if (
                    shared_read
                    and waited_for <= receiver.acknowledged
                    and receiver.settled(args.quiet)
                ):
                    break
                time.sleep(POLL_SECONDS)
            missing = sorted(waited_for - receiver.acknowledged)
            observed |= {
                "completed": bool(shared_read) and not missing,
                "missing_events": missing,
                "shared_read": shared_read,
                "shared_at_end": kintrace.shared_persons(),
                "held_at_end": sorted(held),
                "events": events,
                "candidates": candidates,
                "deliveries": receiver.deliveries,
            }
    finally:
        kintrace.close()
    args.out.write_text(json.dumps(observed, indent=2, ensure_ascii=False), encoding="utf-8")
    say(f"done: completed={observed['completed']}, wrote {args.out}")
    return 0 if observed["completed"] else 1


def keygen(args: argparse.Namespace) -> int:
    """Make the key pair; write the private key and the public JWK Set for the operator."""
    key = PartnerKey.generate()
    key.save(args.key_file)
    args.jwks_file.write_text(json.dumps({"keys": [key.public_jwk()]}, indent=2), encoding="utf-8")
    say(f"key {key.kid}: private key in {args.key_file}, public JWK Set in {args.jwks_file}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("keygen", help="Make the partner's key pair.")
    make.add_argument("--key-file", type=Path, required=True, help="Private key (PEM) to write.")
    make.add_argument("--jwks-file", type=Path, required=True, help="Public JWK Set to write.")
    make.set_defaults(action=keygen)
    exchange = commands.add_parser("run", help="Exchange records with Kintrace.")
    exchange.add_argument("--base-url", required=True, help="Kintrace's public URL.")
    exchange.add_argument("--client-id", required=True, help="Our client id.")
    exchange.add_argument("--key-file", type=Path, required=True, help="Our private key (PEM).")
    exchange.add_argument("--out", type=Path, required=True, help="Where to write the JSON.")
    exchange.add_argument(
        "--wait-for", action="append", default=[], help="An event type to wait for (repeat)."
    )
    exchange.add_argument("--timeout", type=float, default=60.0, help="Give up after seconds.")
    exchange.add_argument(
        "--quiet", type=float, default=2.0, help="Seconds without a message before finishing."
    )
    exchange.add_argument(
        "--simulate-lost-acks",
        action="store_true",
        help="Answer each message's first delivery 503 (exercises the deduplication).",
    )
    exchange.set_defaults(action=run)
    args = parser.parse_args(argv)
    status: int = args.action(args)
    return status


if __name__ == "__main__":
    sys.exit(main())
