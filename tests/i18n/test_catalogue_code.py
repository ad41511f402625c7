"""Every string marked in the code is in the Chinese catalogue (issue 17).

Runs Django's ``makemessages`` over a copy of the source in a temporary folder (never
touching ``locale/``) and compares its message ids with the committed catalogue.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import polib
import pytest
from django.conf import LazySettings
from django.core.management import call_command

from meetnow.lib.catalogues import DOMAIN, IGNORE, LANGUAGES, locale_dir, makemessages_options
from tests.conftest import require_or_skip


def _ids(catalogue: polib.POFile) -> set[tuple[str | None, str]]:
    return {(e.msgctxt, e.msgid) for e in catalogue if not e.obsolete}


def test_every_marked_string_is_in_the_catalogue(
    tmp_path: Path, settings: LazySettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_or_skip(
        shutil.which("xgettext") is not None,
        "xgettext is missing (apt-get install gettext): makemessages can't read the code",
    )
    committed_dir = locale_dir()  # before LOCALE_PATHS points at the copy
    source = tmp_path / "src"
    skip = {*(p for p in IGNORE if "*" not in p), ".git", "locale", "__pycache__"}
    shutil.copytree(
        settings.BASE_DIR,
        source,
        ignore=lambda folder, names: {n for n in names if n in skip},
        symlinks=True,
    )
    (source / "locale").mkdir()
    settings.LOCALE_PATHS = [str(source / "locale")]
    monkeypatch.chdir(source)
    call_command("makemessages", **makemessages_options())

    for language in LANGUAGES:
        fresh = polib.pofile(str(source / "locale" / language / "LC_MESSAGES" / f"{DOMAIN}.po"))
        committed = polib.pofile(str(committed_dir / language / "LC_MESSAGES" / f"{DOMAIN}.po"))
        missing = sorted(_ids(fresh) - _ids(committed), key=str)
        assert len(_ids(fresh)) > 100
        assert missing == [], (
            f"{len(missing)} marked strings are not in locale/{language}: run `make messages` "
            "and translate them"
        )
