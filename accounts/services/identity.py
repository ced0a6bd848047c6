"""Showing identity numbers to staff: masked by default, in full only to roles
that need it, and every full view logged (UU 27/2022)."""

from dataclasses import dataclass

from .. import crypto
from ..models import IdentityAccessLog, Participant, User


@dataclass(frozen=True)
class IdentityView:
    nik: str
    kk_number: str
    full: bool


def participant_identity_for_staff(*, participant: Participant, staff: User) -> IdentityView:
    if staff.has_perm("accounts.view_full_nik"):
        IdentityAccessLog.objects.create(staff=staff, participant=participant, what="nik_kk_full")
        return IdentityView(nik=participant.nik, kk_number=participant.family_card.number, full=True)
    return IdentityView(
        nik=crypto.mask(participant.nik),
        kk_number=crypto.mask(participant.family_card.number),
        full=False,
    )
