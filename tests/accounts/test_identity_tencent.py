"""The Tencent Cloud FaceID adapter against a fake FaceID server on 127.0.0.1.

The fake checks every request's TC3-HMAC-SHA256 signature with Tencent's own SDK
signer (``tencentcloud.common.sign.Sign.sign_tc3``) over the canonical request it
rebuilds from what it received, answers like the real API, and can fail, stall and
send the signed result callback.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from django.conf import LazySettings
from tencentcloud.common.sign import Sign

from accounts.identity.models import IdentityVerification
from accounts.identity.providers import ProviderTransientError
from accounts.identity.services import callback_signature, identity_verification_check
from tests.accounts.identity_helpers import identity_consent, make_id
from tests.factories.accounts import UserFactory
from tests.helpers import api_client_for

SECRET_ID = "AKIDfakeFaceIdSecretId0000000000000"
SECRET_KEY = "fakeFaceIdSecretKey00000000000000"
CALLBACK_SECRET = "callback-secret-of-the-fake"
ID_NUMBER = make_id(region="440305", birth="19880808", seq="456")
NAME = "李四"

_AUTH = re.compile(
    r"^TC3-HMAC-SHA256 Credential=(?P<id>[^/]+)/(?P<date>\d{4}-\d{2}-\d{2})/faceid/tc3_request, "
    r"SignedHeaders=content-type;host, Signature=(?P<sig>[0-9a-f]{64})$"
)


class FakeFaceId:
    """What the fake answers; ``requests`` records (action, params) of signed requests."""

    def __init__(self) -> None:
        self.mode = "ok"  # ok | http500 | stall | internal_error
        self.err_code: int | None = None
        self.verified_id = ID_NUMBER
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.bad_signatures = 0
        self.server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def signature_ok(self, headers: Any, body: bytes) -> bool:
        match = _AUTH.match(headers.get("Authorization", ""))
        if match is None or match["id"] != SECRET_ID:
            return False
        timestamp = headers.get("X-TC-Timestamp", "")
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > 300:
            return False
        date = dt.datetime.fromtimestamp(int(timestamp), tz=dt.UTC).strftime("%Y-%m-%d")
        if date != match["date"]:
            return False
        canonical = "POST\n/\n\ncontent-type:{}\nhost:{}\n\ncontent-type;host\n{}".format(
            headers.get("Content-Type", "").strip().lower(),
            headers.get("Host", "").strip().lower(),
            hashlib.sha256(body).hexdigest(),
        )
        digest = hashlib.sha256(canonical.encode()).hexdigest()
        to_sign = f"TC3-HMAC-SHA256\n{timestamp}\n{date}/faceid/tc3_request\n{digest}"
        expected = Sign.sign_tc3(SECRET_KEY, date, "faceid", to_sign)
        return bool(expected == match["sig"])

    def answer(self, action: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if self.mode == "http500":
            return 500, {}
        if self.mode == "stall":
            time.sleep(1.5)
        if self.mode == "internal_error":
            return 200, {"Response": {"Error": {"Code": "InternalError", "Message": "x"}}}
        if action == "DetectAuth":
            token = f"BIZ-{len(self.requests)}-{params['Extra'][:8]}"
            return 200, {
                "Response": {
                    "BizToken": token,
                    "Url": f"https://faceid.example/h5?token={token}",
                    "RequestId": "r1",
                }
            }
        if action == "GetDetectInfoEnhanced":
            text: dict[str, Any] = {"ErrCode": self.err_code, "ErrMsg": None}
            if self.err_code == 0:
                text.update(IdCard=self.verified_id, Name=NAME)
            return 200, {"Response": {"Text": text, "RequestId": "r2"}}
        return 200, {"Response": {"Error": {"Code": "InvalidAction", "Message": action}}}

    def send_callback(self, url: str, biz_token: str, *, nonce: str) -> httpx.Response:
        body = json.dumps({"BizToken": biz_token}).encode()
        timestamp = str(int(time.time()))
        signature = callback_signature(
            secret=CALLBACK_SECRET, timestamp=timestamp, nonce=nonce, body=body
        )
        return httpx.post(
            url,
            content=body,
            headers={
                "Content-Type": "application/json",
                "X-Identity-Timestamp": timestamp,
                "X-Identity-Nonce": nonce,
                "X-Identity-Signature": signature,
            },
            timeout=10,
        )


@pytest.fixture
def fake(settings: LazySettings) -> Iterator[FakeFaceId]:
    state = FakeFaceId()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if not state.signature_ok(self.headers, body):
                state.bad_signatures += 1
                status, payload = (
                    200,
                    {
                        "Response": {
                            "Error": {"Code": "AuthFailure.SignatureFailure", "Message": ""}
                        }
                    },
                )
            else:
                action = self.headers.get("X-TC-Action", "")
                params = json.loads(body)
                state.requests.append((action, params))
                status, payload = state.answer(action, params)
            raw = json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)
            except OSError:  # the client gave up (timeout test)
                pass

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.server = server
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.IDENTITY_PROVIDER = "tencent"
    settings.IDENTITY_TENCENT_ENDPOINT = state.url
    settings.IDENTITY_TENCENT_SECRET_ID = SECRET_ID
    settings.IDENTITY_TENCENT_SECRET_KEY = SECRET_KEY
    settings.IDENTITY_TENCENT_RULE_ID = "7"
    settings.IDENTITY_HTTP_TIMEOUT = 0.5
    settings.IDENTITY_CALLBACK_SECRET = CALLBACK_SECRET
    settings.IDENTITY_DAILY_ATTEMPTS = 3
    yield state
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def _start(run: Callable[..., Any], user: Any) -> tuple[int, dict[str, Any]]:
    with run(execute=False):  # the worker's check is run by each test itself
        response = api_client_for(user).post(
            "/api/v1/identity/verifications",
            {"name": NAME, "id_number": ID_NUMBER},
            format="json",
        )
    return response.status_code, response.json()


@pytest.mark.django_db
def test_signed_requests_open_a_session_and_read_a_text_only_result(
    fake: FakeFaceId, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    user = UserFactory.create()
    identity_consent(user)
    status, payload = _start(django_capture_on_commit_callbacks, user)
    assert status == 201, payload
    assert payload["client"]["biz_token"].startswith("BIZ-")
    assert payload["client"]["url"].startswith("https://faceid.example/h5?token=")
    assert fake.bad_signatures == 0
    action, params = fake.requests[0]
    assert action == "DetectAuth"
    assert (params["RuleId"], params["IdCard"], params["Name"]) == ("7", ID_NUMBER, NAME)
    verification = IdentityVerification.objects.get(user=user)
    assert params["Extra"] == str(verification.uuid)
    assert verification.provider == "tencent"
    assert verification.provider_ref == payload["client"]["biz_token"]

    for err_code, expected in ((17, "pending"), (0, "verified")):  # 17: liveness not finished
        fake.err_code = err_code
        checked = identity_verification_check(verification_id=verification.pk)
        assert checked is not None
        assert checked.status == expected
    reads = [p for a, p in fake.requests if a == "GetDetectInfoEnhanced"]
    assert len(reads) == 2
    # Text only: never the ID photos, best frames or video.
    assert all(p["InfoType"] == "1" and p["BizToken"] == verification.provider_ref for p in reads)
    assert fake.bad_signatures == 0
    verification.refresh_from_db()
    assert verification.provider_code == "ErrCode=0"


@pytest.mark.django_db
def test_the_fake_refuses_a_wrong_signature(
    fake: FakeFaceId, settings: LazySettings, django_capture_on_commit_callbacks: Any
) -> None:
    settings.IDENTITY_TENCENT_SECRET_KEY = "not-the-key"
    user = UserFactory.create()
    identity_consent(user)
    status, payload = _start(django_capture_on_commit_callbacks, user)
    assert (status, payload["errors"][0]["code"]) == (503, "identity_provider_unavailable")
    assert fake.bad_signatures == 1
    attempt = IdentityVerification.objects.get(user=user)
    assert (attempt.reason_code, attempt.provider_code) == (
        "provider_unavailable",
        "AuthFailure.SignatureFailure",
    )
    # An outage is not the user's attempt.
    client = api_client_for(user)
    assert client.get("/api/v1/identity").json()["attempts_left"] == 3


@pytest.mark.django_db
@pytest.mark.parametrize("mode", ["http500", "stall", "internal_error"])
def test_provider_failures_at_start_are_a_503_and_at_check_are_retried(
    fake: FakeFaceId, mode: str, django_capture_on_commit_callbacks: Any
) -> None:
    user = UserFactory.create()
    identity_consent(user)
    fake.mode = mode
    status, payload = _start(django_capture_on_commit_callbacks, user)
    assert (status, payload["errors"][0]["code"]) == (503, "identity_provider_unavailable")

    fake.mode = "ok"
    IdentityVerification.objects.all().delete()
    assert _start(django_capture_on_commit_callbacks, user)[0] == 201
    verification = IdentityVerification.objects.get(user=user)
    fake.mode = mode
    with pytest.raises(ProviderTransientError):  # the task retries with backoff
        identity_verification_check(verification_id=verification.pk)
    verification.refresh_from_db()
    assert verification.status == "pending"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("err_code", "verified_id", "reason"),
    [
        (2016, ID_NUMBER, "face_mismatch"),
        (2006, ID_NUMBER, "id_mismatch"),
        (1002, ID_NUMBER, "liveness_failed"),
        (15, ID_NUMBER, "expired"),
        (0, make_id(region="440305", birth="19880808", seq="457"), "id_mismatch"),
    ],
)
def test_provider_verdicts_become_reason_codes(
    fake: FakeFaceId,
    err_code: int,
    verified_id: str,
    reason: str,
    django_capture_on_commit_callbacks: Any,
) -> None:
    user = UserFactory.create()
    identity_consent(user)
    assert _start(django_capture_on_commit_callbacks, user)[0] == 201
    fake.err_code, fake.verified_id = err_code, verified_id
    verification = identity_verification_check(
        verification_id=IdentityVerification.objects.get(user=user).pk
    )
    assert verification is not None
    assert (verification.status, verification.reason_code) == ("failed", reason)
    assert not type(user).objects.get(pk=user.pk).identity_verified


@pytest.mark.django_db(transaction=True)
def test_the_fake_servers_signed_callback_makes_the_app_read_the_result(
    fake: FakeFaceId, live_server: Any, django_capture_on_commit_callbacks: Any, celery_eager: None
) -> None:
    user = UserFactory.create()
    identity_consent(user)
    assert _start(django_capture_on_commit_callbacks, user)[0] == 201
    verification = IdentityVerification.objects.get(user=user)
    fake.err_code = 0
    url = f"{live_server.url}/api/v1/identity/callbacks/tencent"
    response = fake.send_callback(url, verification.provider_ref, nonce="fake-1")
    assert response.status_code == 200, response.text
    # The app's check ran after the callback's commit (eager tasks here; a worker in
    # production) and read the verdict from the fake.
    verification.refresh_from_db()
    assert verification.status == "verified"
    assert fake.requests[-1][0] == "GetDetectInfoEnhanced"
    replay = fake.send_callback(url, verification.provider_ref, nonce="fake-1")
    assert replay.status_code == 409
    again = fake.send_callback(url, verification.provider_ref, nonce="fake-2")
    assert (again.status_code, again.json()) == (200, {"status": "verified"})
