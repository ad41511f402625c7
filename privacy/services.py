"""Writes on policy documents and consents (HackSoft style: ``<entity>_<verb>``)."""

from __future__ import annotations

from collections.abc import Iterable

from celery import current_app
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from accounts.selectors import push_devices_for_users
from chat.push import PushNotification, push_send
from meetnow.lib.errors import ApplicationError
from meetnow.lib.i18n import language_current
from meetnow.lib.outbox import task_send
from privacy.models import Consent, DocumentKind, PolicyDocument

POLICY_UPDATE_TASK = "privacy.policy_update_announce"
POLICY_UPDATE_PUSH_TASK = "push.policy_update"
POLICY_PUSH_TITLES = {
    DocumentKind.PRIVACY_POLICY: gettext_lazy("Our privacy policy was updated"),
    DocumentKind.USER_AGREEMENT: gettext_lazy("Our user agreement was updated"),
    DocumentKind.IDENTITY_NOTICE: gettext_lazy("Our notice on identity verification was updated"),
}
POLICY_PUSH_BODY = gettext_lazy("Open MeetNow to read what changed.")


@transaction.atomic
def document_publish(*, document: PolicyDocument) -> PolicyDocument:
    """Publish a version: from now on it is the current one that sign-up must accept (P16).

    Both texts are needed: users read it in English or Simplified Chinese (issue 17).
    """
    if document.published_at is not None:
        raise ApplicationError("already_published", _("This version is already published."))
    if not (document.body.strip() and document.body_zh_hans.strip()):
        raise ApplicationError(
            "translation_missing", _("Give the English and the Chinese text before publishing.")
        )
    document.published_at = timezone.now()
    document.save(update_fields=["published_at"])
    if not document.material_change:
        # A material version gates everyone (signals); a non-material one is announced
        # to every account's stream without gating (P16).
        document_id = document.pk
        # Through the outbox: announced once the broker is back if it is away now.
        transaction.on_commit(
            lambda: task_send(current_app.tasks[POLICY_UPDATE_TASK], document_id=document_id)
        )
    return document


@transaction.atomic
def consent_record(
    *,
    user: User,
    documents: Iterable[PolicyDocument],
    ip_address: str | None,
    language: str | None = None,
) -> list[Consent]:
    """Record that ``user`` accepted these document versions, with time and IP (P1).

    Each consent says which language's text was shown: the one the documents API
    serves to a reader of ``language`` (default: the request's). Accepting the same
    version twice keeps the first record.
    """
    now = timezone.now()
    reader = language or language_current()
    consents = []
    for document in documents:
        consent, _created = Consent.objects.get_or_create(
            user=user,
            document=document,
            defaults={
                "kind": document.kind,
                "version": document.version,
                "language": document.text_in(reader)[0],
                "accepted_at": now,
                "ip_address": ip_address,
            },
        )
        consents.append(consent)
    return consents


def policy_update_announce(*, document_id: int, batch: int = 500) -> int:
    """Tell every active account that a non-material version was published (P16): one
    ``privacy.policy_updated`` event on each account's stream (sync and the socket); the
    app shows the notice that ``GET /api/v1/privacy/consents`` lists under ``updates``;
    and a push to each account's phones (a task per batch, through the outbox).
    Returns how many accounts were told. Nothing is gated."""
    from chat.events import PendingEvent, events_append

    document = PolicyDocument.objects.filter(pk=document_id, published_at__isnull=False).first()
    if document is None:
        return 0
    body = {"kind": document.kind, "version": document.version, "material": False}
    told = 0
    last = 0
    while True:
        ids = list(
            User.objects.filter(is_active=True, pk__gt=last)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch]
        )
        if not ids:
            break
        with transaction.atomic():
            events_append(
                [PendingEvent(user_ids=ids, type="privacy.policy_updated", stored=dict(body))]
            )
        task_send(current_app.tasks[POLICY_UPDATE_PUSH_TASK], document.pk, ids)
        told += len(ids)
        last = ids[-1]
    return told


def policy_update_push_send(*, document_id: int, user_ids: list[int]) -> int:
    """The push of a non-material policy version (P16) to these accounts' phones, with
    push opt-outs respected (P10): the document's kind and version, a fixed text in
    the owner's language. Each phone is told once (a redelivered task tells nobody
    twice: the once-only key of ``chat.push.push_send`` lasts a day). Returns the
    number of phones notified."""
    document = PolicyDocument.objects.filter(pk=document_id, published_at__isnull=False).first()
    if document is None:
        return 0
    note = PushNotification(
        kind="policy_updated",
        conversation="",
        badge=0,
        data={"document_kind": document.kind, "version": document.version},
        title=POLICY_PUSH_TITLES[DocumentKind(document.kind)],
        body=POLICY_PUSH_BODY,
    )
    return push_send(
        push_devices_for_users(user_ids=user_ids),
        lambda device: note,
        once_key=lambda device: f"privacy:push:policy{document.pk}:d{device.pk}",
    )
