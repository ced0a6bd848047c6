"""A participant's account is never given staff powers, and an account with
staff powers never registers as a participant (issue 12): whichever way it
is tried, admin or code, it is refused with a message and nothing changes."""

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse

from accounts import roles
from accounts.models import DinasOperator
from accounts.services.registration import participant_register
from tests.catalog.test_admin_powers import _form_data
from tests.catalog.test_catalog import world  # noqa: F401  (fixture)
from tests.factories import UserFactory, make_operator, make_participant, make_profile, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(client):
    client.cookies["django_language"] = "en"


def test_no_code_path_adds_a_participant_to_an_institutions_or_platforms_staff(world):  # noqa: F811
    institution, _ = world["institution"]("LPK Jaga")
    participant = make_participant()
    with pytest.raises(ValidationError), transaction.atomic():
        institution.staff.add(participant.user)
    with pytest.raises(ValidationError), transaction.atomic():
        participant.user.platforms.add(world["platform"])
    assert not institution.staff.filter(pk=participant.user_id).exists()
    assert not participant.user.platforms.exists()


def test_an_administrator_cannot_make_a_participant_staff_in_the_user_admin(client):
    participant = make_participant()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    url = reverse("admin:accounts_user_change", args=[participant.user_id])
    curator = roles_group(roles.PMO_CURATOR)
    for change in ({"is_staff": "on"}, {"groups": [str(curator.pk)]}, {"is_superuser": "on"}):
        response = client.post(url, {**_form_data(client, url), **change})
        assert response.status_code == 200
        assert "cannot be given staff powers" in response.content.decode()
    participant.user.refresh_from_db()
    assert not participant.user.is_staff and not participant.user.is_superuser
    assert list(participant.user.groups.values_list("name", flat=True)) in ([], [roles.PARTICIPANT])


def test_a_participant_is_not_made_a_dinas_operator(client):
    participant = make_participant()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    response = client.post(
        reverse("admin:accounts_dinasoperator_add"),
        {"user": participant.user_id, "office_name": "Disnaker Bandung", "province_code": "32"},
    )
    assert response.status_code == 200
    assert "cannot be given staff powers" in response.content.decode()
    assert not DinasOperator.objects.exists()


@pytest.mark.parametrize("who", ["pmo", "institution", "operator"])
def test_an_account_with_staff_powers_cannot_register_as_a_participant(who, world):  # noqa: F811
    if who == "pmo":
        user = make_staff(roles.PMO_FINANCE_MAKER)
    elif who == "institution":
        _, user = world["institution"]("LPK Daftar")
    else:
        user = make_operator()
    with pytest.raises(ValidationError) as refused:
        participant_register(user=user, profile=make_profile())
    assert refused.value.code == "staff_account"
    assert not hasattr(user, "participant") or user.participant is None


def roles_group(name):
    from django.contrib.auth.models import Group

    return Group.objects.get(name=name)
