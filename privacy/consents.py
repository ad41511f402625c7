"""Consent after sign-up: accept a version, withdraw, and the re-consent gate (P1, P13, P16).

Sign-up records the first consents (``privacy.services.consent_record``). Here:
accepting a later version, withdrawing (as easy as granting: no code, one call),
and the state the re-consent gate reads. A user must accept again when a version
marked *material* was published after the version they accepted, or after they
withdrew. An account that never consented (made in the admin, a shell or an
import, not through sign-up) is gated like one without current consent
(``consent_required``), and so is one with no date of birth
(``date_of_birth_required``) or under ``MEETNOW_MIN_AGE`` (``underage``, P14): the
app's consent screen (``POST /api/v1/privacy/consents``) takes the missing consent
and date of birth, and refuses a minor's.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from allauth.usersessions.models import UserSession
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.base import SessionBase
from django.contrib.sessions.backends.cached_db import SessionStore
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.identity.services import identity_verification_remove
from accounts.models import User
from accounts.selectors import age_in_years
from accounts.services import user_date_of_birth_declare
from meetnow.lib.errors import ApplicationError
from privacy.models import (
    REQUIRED_DOCUMENT_KINDS,
    Consent,
    ConsentWithdrawal,
    DocumentKind,
    PolicyDocument,
)
from privacy.selectors import documents_current
from privacy.services import consent_record

logger = logging.getLogger(__name__)

GATE_SESSION_KEY = "privacy_gate"
# The current generation (``gate_generation``); the gate reads it with the session.
GATE_GENERATION_CACHE_KEY = "privacy:gate:generation"


@dataclass(frozen=True)
class GateState:
    """Why a user can't use the app now: documents to (re-)accept, and the reason code."""

    # "" | "consent_required" | "reconsent_required" | "consent_withdrawn"
    #    | "date_of_birth_required" | "underage"
    code: str = ""
    document_ids: list[int] = field(default_factory=list)

    @property
    def blocked(self) -> bool:
        return bool(self.code)


def gate_generation() -> str:
    """Changes whenever a material version is published (cached; one query when cold)."""
    cached = cache.get(GATE_GENERATION_CACHE_KEY)
    if isinstance(cached, str):
        return cached
    latest = (
        PolicyDocument.objects.filter(published_at__isnull=False, material_change=True)
        .order_by("-published_at")
        .values_list("published_at", flat=True)
        .first()
    )
    generation = latest.isoformat() if latest is not None else "0"
    cache.set(GATE_GENERATION_CACHE_KEY, generation, timeout=None)
    return generation


def gate_generation_invalidate() -> None:
    cache.delete(GATE_GENERATION_CACHE_KEY)


def gate_session_stamp(*, session: SessionBase, user_id: int) -> GateState:
    """Write the user's gate state into a session (login, consent change, new version).

    The gate then reads the session it loads anyway: a request costs no query while
    no material version was published since the stamp.
    """
    state = consent_gate_compute(user_id=user_id)
    session[GATE_SESSION_KEY] = {"gen": gate_generation(), "code": state.code}
    session.save()
    return state


def gate_restamp_user_sessions(*, user_id: int, current: SessionBase | None = None) -> None:
    """Restamp every session of the user (after accepting or withdrawing)."""
    keys = set(UserSession.objects.filter(user_id=user_id).values_list("session_key", flat=True))
    if current is not None and current.session_key:
        gate_session_stamp(session=current, user_id=user_id)
        keys.discard(current.session_key)
    for key in keys:
        session = SessionStore(session_key=key)
        if session.get(SESSION_KEY) == str(user_id):
            gate_session_stamp(session=session, user_id=user_id)
    # The user's open sockets check the gate again at once (a withdrawal stops their
    # message sends now, not at the next heartbeat).
    transaction.on_commit(lambda: gate_sockets_recheck(user_id=user_id), robust=True)


def gate_sockets_recheck(*, user_id: int | None = None) -> None:
    """Tell live sockets to check their session against the gate again: the user's
    (after a consent change), or everyone's (``None``: a material version published)."""
    from chat.events import GATE_GROUP, user_group
    from meetnow.lib.realtime import group_send_many

    group = GATE_GROUP if user_id is None else user_group(user_id)
    try:
        group_send_many([(group, {"type": "session.gate"})])
    except Exception:  # sockets still re-check at their next heartbeat
        logger.warning("could not ask sockets to re-check the consent gate", exc_info=True)


def gate_check_session(*, session: SessionBase, user_id: int, generation: Any = None) -> str:
    """The gate's answer for a request: "" or the error code to refuse with.

    ``generation``: the cached generation if the caller has just read it (the HTTP
    gate reads it in the same round trip as the session); otherwise, or if it was not
    cached, it is read here (:func:`gate_generation`)."""
    stamp = session.get(GATE_SESSION_KEY)
    if not isinstance(stamp, dict):
        return ""  # sessions from before the gate existed: stamped at their next login
    current = generation if isinstance(generation, str) else gate_generation()
    if stamp.get("gen") != current:
        return gate_session_stamp(session=session, user_id=user_id).code
    return str(stamp.get("code") or "")


GATE_CODES = (
    "consent_required",
    "reconsent_required",
    "consent_withdrawn",
    "date_of_birth_required",
    "underage",
)


def _age_code(date_of_birth: dt.date | None) -> str:
    """The age rule (P14) for an account: "" when it may use the app."""
    if date_of_birth is None:
        return "date_of_birth_required"
    if age_in_years(date_of_birth=date_of_birth) < settings.MEETNOW_MIN_AGE:
        return "underage"
    return ""


def consent_gate_compute(*, user_id: int) -> GateState:
    """The consent state of a user, from the database (four small queries).

    Blocked when a required document was never accepted (an account made outside
    sign-up), was withdrawn, or has a material version newer than the one accepted
    (P1, P16); and when the account has no date of birth or is under age (P14).
    """
    published = list(
        PolicyDocument.objects.filter(published_at__isnull=False).order_by(
            "kind", "-published_at", "-id"
        )
    )
    current: dict[str, PolicyDocument] = {}
    for document in published:
        current.setdefault(document.kind, document)
    accepted = list(
        Consent.objects.filter(user_id=user_id)
        .select_related("document")
        .values_list("kind", "document__published_at", "accepted_at")
    )
    withdrawn = set(
        ConsentWithdrawal.objects.filter(user_id=user_id, restored_at__isnull=True).values_list(
            "kind", flat=True
        )
    )
    latest: dict[str, dt.datetime] = {}
    for kind, published_at, accepted_at in accepted:
        moment = published_at or accepted_at
        if kind not in latest or moment > latest[kind]:
            latest[kind] = moment
    to_accept: list[int] = []
    code = ""
    for kind in REQUIRED_DOCUMENT_KINDS:
        doc = current.get(kind)
        if doc is None:
            continue
        if kind in withdrawn:
            to_accept.append(doc.pk)
            code = "consent_withdrawn"
            continue
        since = latest.get(kind)
        if since is None:
            # Never accepted: an account made outside sign-up (admin, shell, import).
            to_accept.append(doc.pk)
            code = code or "consent_required"
            continue
        material_after = any(
            d.kind == kind
            and d.material_change
            and d.published_at is not None
            and d.published_at > since
            for d in published
        )
        if material_after:
            to_accept.append(doc.pk)
            code = code or "reconsent_required"
    born = User.objects.filter(pk=user_id).values_list("date_of_birth", flat=True).first()
    age_code = _age_code(born)
    if age_code == "underage":
        code = age_code  # nothing the person can accept lets a minor in
    return GateState(code=code or age_code, document_ids=to_accept)


def date_of_birth_check(born: dt.date) -> None:
    """The sign-up's age rule (P14) for an account that declares its date of birth later."""
    today = timezone.localdate()
    if born > today or born.year < 1900:
        raise ApplicationError(
            "invalid", _("Enter your real date of birth."), param="date_of_birth"
        )
    if age_in_years(date_of_birth=born, today=today) < settings.MEETNOW_MIN_AGE:
        raise ApplicationError(
            "underage",
            _("You must be at least %(meetnow_min_age)s to use MeetNow.")
            % {"meetnow_min_age": settings.MEETNOW_MIN_AGE},
            param="date_of_birth",
        )


def consent_accept(
    *,
    user: User,
    versions: dict[str, Any],
    ip_address: str | None,
    current_session: SessionBase | None = None,
    date_of_birth: dt.date | None = None,
) -> list[Consent]:
    """Accept the current version of documents (P1, P16); lifts a withdrawal of them.

    ``versions`` maps a document kind to the version the user was shown: accepting
    anything but the current version is refused, so nobody accepts a text they
    didn't see. An account made outside sign-up also declares its ``date_of_birth``
    here, under the sign-up's age rule (P14): a minor's is refused and not stored.
    """
    if date_of_birth is not None:
        date_of_birth_check(date_of_birth)
    if not isinstance(versions, dict) or (not versions and date_of_birth is None):
        raise ApplicationError(
            "versions_required", _("Give the versions you accept."), param="versions"
        )
    current = documents_current()
    documents: list[PolicyDocument] = []
    for kind, version in versions.items():
        document = current.get(str(kind))
        if document is None:
            raise ApplicationError(
                "invalid_document_kind",
                _("No current document of kind %(kind)s.") % {"kind": repr(kind)},
                param="versions",
            )
        if version != document.version:
            raise ApplicationError(
                "version_not_current",
                _("The current %(document)s is version %(version)s.")
                % {"document": document.get_kind_display().lower(), "version": document.version},
                param=f"versions.{kind}",
            )
        documents.append(document)
    with transaction.atomic():
        if date_of_birth is not None:
            user_date_of_birth_declare(user=user, date_of_birth=date_of_birth)
        consents = (
            consent_record(user=user, documents=documents, ip_address=ip_address)
            if documents
            else []
        )
        ConsentWithdrawal.objects.filter(
            user=user, kind__in=[d.kind for d in documents], restored_at__isnull=True
        ).update(restored_at=timezone.now())
    gate_restamp_user_sessions(user_id=user.pk, current=current_session)
    return consents


def consent_withdraw(
    *, user: User, document_kinds: list[str], current_session: SessionBase | None = None
) -> list[ConsentWithdrawal]:
    """Withdraw consent to documents (P13, P16): as easy as granting, effective at once.

    Without consent to the privacy policy or the agreement the account can't be
    used; the app offers export and deletion. Withdrawing twice changes nothing.
    """
    kinds = [k for k in document_kinds if k in DocumentKind.values]
    if not kinds:
        raise ApplicationError(
            "invalid_document_kinds",
            _("document_kinds must be among %(kinds)s.")
            % {"kinds": ", ".join(DocumentKind.values)},
            param="document_kinds",
        )
    current = documents_current()
    made: list[ConsentWithdrawal] = []
    with transaction.atomic():
        for kind in kinds:
            if ConsentWithdrawal.objects.filter(
                user=user, kind=kind, restored_at__isnull=True
            ).exists():
                continue
            consent = (
                Consent.objects.filter(user=user, kind=kind)
                .select_related("document")
                .order_by("-accepted_at", "-id")
                .first()
            )
            document = consent.document if consent is not None else current.get(kind)
            if document is None:
                continue
            made.append(
                ConsentWithdrawal.objects.create(
                    user=user, document=document, kind=kind, version=document.version
                )
            )
            if kind == DocumentKind.IDENTITY_NOTICE:
                # Withdrawing the separate consent removes the verification (P7).
                identity_verification_remove(user=user)
    gate_restamp_user_sessions(user_id=user.pk, current=current_session)
    return made


@dataclass(frozen=True)
class ConsentHistoryItem:
    action: str  # "accepted" | "withdrawn" | "restored"
    kind: str
    version: str
    at: dt.datetime


def consent_history(*, user: User) -> list[ConsentHistoryItem]:
    """Every acceptance and withdrawal of the user, oldest first (two queries)."""
    items = [
        ConsentHistoryItem("accepted", c.kind, c.version, c.accepted_at)
        for c in Consent.objects.filter(user=user)
    ]
    for w in ConsentWithdrawal.objects.filter(user=user):
        items.append(ConsentHistoryItem("withdrawn", w.kind, w.version, w.withdrawn_at))
        if w.restored_at is not None:
            items.append(ConsentHistoryItem("restored", w.kind, w.version, w.restored_at))
    return sorted(items, key=lambda item: item.at)
