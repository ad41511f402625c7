"""Translation catalogues: refresh them from the code and compile them without GNU gettext.

``make messages`` runs ``python -m meetnow.lib.catalogues``: Django's
``makemessages`` collects every marked string into ``locale/zh_Hans/LC_MESSAGES/
django.po`` (that step needs ``xgettext``, Debian's ``gettext``), then each ``.po``
is compiled to its ``.mo`` with polib, in Python. The ``.mo`` files are committed,
so ``make run`` needs no gettext at all. tests/i18n checks that the committed
``.mo`` matches its ``.po`` and that the catalogue is complete.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

LANGUAGES = ["zh_Hans"]
DOMAIN = "django"
# What makemessages never reads: local state, the virtualenv, tests and benchmarks
# (no person reads their strings), the web client's own string tables.
IGNORE = [".venv", "var", "tests", "bench", "static", "node_modules", "*/migrations/*"]


def locale_dir() -> Path:
    return Path(settings.LOCALE_PATHS[0])


def makemessages_options() -> dict[str, object]:
    return {
        "locale": LANGUAGES,
        "domain": DOMAIN,
        "ignore_patterns": IGNORE,
        "no_location": True,
        "no_obsolete": True,
        "verbosity": 0,
    }


def compile_catalogue(po_path: Path) -> Path:
    """Write ``po_path``'s ``.mo`` beside it; fuzzy entries are left out, as msgfmt does."""
    import polib

    catalogue = polib.pofile(str(po_path))
    mo_path = po_path.with_suffix(".mo")
    catalogue.save_as_mofile(str(mo_path))
    return mo_path


def compile_all() -> list[Path]:
    return [compile_catalogue(po) for po in sorted(locale_dir().glob("*/LC_MESSAGES/*.po"))]


def main() -> None:
    import django
    from django.core.management import call_command

    django.setup()
    call_command("makemessages", **makemessages_options())
    for path in compile_all():
        print(f"compiled {path.relative_to(settings.BASE_DIR)}")  # noqa: T201 (a script)


if __name__ == "__main__":
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "meetnow.settings")
    main()
