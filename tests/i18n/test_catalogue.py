"""The Chinese catalogue is complete and its compiled form is current (issue 17)."""

from __future__ import annotations

import re
from pathlib import Path

import polib
from django.conf import settings

from meetnow.lib.catalogues import compile_catalogue, locale_dir


def _catalogue() -> polib.POFile:
    return polib.pofile(str(locale_dir() / "zh_Hans" / "LC_MESSAGES" / "django.po"))


def _key(entry: polib._BaseEntry) -> tuple[str | None, str]:
    return entry.msgctxt, entry.msgid


def test_every_message_is_translated_and_none_is_fuzzy() -> None:
    catalogue = _catalogue()
    assert len(catalogue) > 100
    untranslated = [_key(e) for e in catalogue.untranslated_entries()]
    fuzzy = [_key(e) for e in catalogue.fuzzy_entries()]
    assert untranslated == [], "untranslated (run make messages, then translate)"
    assert fuzzy == [], "fuzzy (check the translation, then drop the fuzzy flag)"
    assert catalogue.metadata["Language"] == "zh_Hans"


def test_placeholders_survive_translation() -> None:
    """A translation keeps every placeholder of its English text (else a KeyError at run time)."""
    wrong = [
        entry.msgid
        for entry in _catalogue()
        if entry.msgstr and _placeholders(entry.msgid) != _placeholders(entry.msgstr)
    ]
    assert wrong == []


def _placeholders(text: str) -> list[str]:
    return sorted(re.findall(r"%\(\w+\)[sd]|%[sd]", text))


def test_the_committed_mo_is_the_compiled_po(tmp_path: Path) -> None:
    """``make run`` uses the committed .mo: it must say what the .po says."""
    for po_path in sorted(locale_dir().glob("*/LC_MESSAGES/*.po")):
        committed = polib.mofile(str(po_path.with_suffix(".mo")))
        copy = tmp_path / po_path.name
        copy.write_bytes(po_path.read_bytes())
        fresh = polib.mofile(str(compile_catalogue(copy)))
        assert {_key(e): e.msgstr for e in committed} == {_key(e): e.msgstr for e in fresh}, (
            f"{po_path} changed: run make messages"
        )


def test_the_languages_are_english_and_simplified_chinese() -> None:
    assert [code for code, _name in settings.LANGUAGES] == ["en", "zh-hans"]
