"""The published privacy policy is the project's own text, in English and Chinese, and
names every kind of personal data the registry declares (P9, P16, issue 19); so is the
user agreement, with the numbers of the service's settings."""

from __future__ import annotations

import re

import pytest
from django.conf import LazySettings

from privacy.registry import get_registry
from privacy.selectors import documents_current

pytestmark = pytest.mark.django_db


def test_the_current_policy_names_every_kind_of_personal_data() -> None:
    policy = documents_current()["privacy_policy"]
    english, chinese = policy.body, policy.body_zh_hans
    assert chinese.strip(), "the policy has no Chinese text"
    assert "Staff publish the full text" not in english  # not the placeholder
    registry = get_registry()
    named = {section.filename for section in registry.export_sections}
    for declaration in registry.declarations.values():
        named |= set(re.findall(r"[\w]+\.json", declaration.export))
    for filename in sorted(named):
        assert filename in english, f"the policy (English) does not name {filename}"
        assert filename in chinese, f"the policy (Chinese) does not name {filename}"
    # Both texts describe the same data: the same files, in the same order.
    assert re.findall(r"[\w]+\.json", english) == re.findall(r"[\w]+\.json", chinese)


def test_the_current_user_agreement_is_the_projects_own_text_in_both_languages(
    settings: LazySettings,
) -> None:
    agreement = documents_current()["user_agreement"]
    english, chinese = agreement.body, agreement.body_zh_hans
    assert chinese.strip(), "the agreement has no Chinese text"
    assert agreement.title_zh_hans.strip()
    assert "Staff publish the full text" not in english  # not the placeholder
    # What the service really does, its rules and how a person gets out of it.
    for words in (
        "voice posts",
        "message request",
        "voice match",
        "voice and video calls",
        "Rules of conduct",
        "Minors",
        "Bans and appeals",
        "deleting your account",
        "People's Republic of China",
    ):
        assert words in english, words
    chinese_words = ("语音动态", "消息请求", "语音匹配", "行为规范", "未成年人", "申诉", "注销")
    for words in (*chinese_words, "中华人民共和国"):
        assert words in chinese, words
    # Its numbers are the service's settings, in both languages.
    assert f"at least {settings.MEETNOW_MIN_AGE} years old" in english
    assert f"年满 {settings.MEETNOW_MIN_AGE} 周岁" in chinese
    assert f"{settings.MEETNOW_ERASURE_GRACE_DAYS}-day cooling-off" in english
    assert f"{settings.MEETNOW_ERASURE_GRACE_DAYS} 天冷静期" in chinese
    # The same sections in both languages.
    assert len(re.findall(r"^\d+\. ", english, re.M)) == 11
    assert len(re.findall(r"^[一二三四五六七八九十]+、", chinese, re.M)) == 11
