"""Tencent Cloud FaceID (人脸核身) over its HTTP API, requests signed with TC3-HMAC-SHA256.

Flow (Tencent's documentation, API version ``2018-03-01``, service ``faceid``):

- ``DetectAuth`` with ``RuleId``, ``IdCard``, ``Name`` and our attempt id in
  ``Extra`` returns a ``BizToken`` and the ``Url`` of the liveness step; the app runs
  that step (SDK or H5) with them.
- ``GetDetectInfoEnhanced`` with ``BizToken``, ``RuleId`` and ``InfoType="1"`` (text
  only: never the ID photos, best frames or video) returns ``Text.ErrCode``: ``0``
  success, ``17`` not finished, other codes a failure (``1xxx`` liveness, ``2006``
  name and number don't match, ``2016`` face doesn't match, ``15`` token expired).

Signing (TC3-HMAC-SHA256): a canonical request (method, ``/``, empty query, the
``content-type`` and ``host`` headers, their names, the SHA-256 of the body), a
string to sign (algorithm, timestamp, the scope ``<UTC date>/faceid/tc3_request``,
the SHA-256 of the canonical request), signed with a key derived from the secret
by HMAC-SHA256 chained over ``"TC3" + SecretKey``, the date, the service and
``tc3_request``. ``IDENTITY_TENCENT_ENDPOINT`` can point at another host (tests use
a local fake server that checks the signature).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.conf import settings

from accounts.identity.providers import (
    CheckResult,
    ProviderError,
    ProviderTransientError,
    StartResult,
)

SERVICE = "faceid"
VERSION = "2018-03-01"
ALGORITHM = "TC3-HMAC-SHA256"
CONTENT_TYPE = "application/json; charset=utf-8"
SIGNED_HEADERS = "content-type;host"
# Error codes of the API itself that are worth retrying.
_TRANSIENT_PREFIXES = ("InternalError", "RequestLimitExceeded", "ResourceUnavailable")


def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()


def tc3_authorization(
    *,
    secret_id: str,
    secret_key: str,
    host: str,
    payload: bytes,
    timestamp: int,
    service: str = SERVICE,
    content_type: str = CONTENT_TYPE,
) -> str:
    """The ``Authorization`` header of a signed POST to ``https://<host>/``."""
    date = dt.datetime.fromtimestamp(timestamp, tz=dt.UTC).strftime("%Y-%m-%d")
    canonical_request = "\n".join(
        [
            "POST",
            "/",
            "",
            # Header names and values lower-cased and trimmed, as Tencent specifies.
            f"content-type:{content_type.strip().lower()}\nhost:{host.strip().lower()}\n",
            SIGNED_HEADERS,
            _sha256_hex(payload),
        ]
    )
    scope = f"{date}/{service}/tc3_request"
    string_to_sign = "\n".join(
        [ALGORITHM, str(timestamp), scope, _sha256_hex(canonical_request.encode("utf-8"))]
    )
    key = _hmac(_hmac(_hmac(f"TC3{secret_key}".encode(), date), service), "tc3_request")
    signature = hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    return (
        f"{ALGORITHM} Credential={secret_id}/{scope}, "
        f"SignedHeaders={SIGNED_HEADERS}, Signature={signature}"
    )


def _reason(err_code: int) -> str:
    if err_code in {2002, 2003, 2005, 2006}:
        return "id_mismatch"
    if err_code == 15:
        return "expired"
    if 1000 <= err_code < 2000:
        return "liveness_failed"
    if 2000 <= err_code < 3000:
        return "face_mismatch"
    return "provider_rejected"


class TencentFaceIdProvider:
    name = "tencent"

    def __init__(self) -> None:
        self.endpoint = settings.IDENTITY_TENCENT_ENDPOINT.rstrip("/")
        self.host = urlsplit(self.endpoint).netloc
        self.secret_id = settings.IDENTITY_TENCENT_SECRET_ID
        self.secret_key = settings.IDENTITY_TENCENT_SECRET_KEY
        self.rule_id = settings.IDENTITY_TENCENT_RULE_ID
        self.region = settings.IDENTITY_TENCENT_REGION
        self.timeout = settings.IDENTITY_HTTP_TIMEOUT

    def _call(self, action: str, params: dict[str, Any]) -> dict[str, Any]:
        if not (self.secret_id and self.secret_key and self.rule_id):
            raise ProviderError("Tencent FaceID is not configured.", code="not_configured")
        payload = json.dumps(params, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        timestamp = int(time.time())
        headers = {
            "Authorization": tc3_authorization(
                secret_id=self.secret_id,
                secret_key=self.secret_key,
                host=self.host,
                payload=payload,
                timestamp=timestamp,
            ),
            "Content-Type": CONTENT_TYPE,
            "Host": self.host,
            "X-TC-Action": action,
            "X-TC-Timestamp": str(timestamp),
            "X-TC-Version": VERSION,
        }
        if self.region:
            headers["X-TC-Region"] = self.region
        try:
            response = httpx.post(
                self.endpoint + "/", content=payload, headers=headers, timeout=self.timeout
            )
        except httpx.HTTPError as exc:
            raise ProviderTransientError(f"{action}: {type(exc).__name__}") from exc
        if response.status_code >= 500:
            raise ProviderTransientError(f"{action}: HTTP {response.status_code}")
        try:
            body = response.json()["Response"]
        except (ValueError, KeyError, TypeError):
            raise ProviderTransientError(f"{action}: unreadable answer") from None
        error = body.get("Error") if isinstance(body, dict) else None
        if error:
            code = str(error.get("Code", ""))
            cls = ProviderTransientError if code.startswith(_TRANSIENT_PREFIXES) else ProviderError
            raise cls(f"{action}: {code}", code=code)
        if response.status_code >= 400 or not isinstance(body, dict):
            raise ProviderError(f"{action}: HTTP {response.status_code}")
        return body

    def start(self, *, name: str, id_number: str, attempt_id: str) -> StartResult:
        body = self._call(
            "DetectAuth",
            {"RuleId": self.rule_id, "IdCard": id_number, "Name": name, "Extra": attempt_id},
        )
        token = str(body.get("BizToken") or "")
        if not token:
            raise ProviderTransientError("DetectAuth: no BizToken")
        return StartResult(
            reference=token, client={"biz_token": token, "url": str(body.get("Url") or "")}
        )

    def check(self, *, reference: str, started_at: dt.datetime) -> CheckResult:
        body = self._call(
            "GetDetectInfoEnhanced",
            {"BizToken": reference, "RuleId": self.rule_id, "InfoType": "1"},
        )
        text = body.get("Text") or {}
        err_code = text.get("ErrCode")
        if err_code is None or err_code == 17:
            return CheckResult(state="pending")
        code = f"ErrCode={err_code}"
        if err_code == 0:
            return CheckResult(
                state="verified", provider_code=code, id_number=str(text.get("IdCard") or "")
            )
        return CheckResult(state="failed", reason_code=_reason(int(err_code)), provider_code=code)

    def callback_reference(self, *, payload: dict[str, Any]) -> str:
        return str(payload.get("BizToken") or "")
