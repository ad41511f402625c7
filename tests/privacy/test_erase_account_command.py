"""``manage.py erase_account <uuid> [--now]``: a development way to watch an erasure."""

from __future__ import annotations

from io import StringIO

import pytest
from django.conf import LazySettings
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import User
from chat.models import Message
from media.models import MediaFile
from privacy.erasure import erasure_leftovers
from privacy.models import PrivacyRequest, RequestStatus
from tests.factories.privacy import user_with_history

pytestmark = pytest.mark.django_db


def _run(*args: str) -> str:
    out = StringIO()
    call_command("erase_account", *args, stdout=out)
    return out.getvalue()


def test_now_erases_the_account_at_once_and_says_nothing_is_left() -> None:
    world = user_with_history(messages=3, files=1)
    me = world["me"]
    user_id = me.pk
    assert Message.objects.filter(sender_id=user_id).exists()

    output = _run(str(me.uuid), "--now")

    assert "done, complete" in output
    assert "left of the account: nothing" in output
    assert erasure_leftovers(user_id=user_id) == {}
    assert not User.objects.filter(pk=user_id).exists()
    assert not MediaFile.objects.filter(owner_id=user_id).exists()
    request = PrivacyRequest.objects.get(uuid=output.split()[1].rstrip(":"))
    assert request.status == RequestStatus.COMPLETE
    actions = list(request.events.order_by("created_at", "pk").values_list("action", flat=True))
    assert "started" in actions  # the early start is in the request's audit trail
    assert world["friend"].pk in set(User.objects.values_list("pk", flat=True))


def test_without_now_the_erasure_waits_out_its_cooling_off() -> None:
    me = user_with_history(messages=1, files=0)["me"]
    output = _run(str(me.uuid))
    assert "scheduled, scheduled for" in output
    me.refresh_from_db()
    assert me.is_active is False  # locked during the cooling-off, not erased
    request = PrivacyRequest.objects.get(user=me)
    assert request.status == RequestStatus.SCHEDULED

    # --now later ends the same request's cooling-off.
    assert "done, complete" in _run(str(me.uuid), "--now")
    assert PrivacyRequest.objects.filter(pk=request.pk, status=RequestStatus.COMPLETE).exists()


def test_refused_in_production_and_for_unknown_accounts(settings: LazySettings) -> None:
    me = user_with_history(messages=1, files=0)["me"]
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="development only"):
        _run(str(me.uuid), "--now")
    settings.PRODUCTION = False
    assert User.objects.filter(pk=me.pk, is_active=True).exists()
    with pytest.raises(CommandError, match="No account"):
        _run("00000000-0000-0000-0000-000000000000", "--now")
    with pytest.raises(CommandError, match="Not a uuid"):
        _run("nonsense", "--now")
