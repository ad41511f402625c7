"""Identity verification in the personal-data registry (P7, P13, P15, P18).

Loaded by ``privacy.handlers`` (last lines); the erase step goes before the final
"delete the account" step. Export holds the masked record only (what is stored:
never the number, the full name or face media).
"""

from __future__ import annotations

from typing import Any

from accounts.identity.models import IdentityVerification
from accounts.identity.selectors import identity_export_rows, identity_rows_count
from privacy.registry import Declaration, EraseStep, ExportSection, Strategy, registry


def _erase(ctx: Any, limit: int, _: Any) -> int:
    ids = list(
        IdentityVerification.objects.filter(user_id=ctx.user_id).values_list("pk", flat=True)[
            :limit
        ]
    )
    if not ids:
        return 0
    IdentityVerification.objects.filter(pk__in=ids).delete()
    return len(ids)


def _register() -> None:
    if "accounts.IdentityVerification" in registry.declarations:
        return
    steps = registry.erase_steps
    last = next(
        (i for i, s in enumerate(steps) if (s.model, s.action) == ("accounts.User", "delete")),
        len(steps),
    )
    steps[last:last] = [
        EraseStep(model="accounts.IdentityVerification", action="delete", apply=_erase)
    ]
    registry.declare(
        Declaration(
            "accounts.IdentityVerification",
            Strategy.DELETE,
            "identity_verification.json",
            "identity_failed_attempts",
            "Masked name and ID number, the ID's keyed hash and birth date, status; never the "
            "number, the full name or face media. Failed attempts are purged after 30 days.",
            remaining=lambda uid: identity_rows_count(user_id=uid),
        )
    )
    registry.section(
        ExportSection(
            name="identity_verification",
            filename="identity_verification.json",
            description="Your identity verification attempts: status, masked name and ID number.",
            rows=lambda uid, after, limit: identity_export_rows(
                user_id=uid, after=after, limit=limit
            ),
            count=lambda uid: identity_rows_count(user_id=uid),
        )
    )


_register()
