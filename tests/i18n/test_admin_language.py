"""Staff pages in the staff member's own language (issue 17)."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.services import staff_create
from privacy.models import PrivacyRequest
from tests.factories.accounts import UserFactory

pytestmark = pytest.mark.django_db


def _client(language: str) -> Client:
    staff = staff_create(username=f"staff-{language}", password="x" * 16, superuser=True)
    staff.language = language
    staff.save(update_fields=["language"])
    client = Client()
    client.force_login(staff)
    return client


def test_user_change_list_in_chinese_for_a_chinese_staff_member() -> None:
    UserFactory.create(nickname="Offender")
    # The browser asks for English; the account's language wins on staff pages.
    page = _client("zh-hans").get("/admin/accounts/user/", HTTP_ACCEPT_LANGUAGE="en-US")
    assert page.status_code == 200
    assert page["Content-Language"] == "zh-hans"
    html = page.content.decode()
    assert '<html lang="zh-hans"' in html
    assert "封禁所选账号（会话立即结束）" in html  # our action
    assert "搜索" in html  # Django's own chrome
    assert "Ban the selected accounts" not in html


def test_an_english_staff_member_keeps_english_whatever_the_browser_says() -> None:
    page = _client("en").get("/admin/accounts/user/", HTTP_ACCEPT_LANGUAGE="zh-CN")
    html = page.content.decode()
    assert "Ban the selected accounts (sessions end at once)" in html
    assert "封禁" not in html


def test_admin_messages_in_chinese() -> None:
    target = UserFactory.create(nickname="Offender")
    client = _client("zh-hans")
    page = client.post(
        "/admin/accounts/user/",
        {"action": "ban", "_selected_action": [target.pk]},
        follow=True,
    )
    assert "已封禁 1 个账号。" in page.content.decode()


def test_privacy_queue_deadline_in_the_staff_members_language_and_zone() -> None:
    import datetime as dt

    from privacy.lifecycle import request_create
    from privacy.models import PrivacyRequest, RequestKind

    requester = UserFactory.create(nickname="Requester")
    request = request_create(
        user=requester, kind=RequestKind.RECTIFICATION, details="fix", identity_confirmed=True
    )
    # 20:30 UTC is 04:30 the next day in Shanghai (a zh-Hans account's default zone).
    PrivacyRequest.objects.filter(pk=request.pk).update(
        due_at=dt.datetime(2026, 1, 2, 20, 30, tzinfo=dt.UTC)
    )
    html = _client("zh-hans").get("/admin/privacy/privacyrequest/").content.decode()
    row = html.split('class="field-deadline"')[1].split("</td>")[0]
    assert "已逾期 2026年1月3日 04:30" in row
    english = _client("en").get("/admin/privacy/privacyrequest/").content.decode()
    row = english.split('class="field-deadline"')[1].split("</td>")[0]
    assert "OVERDUE Jan. 2, 2026, 8:30 p.m." in row


def _pending_request() -> PrivacyRequest:
    from privacy.lifecycle import request_create
    from privacy.models import RequestKind

    requester = UserFactory.create(nickname="Requester", phone="+8613800138000")
    return request_create(
        user=requester, kind=RequestKind.RECTIFICATION, details="fix", identity_confirmed=True
    )


def test_the_privacy_consoles_buttons_and_pages_in_chinese() -> None:
    request = _pending_request()
    client = _client("zh-hans")
    page = client.get(f"/admin/privacy/privacyrequest/{request.pk}/change/").content.decode()
    for button in ("批准", "拒绝", "延长截止日期", "设置法律保全", "查看手机号码"):
        assert f">{button}</a>" in page
    assert "Reveal phone number" not in page
    deny = client.get(f"/admin/privacy/privacyrequest/{request.pk}/act/deny/").content.decode()
    assert "<title>拒绝：" in deny
    assert 'value="拒绝"' in deny
    reveal = client.get(f"/admin/privacy/privacyrequest/{request.pk}/reveal/").content.decode()
    assert "请求人的手机号码" in reveal  # the choice of what to reveal


def test_audit_entries_read_in_each_staff_members_language() -> None:
    """Stored once as a code and parameters; each reader sees their own language,
    the reason as the staff member wrote it."""
    from django.contrib.admin.models import LogEntry

    request = _pending_request()
    chinese = _client("zh-hans")
    chinese.post(
        f"/admin/privacy/privacyrequest/{request.pk}/act/deny/",
        {"reason": "无法确认身份"},
    )
    chinese.post(
        f"/admin/privacy/privacyrequest/{request.pk}/reveal/",
        {"field": "phone", "reason": "Calling back to confirm"},
    )
    entries = LogEntry.objects.filter(object_id=str(request.pk)).order_by("id")
    assert entries.count() == 2
    english = _client("en")
    log_en = english.get("/admin/admin/logentry/").content.decode()
    log_zh = chinese.get("/admin/admin/logentry/").content.decode()
    assert "Deny. Reason: 无法确认身份" in log_en
    assert "Revealed requester&#x27;s phone number. Reason: Calling back to confirm" in log_en
    assert "已拒绝。原因：无法确认身份" in log_zh
    assert "已查看请求人的手机号码。原因：Calling back to confirm" in log_zh
    history = f"/admin/privacy/privacyrequest/{request.pk}/history/"
    assert "已拒绝。原因：无法确认身份" in chinese.get(history).content.decode()
    assert "Deny. Reason: 无法确认身份" in english.get(history).content.decode()
    # The admin's search still finds a reason written in Chinese.
    found = english.get("/admin/admin/logentry/", {"q": "无法确认身份"}).content.decode()
    assert found.count('class="field-action_time') == 1


def test_a_masked_column_is_headed_by_the_fields_translated_name() -> None:
    """Staff other than superusers see personal fields masked, under the field's name."""
    from django.contrib.auth.models import Permission

    from tests.factories.chat import make_device

    agent = staff_create(username="agent-zh", password="x" * 16, superuser=False)
    agent.language = "zh-hans"
    agent.save(update_fields=["language"])
    agent.user_permissions.add(Permission.objects.get(codename="view_device"))
    make_device(UserFactory.create(), ip_address="203.0.113.9")
    client = Client()
    client.force_login(agent)
    page = client.get("/admin/accounts/device/").content.decode()
    head = page.split("<thead>")[1].split("</thead>")[0]
    assert "column-masked_ip_address" in head
    assert "IP 地址" in head
    assert "Ip address" not in head
    assert "203.0.113.9" not in page


def test_a_requests_audit_events_read_in_the_staff_members_language() -> None:
    request = _pending_request()
    client = _client("zh-hans")
    client.post(f"/admin/privacy/privacyrequest/{request.pk}/act/deny/", {"reason": "Not you."})
    page = client.get(f"/admin/privacy/privacyrequest/{request.pk}/change/").content.decode()
    events = page.split('id="events-group"')[1].split("</table>")[0]
    assert "已驳回" in events  # the action "denied", and the status it moved to
    assert "待审核" in events  # the status it left
    assert "Not you." in events  # the staff member's reason, as typed
    assert ">denied<" not in events
    assert ">pending<" not in events


def test_staff_roles_and_permissions_read_in_chinese() -> None:
    """The groups setup_roles makes keep their English names (code finds them by
    those); a Chinese staff member reads them, and every permission, in Chinese."""
    from django.contrib.auth.models import Group

    from staff.roles import MODERATORS, roles_sync

    roles_sync()
    moderators = Group.objects.get(name=MODERATORS)
    assert moderators.name == "Moderators"
    client = _client("zh-hans")
    groups = client.get("/admin/auth/group/").content.decode()
    assert ">审核员<" in groups
    assert ">客服<" in groups
    form = client.get(f"/admin/auth/group/{moderators.pk}/change/").content.decode()
    assert "可下架上传的文件" in form  # a model's own permission
    assert "可查看用户" in form  # one of Django's defaults, named from the model
    assert "Can view user" not in form
    staff = UserFactory.create(nickname="Mod")
    user_form = client.get(f"/admin/accounts/user/{staff.pk}/change/").content.decode()
    assert ">审核员</option>" in user_form
    assert "可查看请求人被遮蔽的个人信息" in user_form  # the roles' extra permission


def test_the_dashboards_days_are_dates_in_the_staff_members_language() -> None:
    from django.utils import timezone

    from meetnow.lib.i18n import display

    today = timezone.now().date()
    page = _client("zh-hans").get("/admin/").content.decode()
    stats = page.split('id="dashboard-stats"')[1].split("</table>")[0]
    assert f"<td>{today:%Y}年{today.month}月{today.day}日</td>" in stats
    assert today.isoformat() not in stats
    english = _client("en").get("/admin/").content.decode()
    assert f"<td>{display(today)}</td>" in english.split('id="dashboard-stats"')[1]


def test_a_duplicates_event_note_reads_in_each_staff_members_language() -> None:
    """The note is stored once ("duplicate of <id>"); each reader sees their language."""
    from accounts.services import staff_create as make_staff
    from privacy.lifecycle import request_create, request_mark_duplicate
    from privacy.models import RequestKind

    requester = UserFactory.create(nickname="Requester")
    first = request_create(
        user=requester, kind=RequestKind.RECTIFICATION, details="a", identity_confirmed=True
    )
    second = request_create(
        user=requester, kind=RequestKind.RECTIFICATION, details="b", identity_confirmed=True
    )
    actor = make_staff(username="marker", password="x" * 16, superuser=True)
    request_mark_duplicate(privacy_request=second, actor=actor, original=first)
    url = f"/admin/privacy/privacyrequest/{second.pk}/change/"
    chinese = _client("zh-hans").get(url).content.decode()
    english = _client("en").get(url).content.decode()
    assert f"与请求 {first.uuid} 重复" in chinese
    assert f"duplicate of {first.uuid}" not in chinese
    assert f"duplicate of request {first.uuid}" in english
