"""The reference partner of issue 7 against a real `kintrace serve`.

A second process, `reference_partner.py`, acts as the German society's (`drk`) system: it uses
only the public API and its own key pair to obtain a token, subscribe to webhooks, send records,
read what Luxembourg (`lux`) shares with it, and receive candidates and tombstones, then writes
what it observed as JSON. Meanwhile the test, as Luxembourg's supervisor and data-protection
officer over HTTP, registers persons, grants `drk` three fields of its registrations, erases
one shared person and revokes the grant. The societies, users and the partner client (its
public key only) are made with the `kintrace` CLI; no database row is touched otherwise.

The service runs with its embedded PostgreSQL in a temporary folder and one worker (matching
and webhook delivery), as in `tests/service/test_serve_process.py`, in the suite's embedded pass
(against an external server it would repeat that pass exactly).
"""

from __future__ import annotations

import ast
import base64
import datetime
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest
from standardwebhooks.webhooks import Webhook

from tests.conftest import EMBEDDED_ONLY
from tests.partner.reference_partner import PartnerKey, request_token
from tests.service.test_embedded import postgres_processes
from tests.service.test_serve_process import free_port

PARTNER = Path(__file__).with_name("reference_partner.py")
PARTNER_LIBRARIES = {"httpx", "jose", "cryptography", "standardwebhooks"}
PASSWORD = "a long enough demo password"
LUX, DRK = "lux", "drk"
GRANTED = ["names", "sex", "birth_date"]
SHARED_BASE = {"id", "society", "grant_id", "role", "status", "tracing_request_id", "fields"}
PRIVATE_JWK_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "k"}
WITHHELD = ("Arrived alone", "+352 621 000 000", "Centre Lily Unden", "Reception list Mersch")
PARTNER_TIMEOUT = 40


@dataclass
class Service:
    """A running `kintrace serve`, its environment (shared with the CLI) and its log."""

    data_dir: Path
    port: int
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def cli(self, *commands: list[str]) -> list[str]:
        """Run `kintrace` commands side by side against the same database (each gets
        `PASSWORD` on standard input, which `users create` reads); their outputs."""
        running = [
            subprocess.Popen(
                [sys.executable, "-m", "service.cli", *args],
                env=self.env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for args in commands
        ]
        outputs = []
        try:
            for process in running:
                stdout, stderr = process.communicate(PASSWORD + "\n", timeout=120)
                assert process.returncode == 0, f"{process.args!r}\n{stdout}{stderr}"
                outputs.append(stdout)
        finally:
            for process in running:
                if process.poll() is None:
                    process.kill()
                    process.communicate()
        return outputs

    def stop(self) -> int | None:
        """Stop the server (SIGINT, then SIGKILL after a minute); its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)
        return self.process.returncode


def wait_ready(service: Service) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert service.process.poll() is None, service.log_tail()
        try:
            if httpx.get(f"{service.base_url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"the service did not become ready\n{service.log_tail()}")


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """`kintrace serve` with a worker, webhooks allowed to 127.0.0.1 over http, quick retries."""
    data_dir = Path(tempfile.mkdtemp(prefix="kintrace-partner-"))
    data_dir.chmod(0o755)  # the embedded server may run as another user
    port = free_port()
    env = {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "KINTRACE_DATABASE_URL"}
    }
    env |= {
        "KINTRACE_DATA_DIR": str(data_dir),
        "KINTRACE_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "KINTRACE_LOG_JSON": "true",
        # For the CLI commands: serve migrates (its --migrate overrides this), they only check.
        "KINTRACE_MIGRATE_ON_START": "false",
        "KINTRACE_WORKERS": "1",
        "KINTRACE_WEBHOOK_ALLOW_LOOPBACK": "true",
        "KINTRACE_WEBHOOK_ALLOW_HTTP": "true",
        "KINTRACE_WEBHOOK_ANY_PORT": "true",
        "KINTRACE_WEBHOOK_RETRY_BASE_SECONDS": "0.2",
        "KINTRACE_WEBHOOK_RETRY_CAP_SECONDS": "1",
        "KINTRACE_WEBHOOK_TIMEOUT_SECONDS": "5",
    }
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "service.cli", "serve", "--port", str(port)],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    running = Service(data_dir, port, env, process, log)
    try:
        wait_ready(running)
        yield running
    finally:
        returncode = running.stop()
        leftovers = postgres_processes(data_dir)
        for leftover in leftovers:
            leftover.kill()
        shutil.rmtree(data_dir, ignore_errors=True)
    assert returncode == 0, f"serve did not stop cleanly\n{running.log_tail()}"
    assert leftovers == [], "serve left its PostgreSQL running"


@dataclass(frozen=True)
class Setup:
    """What the operator made: the partner's client (its key stays with the partner) and
    Luxembourg's supervisor's second factor."""

    key_file: Path
    client_id: str
    supervisor_totp: str


@pytest.fixture(scope="module")
def setup(service: Service, tmp_path_factory: pytest.TempPathFactory) -> Setup:
    """The partner makes its key pair; the operator creates the societies, Luxembourg's
    supervisor and data-protection officer, and registers the partner's public key as a `drk`
    client (independent commands run side by side: each starts a Python process)."""
    folder = tmp_path_factory.mktemp("partner")
    key_file, jwks_file = folder / "drk-partner.pem", folder / "drk-partner.jwks.json"
    with subprocess.Popen(
        [sys.executable, "-I", str(PARTNER), "keygen", "--key-file", str(key_file)]
        + ["--jwks-file", str(jwks_file)],
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as keygen:
        service.cli(
            ["societies", "create", LUX, "--name", "Croix-Rouge luxembourgeoise"],
            ["societies", "create", DRK, "--name", "Deutsches Rotes Kreuz"],
        )
        output, _ = keygen.communicate(timeout=60)
    assert keygen.returncode == 0, output
    (jwk,) = json.loads(jwks_file.read_text())["keys"]
    assert jwk["kty"] == "EC" and jwk["crv"] == "P-256" and jwk["alg"] == "ES256"
    assert not PRIVATE_JWK_MEMBERS & jwk.keys(), "the operator receives the public key only"
    client, supervisor, _ = service.cli(
        ["clients", "create", "DRK reference partner", "--society", DRK, "--jwks", str(jwks_file)],
        ["users", "create", "supervisor@lux", "--society", LUX, "--role", "supervisor"],
        ["users", "create", "dpo@lux", "--society", LUX, "--role", "data_protection_officer"],
    )
    assert f"assertion audience: {service.base_url}/v1/auth/token" in client
    client_id = re.search(r"client_id (\S+)", client)
    totp = re.search(r"TOTP secret: (\S+)", supervisor)
    assert client_id and totp, client + supervisor
    return Setup(key_file, client_id.group(1), totp.group(1))


# --- the partner program stands alone ------------------------------------------------------------


def test_the_partner_imports_nothing_of_the_service() -> None:
    """Only the standard library and the four libraries any partner would use."""
    tree = ast.parse(PARTNER.read_text(encoding="utf-8"))
    modules = {alias.name for n in ast.walk(tree) if isinstance(n, ast.Import) for alias in n.names}
    modules |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    packages = {module.split(".")[0] for module in modules}
    assert packages - PARTNER_LIBRARIES - set(sys.stdlib_module_names) == set()


# --- the token endpoint knows the partner by its public key only ---------------------------------


@EMBEDDED_ONLY
def test_an_assertion_signed_with_a_key_the_service_does_not_know_is_refused(
    service: Service, setup: Setup
) -> None:
    own_key = PartnerKey.load(setup.key_file)
    stranger = PartnerKey.generate()
    token_endpoint = f"{service.base_url}/v1/auth/token"

    @dataclass(frozen=True)
    class StolenKid(PartnerKey):
        """The stranger's key presented under the partner's registered `kid`."""

        @property
        def kid(self) -> str:
            return own_key.kid

    with httpx.Client(timeout=10) as http:
        for key in (stranger, StolenKid(stranger.private_pem)):
            refused = request_token(http, setup.client_id, token_endpoint, key)
            assert refused.status_code == 401, refused.text
            assert refused.json()["error"] == "invalid_client"
            assert "access_token" not in refused.json()
        accepted = request_token(http, setup.client_id, token_endpoint, own_key)
        assert accepted.status_code == 200, accepted.text


# --- the exchange ---------------------------------------------------------------------------------


class PartnerProcess:
    """The reference partner running as its own program; its output lines are collected."""

    def __init__(self, *args: str, cwd: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-I", str(PARTNER), *args],
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, pattern: str, timeout: float = 30, count: int = 1) -> re.Match[str]:
        """The `count`th output line matching `pattern` (fails if the partner exits first)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [match for line in list(self.lines) if (match := re.search(pattern, line))]
            if len(found) >= count:
                return found[count - 1]
            if self.process.poll() is not None and not self._reader.is_alive():
                break
            time.sleep(0.05)
        raise AssertionError(f"the partner never said {pattern!r}:\n{self.output}")

    def finish(self, timeout: float) -> int:
        """Wait for the partner to exit (kill it after `timeout`); its exit code."""
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self._reader.join(timeout=10)
        assert self.process.stdout is not None
        self.process.stdout.close()
        return self.process.returncode

    def __enter__(self) -> PartnerProcess:
        return self

    def __exit__(self, *_: object) -> None:
        """Kill the partner should the test fail while it runs."""
        if self.process.poll() is None:
            self.finish(timeout=0)


def sign_in(http: httpx.Client, username: str, otp: str | None = None) -> dict[str, str]:
    """The password grant (with a TOTP code where enrolled): bearer headers."""
    form = {"grant_type": "password", "username": username, "password": PASSWORD}
    issued = http.post("/v1/auth/token", data=form | ({"otp": otp} if otp else {}))
    assert issued.status_code == 200, issued.text
    return {"Authorization": f"Bearer {issued.json()['access_token']}"}


def create(http: httpx.Client, path: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    response = http.post(path, json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response


# Luxembourg registered the woman the partner's enquirer seeks, written yet another way: the
# grant lets the partner's society match her against its own sought mother.
LUX_MOTHER = {
    "registration_kind": "safe_and_well",
    "names": [{"full_name": "Fatima Hassan"}],
    "sex": "female",
    "birth_date": {"text": "1960-03-07"},
    "birth_place": {"text": "Aleppo"},
    "father_name": "Hassan Mahmoud",
}


def lux_records(http: httpx.Client, supervisor: dict[str, str]) -> dict[str, Any]:
    """Three registrations (`to_erase`, `kept`, `mother`) and a tracing request, in
    Luxembourg."""
    headers = supervisor | {"Kintrace-Purpose": "tracing"}
    to_erase = {
        "registration_kind": "safe_and_well",
        "registration_source": "Reception list Mersch",
        "registration_date": "2024-06-11",
        "names": [{"full_name": "Amina Yusuf Warsame"}],
        "sex": "female",
        "birth_date": {"text": "1994-02"},
        "notes": "Arrived alone, asks for her brother.",
        "contact": {"phone": "+352 621 000 000"},
        "current_place": {"text": "Centre Lily Unden"},
    }
    kept = {
        "registration_kind": "found",
        "names": [{"full_name": "Dawit Tesfaye"}],
        "sex": "male",
        "birth_date": {"text": "ca. 1979"},
    }
    request = {
        "circumstances": "Separated at sea.",
        "persons": [
            {"role": "enquirer", "names": [{"full_name": "Samira Haddad"}]},
            {
                "role": "sought_person",
                "relationship_to_enquirer": "father",
                "names": [{"full_name": "Omar Haddad"}],
                "sex": "male",
            },
        ],
    }
    return {
        "to_erase": create(http, "/v1/registrations", to_erase, headers).json(),
        "kept": create(http, "/v1/registrations", kept, headers).json(),
        "mother": create(http, "/v1/registrations", LUX_MOTHER, headers).json(),
        "request": create(http, "/v1/tracing-requests", request, headers).json(),
    }


def forge_webhooks(url: str) -> list[int]:
    """Post an unsigned and a wrongly signed `person.erased` to the partner's receiver."""
    body = json.dumps(
        {
            "type": "person.erased",
            "timestamp": datetime.datetime.now(datetime.UTC).isoformat(),
            "data": {"society": LUX, "person_id": "00000000-0000-4000-8000-000000000000"},
        }
    )
    now = datetime.datetime.now(datetime.UTC)
    wrong = Webhook(base64.b64encode(secrets.token_bytes(32)))
    signed = {
        "webhook-id": "msg_forged_signed",
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": wrong.sign("msg_forged_signed", now, body),
    }
    unsigned = {"webhook-id": "msg_forged_unsigned"}
    with httpx.Client(timeout=10) as http:
        return [
            http.post(
                url, content=body, headers=headers | {"content-type": "application/json"}
            ).status_code
            for headers in (unsigned, signed)
        ]


def wait_until_sent(http: httpx.Client, dpo: dict[str, str], ids: set[str], client_id: str) -> None:
    """Until Luxembourg's transfers ledger shows `ids` sent to the partner (it read them)."""
    headers = dpo | {"Kintrace-Purpose": "data-protection"}
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        ledger = http.get("/v1/transfers", params={"direction": "sent"}, headers=headers)
        assert ledger.status_code == 200, ledger.text
        sent = {
            entry["record_id"]
            for entry in ledger.json()["items"]
            if entry["recipient_society"] == DRK and entry["received_by"] == f"client:{client_id}"
        }
        if ids <= sent:
            return
        time.sleep(0.25)
    raise AssertionError("the partner did not read the shared records")


@EMBEDDED_ONLY
def test_the_partner_exchanges_records_and_sees_erasure_and_revocation_propagate(
    service: Service, setup: Setup, tmp_path: Path
) -> None:
    out = tmp_path / "observed.json"
    with httpx.Client(base_url=service.base_url, timeout=10) as http:
        # The supervisor role requires a second factor (enrolled by `users create`).
        supervisor = sign_in(http, "supervisor@lux", otp=pyotp.TOTP(setup.supervisor_totp).now())
        dpo = sign_in(http, "dpo@lux")
        held = lux_records(http, supervisor)
        erased_id, kept_id = held["to_erase"]["id"], held["kept"]["id"]
        mother_id = held["mother"]["id"]

        with PartnerProcess(
            "run",
            "--base-url", service.base_url,
            "--client-id", setup.client_id,
            "--key-file", str(setup.key_file),
            "--out", str(out),
            "--wait-for", "candidate.proposed",
            "--wait-for", "person.erased",
            "--wait-for", "grant.revoked",
            "--wait-for", "candidate.withdrawn",
            "--timeout", str(PARTNER_TIMEOUT),
            "--simulate-lost-acks",
            cwd=tmp_path,
        ) as partner:  # fmt: skip
            receiver_url = partner.wait_for(r"listening for webhooks at (\S+)").group(1)
            partner.wait_for(r"subscribed ")
            assert forge_webhooks(receiver_url) == [401, 401]

            granted = http.post(
                "/v1/sharing-grants",
                json={
                    "recipient_society": DRK,
                    "record_kinds": ["registration"],
                    "fields": GRANTED,
                    "legal_basis": "vital_interest",
                    "valid_until": (
                        datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=30)
                    ).isoformat(),
                },
                headers=supervisor | {"Kintrace-Purpose": "exchange"},
            )
            assert granted.status_code == 201, granted.text
            grant = granted.json()

            wait_until_sent(http, dpo, {erased_id, kept_id, mother_id}, setup.client_id)
            # Both of its persons of her (the sought mother, its own registration of her) meet
            # Luxembourg's: the partner must have read both links before the grant is revoked.
            partner.wait_for(r"candidate.proposed: link \S+ across societies with lux", 60, 2)
            erased = http.post(
                f"/v1/persons/{erased_id}/erasure",
                json={"reason": "erasure requested by the person"},
                headers=dpo | {"Kintrace-Purpose": "data-protection"},
            )
            assert erased.status_code == 200, erased.text
            revoked = http.post(
                f"/v1/sharing-grants/{grant['id']}/revocation",
                json={"reason": "the tracing case is closed"},
                headers=supervisor
                | {"Kintrace-Purpose": "exchange", "If-Match": granted.headers["etag"]},
            )
            assert revoked.status_code == 200, revoked.text
            assert revoked.json()["active"] is False
            returncode = partner.finish(timeout=PARTNER_TIMEOUT + 15)
    assert returncode == 0, f"{partner.output}\n--- serve ---\n{service.log_tail()}"
    with pytest.raises(httpx.ConnectError):
        httpx.post(receiver_url, content=b"{}")  # the partner closed its receiver
    observed = json.loads(out.read_text(encoding="utf-8"))

    # It read exactly the granted fields of the shared registrations, nothing of a request.
    read = {person["id"]: person for person in observed["shared_read"]}
    assert set(read) == {erased_id, kept_id, mother_id}
    by_id = {held[name]["id"]: held[name] for name in ("to_erase", "kept", "mother")}
    for person_id, person in read.items():
        assert set(person) == SHARED_BASE | set(GRANTED)
        assert person["fields"] == GRANTED
        assert (person["society"], person["grant_id"]) == (LUX, grant["id"])
        original = by_id[person_id]
        assert {field: person[field] for field in GRANTED} == {f: original[f] for f in GRANTED}
    request_persons = {p["id"] for p in held["request"]["persons"]}
    assert not request_persons & set(read), "tracing requests were not granted"
    as_read = json.dumps(observed["shared_read"], ensure_ascii=False)
    assert not [text for text in WITHHELD if text in as_read]

    # Every event it processed was signed for its subscription, and processed once.
    events = observed["events"]
    assert len({event["webhook_id"] for event in events}) == len(events)
    for event in events:
        copies = [d for d in observed["deliveries"] if d["webhook_id"] == event["webhook_id"]]
        assert all(copy["verified"] for copy in copies)
        assert [copy["duplicate"] for copy in copies][:2] == [False, True], "redelivered"
        assert sum(not copy["duplicate"] for copy in copies) == 1
    forged = [d for d in observed["deliveries"] if not d["verified"]]
    assert {d["webhook_id"] for d in forged} == {"msg_forged_signed", "msg_forged_unsigned"}
    assert not {d["webhook_id"] for d in forged} & {event["webhook_id"] for event in events}

    def of_type(event_type: str) -> list[dict[str, Any]]:
        return [event["data"] for event in events if event["type"] == event_type]

    assert [data["person_id"] for data in of_type("person.erased")] == [erased_id]
    assert [data["society"] for data in of_type("person.erased")] == [LUX]
    assert [data["grant_id"] for data in of_type("grant.revoked")] == [grant["id"]]
    proposed = of_type("candidate.proposed")
    assert proposed and {data["society"] for data in proposed} == {DRK}

    # Its sought mother (and its own registration of her) matched Luxembourg's registration
    # under the grant: it saw its own person and of Luxembourg's only the reference.
    crossing = [link for link in observed["candidates"] if link["partner_society"]]
    assert {link["kind"] for link in crossing} >= {"sought_registration"}
    for link in crossing:
        assert link["partner_society"] == LUX and link["status"] == "proposed"
        assert mother_id in (link["left_person_id"], link["right_person_id"])
        theirs, ours = (
            ("left", "right") if link["left_person_id"] == mother_id else ("right", "left")
        )
        assert link[theirs] is None and link[ours]["id"] != mother_id
        assert link["partner_person"] is None
        withheld = 0 if theirs == "left" else 1
        assert all(
            part[withheld] is None for part in link["explanation"]["fields"]["name"]["parts"]
        )
        assert "Fatima Hassan" not in json.dumps(link, ensure_ascii=False)
    withdrawn = {data["link_id"] for data in of_type("candidate.withdrawn")}
    assert withdrawn == {link["id"] for link in crossing}, "revoking the grant withdrew them"

    # The tombstones emptied its copies, and nothing is shared with it any more.
    assert observed["held_at_end"] == []
    assert observed["shared_at_end"] == []
