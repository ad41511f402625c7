"""The published privacy policy is the project's own text, in English and Chinese, and
names every kind of personal data the registry declares (P9, P16, issue 19)."""

from __future__ import annotations

import re

import pytest

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
