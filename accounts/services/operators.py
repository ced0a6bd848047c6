"""Dinas operators: staff of a provincial labour office."""

from django.contrib.auth.models import Group
from django.db import transaction

from ..models import DinasOperator
from ..roles import DINAS_OPERATOR
from .powers import refuse_staff_powers_for_participants


def dinas_operator_save(*, operator: DinasOperator) -> DinasOperator:
    """Saves an operator's office and province and puts the user in the
    dinas_operator role, without which the operator pages stay closed."""
    refuse_staff_powers_for_participants([operator.user_id])
    with transaction.atomic():
        operator.save()
        operator.user.groups.add(Group.objects.get(name=DINAS_OPERATOR))
    return operator
