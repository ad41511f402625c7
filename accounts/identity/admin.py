"""Support's view of identity verification (P7, P12, P18): masked, read-only, reveal logged.

Nothing here is the person's number or full name: the database holds only masked
forms. Staff who are not superusers see even those hidden (``****``) until they
reveal one with a reason, which goes to the audit trail (the admin's usual rule).
A refused duplicate shows as reason ``duplicate_id`` with the account that holds
the verified record, so support sees that it happened without seeing the number.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import OuterRef, Subquery
from django.utils.translation import gettext_lazy as _

from accounts.identity.models import IdentityVerification, VerificationStatus
from meetnow.lib.adminkit import ReadOnlyAdmin
from meetnow.lib.masking import MASK


def _hidden(value: Any) -> str:
    return MASK if value else "-"


@admin.register(IdentityVerification)
class IdentityVerificationAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "user",
        "status",
        "reason_code",
        "same_id_as",
        "provider",
        "masked_name",
        "masked_id_number",
        "verified_at",
    )
    list_filter = ("status", "reason_code", "provider")
    list_select_related = ("user",)
    date_hierarchy = "created_at"
    search_fields = ("=uuid", "=user__uuid")
    fields = (
        "uuid",
        "user",
        "status",
        "reason_code",
        "provider",
        "provider_code",
        "same_id_as",
        "masked_name",
        "masked_id_number",
        "birth_date",
        "created_at",
        "checked_at",
        "finished_at",
        "verified_at",
    )
    readonly_fields = fields
    # The stored forms are already masked (张*, **************1234); staff other than
    # superusers see them only after a logged reveal.
    masked_fields = {"masked_name": _hidden, "masked_id_number": _hidden, "birth_date": _hidden}
    reveal_fields = {
        "masked_name": (_("masked name"), lambda v: v.masked_name),
        "masked_id_number": (_("masked ID number"), lambda v: v.masked_id_number),
        "birth_date": (_("verified birth date"), lambda v: v.birth_date),
    }
    reveal_permission = "privacy.reveal_personal_data"
    list_annotations = {
        # The account holding the verified record of the same ID (duplicates).
        "holder_uuid": Subquery(
            IdentityVerification.objects.filter(
                id_hash=OuterRef("id_hash"), status=VerificationStatus.VERIFIED
            )
            .exclude(user_id=OuterRef("user_id"))
            .values("user__uuid")[:1]
        )
    }

    @admin.display(description=_("same ID as (verified account)"))
    def same_id_as(self, obj: IdentityVerification) -> str:
        holder = getattr(obj, "holder_uuid", None)
        return str(holder) if holder else "-"
