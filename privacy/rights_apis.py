"""Privacy API (``/api/v1/privacy/``): requests, export download, documents, consents,
processors. Views are thin: parse, call one service or selector, shape the answer."""

from __future__ import annotations

import hashlib
import time
from types import SimpleNamespace
from typing import Any

from allauth.account.authentication import get_authentication_records
from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.core.files.storage import default_storage
from django.http import HttpResponseBase, HttpResponseRedirect
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.current import current_user
from meetnow.lib.errors import ApplicationError, NotFoundError
from meetnow.lib.i18n import LANGUAGE_CODES, display, language_current
from meetnow.lib.pagination import CursorPagination
from meetnow.lib.ranges import ranged_file_response
from meetnow.lib.timestamps import iso
from privacy.consents import (
    GATE_CODES,
    consent_accept,
    consent_gate_compute,
    consent_history,
    gate_restamp_user_sessions,
)
from privacy.export import export_download_token, export_for_token
from privacy.lifecycle import request_cancel, request_create, request_verify_identity
from privacy.models import PrivacyRequest, RequestKind, RequestStatus
from privacy.rights_session import RightsSession, rights_session_close
from privacy.selectors import (
    documents_current,
    documents_missing_consent,
    privacy_request_access,
    privacy_requests_of,
    processors_public,
)

IDENTITY_USED_KEY = "privacy_identity_used_at"


# --- OpenAPI shapes (the views build the same dicts by hand) ---------------------------------


class PrivacyRequestCreateIn(serializers.Serializer[Any]):
    kind = serializers.ChoiceField(choices=RequestKind.choices)
    details = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    document_kinds = serializers.ListField(
        child=serializers.CharField(max_length=20), required=False, max_length=2
    )


class ConsentChangeIn(serializers.Serializer[Any]):
    action = serializers.ChoiceField(choices=["accept", "withdraw"])
    versions = serializers.DictField(child=serializers.CharField(max_length=20), required=False)
    # Only for an account made outside sign-up, which has none yet (P14).
    date_of_birth = serializers.DateField(required=False)
    document_kinds = serializers.ListField(
        child=serializers.CharField(max_length=20), required=False, max_length=2
    )


class _DownloadOut(serializers.Serializer[Any]):
    url = serializers.URLField()
    expires_at = serializers.DateTimeField()
    size = serializers.IntegerField(allow_null=True)


class PrivacyRequestOut(serializers.Serializer[Any]):
    uuid = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=RequestKind.choices)
    status = serializers.ChoiceField(choices=RequestStatus.choices)
    identity_required = serializers.BooleanField()
    received_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField()
    due_at_display = serializers.CharField(
        help_text="due_at as the user reads it: the request's language, the user's zone"
    )
    overdue = serializers.BooleanField()
    extended = serializers.BooleanField()
    extension_reason = serializers.CharField(allow_null=True)
    denial_reason = serializers.CharField(allow_null=True)
    identity_verified_at = serializers.DateTimeField(allow_null=True)
    reviewed_at = serializers.DateTimeField(allow_null=True)
    scheduled_for = serializers.DateTimeField(allow_null=True)
    scheduled_for_display = serializers.CharField(
        allow_null=True,
        help_text="scheduled_for (a deletion's end of the cooling-off period) as the user reads it",
    )
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    canceled_at = serializers.DateTimeField(allow_null=True)
    on_hold = serializers.BooleanField()
    progress = serializers.IntegerField(min_value=0, max_value=100)
    error = serializers.CharField(allow_null=True)
    document_kinds = serializers.ListField(child=serializers.CharField())
    download = _DownloadOut(allow_null=True)


class PrivacyRequestPageOut(serializers.Serializer[Any]):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = PrivacyRequestOut(many=True)


class _DocumentOut(serializers.Serializer[Any]):
    kind = serializers.CharField()
    version = serializers.CharField()
    language = serializers.ChoiceField(choices=["en", "zh-hans"])
    title = serializers.CharField()
    body = serializers.CharField()
    material_change = serializers.BooleanField()
    published_at = serializers.DateTimeField()


class DocumentsCurrentOut(serializers.Serializer[Any]):
    documents = _DocumentOut(many=True)


class _ConsentItemOut(serializers.Serializer[Any]):
    action = serializers.ChoiceField(choices=["accepted", "withdrawn", "restored"])
    kind = serializers.CharField()
    version = serializers.CharField()
    at = serializers.DateTimeField()


class _PolicyUpdateOut(serializers.Serializer[Any]):
    """A current version the user has not accepted yet: the in-app notice (P16)."""

    kind = serializers.CharField()
    version = serializers.CharField()
    title = serializers.CharField()
    material = serializers.BooleanField()
    published_at = serializers.DateTimeField()


ConsentStateOut = inline_serializer(
    name="ConsentStateOut",
    fields={
        "required": serializers.ChoiceField(choices=list(GATE_CODES), allow_null=True),
        "history": _ConsentItemOut(many=True),
        "updates": _PolicyUpdateOut(many=True),
    },
)


_ProcessorOut = inline_serializer(
    name="ProcessorOut",
    fields={
        "language": serializers.ChoiceField(choices=LANGUAGE_CODES),
        "name": serializers.CharField(),
        "purpose": serializers.CharField(),
        "data": serializers.CharField(),
        "country": serializers.CharField(),
        "website": serializers.CharField(),
        "updated_at": serializers.DateTimeField(),
    },
)


ProcessorsOut = inline_serializer(
    name="ProcessorsOut", fields={"processors": serializers.ListField(child=_ProcessorOut)}
)


def _proves_identity(record: Any, *, has_verified_phone: bool) -> bool:
    """A one-time code to the verified phone (reauthentication, or the login itself);
    for an account without a phone (social sign-up, P3), a fresh social login."""
    if not isinstance(record, dict) or not isinstance(record.get("at"), int | float):
        return False
    if record.get("method") == "code":
        return True
    return record.get("method") == "socialaccount" and not has_verified_phone


def identity_confirmation_take(request: Request) -> bool:
    """Was identity confirmed just now, with a one-time code (allauth reauthentication)?

    The authentication records live in the session of the app's token. Each
    confirmation counts for one request: the record's time is remembered as used.
    """
    session = request.auth
    if isinstance(session, RightsSession):
        return session.identity_take()  # the code that opened the rights session
    if not isinstance(session, SessionBase):
        return False
    user = current_user(request)
    records = get_authentication_records(SimpleNamespace(session=session), user)
    cutoff = time.time() - settings.MEETNOW_PRIVACY_IDENTITY_MAX_AGE
    used = float(session.get(IDENTITY_USED_KEY) or 0)
    has_phone = bool(user.phone and user.phone_verified)
    fresh = [
        r
        for r in records
        if _proves_identity(r, has_verified_phone=has_phone)
        and r["at"] >= cutoff
        and r["at"] > used
    ]
    if not fresh:
        return False
    session[IDENTITY_USED_KEY] = fresh[-1]["at"]
    session.save()
    return True


def _session(request: Request) -> SessionBase | None:
    return request.auth if isinstance(request.auth, SessionBase) else None


def request_payload(privacy_request: PrivacyRequest, *, request: Request) -> dict[str, Any]:
    download = None
    if (
        privacy_request.kind == RequestKind.ACCESS
        and privacy_request.status == RequestStatus.COMPLETE
        and privacy_request.archive_key
        and privacy_request.archive_deleted_at is None
    ):
        token = export_download_token(privacy_request=privacy_request)
        download = {
            "url": request.build_absolute_uri(f"/api/v1/privacy/exports/{token}"),
            "expires_at": iso(privacy_request.archive_expires_at),
            "size": privacy_request.archive_size,
        }
    return {
        "uuid": str(privacy_request.uuid),
        "kind": privacy_request.kind,
        "status": privacy_request.status,
        "identity_required": privacy_request.status == RequestStatus.IDENTITY_UNVERIFIED,
        "received_at": iso(privacy_request.received_at),
        "due_at": iso(privacy_request.effective_due_at),
        "due_at_display": display(privacy_request.effective_due_at),
        "overdue": privacy_request.is_overdue,
        "extended": privacy_request.extended_due_at is not None,
        "extension_reason": privacy_request.extension_reason or None,
        "denial_reason": privacy_request.denial_reason or None,
        "identity_verified_at": iso(privacy_request.identity_verified_at),
        "reviewed_at": iso(privacy_request.reviewed_at),
        "scheduled_for": iso(privacy_request.scheduled_for),
        "scheduled_for_display": (
            display(privacy_request.scheduled_for) if privacy_request.scheduled_for else None
        ),
        "started_at": iso(privacy_request.started_at),
        "finished_at": iso(privacy_request.finished_at),
        "canceled_at": iso(privacy_request.canceled_at),
        "on_hold": privacy_request.legal_hold_at is not None,
        "progress": privacy_request.progress,
        "error": privacy_request.error_code or None,
        "document_kinds": privacy_request.document_kinds or [],
        "download": download,
    }


class PrivacyRequestListApi(APIView):
    InputSerializer = PrivacyRequestCreateIn

    @extend_schema(responses=PrivacyRequestPageOut, operation_id="privacy_requests_list")
    def get(self, request: Request) -> Response:
        """My privacy requests, newest first, with status and deadline."""
        paginator = CursorPagination()
        page = paginator.paginate_queryset(
            privacy_requests_of(user=current_user(request)), request, self
        )
        items = [request_payload(r, request=request) for r in page or []]
        return paginator.get_paginated_response(items)

    @extend_schema(
        request=PrivacyRequestCreateIn,
        responses={201: PrivacyRequestOut},
        operation_id="privacy_requests_create",
    )
    def post(self, request: Request) -> Response:
        """Open a request. Access, rectification and erasure need a fresh code first:
        ``/_allauth/app/v1/auth/reauthenticate/code/request`` then ``.../confirm``."""
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        confirmed = data["kind"] != RequestKind.CONSENT_WITHDRAWAL and identity_confirmation_take(
            request
        )
        privacy_request = request_create(
            user=current_user(request),
            kind=data["kind"],
            details=data.get("details", ""),
            document_kinds=data.get("document_kinds"),
            identity_confirmed=confirmed,
        )
        if privacy_request.kind == RequestKind.CONSENT_WITHDRAWAL:
            gate_restamp_user_sessions(
                user_id=privacy_request.user_id or 0, current=_session(request)
            )
        return Response(request_payload(privacy_request, request=request), status=201)


class PrivacyRequestDetailApi(APIView):
    @extend_schema(responses=PrivacyRequestOut, operation_id="privacy_requests_retrieve")
    def get(self, request: Request, request_uuid: str) -> Response:
        privacy_request = privacy_request_access(
            user=current_user(request), request_uuid=request_uuid
        )
        return Response(request_payload(privacy_request, request=request))


class PrivacyRequestVerifyApi(APIView):
    @extend_schema(
        request=None, responses=PrivacyRequestOut, operation_id="privacy_requests_verify"
    )
    def post(self, request: Request, request_uuid: str) -> Response:
        """Confirm identity for a request waiting in ``identity_unverified``."""
        privacy_request = privacy_request_access(
            user=current_user(request), request_uuid=request_uuid
        )
        if privacy_request.status != RequestStatus.IDENTITY_UNVERIFIED:
            raise ApplicationError(
                "invalid_request_state", _("Identity is already confirmed."), status_code=409
            )
        if not identity_confirmation_take(request):
            raise ApplicationError(
                "identity_required",
                _("Confirm it is you with a one-time code first (reauthenticate by code)."),
                status_code=403,
            )
        privacy_request = request_verify_identity(
            privacy_request=privacy_request, actor=current_user(request)
        )
        return Response(request_payload(privacy_request, request=request))


class PrivacyRequestCancelApi(APIView):
    @extend_schema(
        request=None, responses=PrivacyRequestOut, operation_id="privacy_requests_cancel"
    )
    def post(self, request: Request, request_uuid: str) -> Response:
        privacy_request = privacy_request_access(
            user=current_user(request), request_uuid=request_uuid
        )
        privacy_request = request_cancel(
            privacy_request=privacy_request, actor=current_user(request), reason="canceled_by_user"
        )
        return Response(request_payload(privacy_request, request=request))


class RightsSessionApi(APIView):
    """The restricted rights session of a banned account or one in the deletion
    cooling-off (``privacy/rights_session.py``)."""

    @extend_schema(request=None, responses={204: None}, operation_id="privacy_rights_session_end")
    def delete(self, request: Request) -> Response:
        """Log out of the rights session (``X-Rights-Token``)."""
        if isinstance(request.auth, RightsSession):
            rights_session_close(session=request.auth)
        return Response(status=204)


class ExportDownloadApi(APIView):
    """The signed, expiring download link of an export (the link is the capability)."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    @extend_schema(
        responses={
            (200, "application/zip"): OpenApiTypes.BINARY,
            (206, "application/zip"): OpenApiTypes.BINARY,
        },
        operation_id="privacy_export_download",
    )
    def get(self, request: Request, token: str) -> HttpResponseBase:
        privacy_request = export_for_token(token=token)
        if privacy_request is None:
            raise NotFoundError(_("This download link is invalid or has expired."))
        if settings.STORAGE_BACKEND == "s3":
            return HttpResponseRedirect(default_storage.url(privacy_request.archive_key))
        # A broken-off download resumes with Range (206); the S3 bucket does the same.
        key = privacy_request.archive_key
        size = default_storage.size(key)
        digest = hashlib.sha256(key.encode()).hexdigest()[:32]
        response = ranged_file_response(
            request,
            default_storage.open(key, "rb"),
            size=size,
            filename="meetnow-export.zip",
            content_type="application/zip",
            etag=f'"{digest}-{size}"',
        )
        response["Cache-Control"] = "private, no-store"
        return response


# --- Documents, consents, processors --------------------------------------------------------


def _document_payload(document: Any) -> dict[str, Any]:
    """The text in the request's language where the version has it; ``language`` says which."""
    language, title, body = document.text_in(language_current())
    return {
        "kind": document.kind,
        "version": document.version,
        "language": language,
        "title": title,
        "body": body,
        "material_change": document.material_change,
        "published_at": iso(document.published_at),
    }


class DocumentCurrentApi(APIView):
    """The current privacy policy and user agreement (public: read before sign-up)."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    @extend_schema(responses=DocumentsCurrentOut, operation_id="privacy_documents_current")
    def get(self, request: Request) -> Response:
        current = documents_current()
        return Response({"documents": [_document_payload(d) for d in current.values()]})


class ConsentApi(APIView):
    InputSerializer = ConsentChangeIn

    @extend_schema(responses=ConsentStateOut, operation_id="privacy_consents_get")
    def get(self, request: Request) -> Response:
        """My consent history and whether the app must ask me to accept a new version."""
        user = current_user(request)
        state = consent_gate_compute(user_id=user.pk)
        return Response(
            {
                "required": state.code or None,
                "history": [
                    {"action": i.action, "kind": i.kind, "version": i.version, "at": iso(i.at)}
                    for i in consent_history(user=user)
                ],
                "updates": [
                    {
                        "kind": d.kind,
                        "version": d.version,
                        "title": d.text_in(language_current())[1],
                        "material": d.material_change,
                        "published_at": iso(d.published_at),
                    }
                    for d in documents_missing_consent(user_id=user.pk)
                ],
            }
        )

    @extend_schema(
        request=ConsentChangeIn, responses=ConsentStateOut, operation_id="privacy_consents_change"
    )
    def post(self, request: Request) -> Response:
        """Accept the current versions, or withdraw consent (one call, no code; P16)."""
        from allauth.account.adapter import get_adapter

        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user = current_user(request)
        if data["action"] == "accept":
            consent_accept(
                user=user,
                versions=data.get("versions") or {},
                ip_address=get_adapter(request._request).get_client_ip(request._request),
                current_session=_session(request),
                date_of_birth=data.get("date_of_birth"),
            )
        else:
            request_create(
                user=user,
                kind=RequestKind.CONSENT_WITHDRAWAL,
                document_kinds=data.get("document_kinds") or None,
            )
            gate_restamp_user_sessions(user_id=user.pk, current=_session(request))
        return self.get(request)


class ProcessorListApi(APIView):
    """Third-party processors and SDKs and the data each receives (public, P9)."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    @extend_schema(responses=ProcessorsOut, operation_id="privacy_processors")
    def get(self, request: Request) -> Response:
        return Response({"processors": [_processor_payload(p) for p in processors_public()]})


def _processor_payload(processor: Any) -> dict[str, Any]:
    """The entry in the request's language where it has that text; ``language`` says which."""
    language, name, purpose, data = processor.text_in(language_current())
    return {
        "language": language,
        "name": name,
        "purpose": purpose,
        "data": data,
        "country": processor.country,
        "website": processor.website,
        "updated_at": iso(processor.updated_at),
    }
