"""A participant's account and a working account never coincide.

Staff powers (PMO roles in admin, an institution's or a platform's staff, a
Dinas office) move money or see other people's data; a participant's
account holds a card and a balance. One account with both would let a
person redeem their own voucher or approve their own payout, so: a
participant's account is never given staff powers, and an account with them
cannot register as a participant. The person uses a second account.
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

STAFF_REFUSED = _(
    "This account belongs to a participant and cannot be given staff powers. "
    "The person works with a separate account of their own."
)
PARTICIPANT_REFUSED = _(
    "This account has staff powers (PMO, an institution, a platform or a Dinas office) and cannot register as a "
    "participant. Sign up with a separate account for your own training."
)


def is_participant(user) -> bool:
    from accounts.models import Participant

    return user is not None and user.pk is not None and Participant.objects.filter(user_id=user.pk).exists()


def has_staff_powers(user) -> bool:
    from accounts.models import DinasOperator
    from catalog.models import Institution, Platform

    return bool(
        user.is_staff
        or user.is_superuser
        or Institution.objects.filter(staff=user).exists()
        or Platform.objects.filter(staff=user).exists()
        or DinasOperator.objects.filter(user=user).exists()
    )


def refuse_staff_powers_for_participants(user_ids) -> None:
    from accounts.models import Participant

    if Participant.objects.filter(user_id__in=list(user_ids)).exists():
        raise ValidationError(STAFF_REFUSED, code="participant_staff")


def guard_partner_staff(sender, instance, action, reverse, model, pk_set, **kwargs) -> None:
    """m2m_changed of Institution.staff and Platform.staff: no participant
    is added, whatever adds them (the admin's form already offers none)."""
    if action != "pre_add" or not pk_set:
        return
    if reverse:  # user.institutions.add(...): ``instance`` is the user
        refuse_staff_powers_for_participants([instance.pk])
    else:
        refuse_staff_powers_for_participants(pk_set)
