"""Who may change what on an institution or a platform in admin (issue 12):
a curator can neither redirect an institution's money nor make anyone its
staff; only an administrator grants staff, and never to a participant."""

import pytest
from django.urls import reverse

from accounts import roles
from catalog.models import Institution, Platform
from tests.factories import UserFactory, make_participant, make_staff

from .test_catalog import world  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def _form_data(client, url) -> dict:
    """The change form's fields as the page holds them (what a browser sends)."""
    response = client.get(url)
    assert response.status_code == 200
    form = response.context["adminform"].form
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value is None:
            continue
        data[name] = [str(v) for v in value] if isinstance(value, list | tuple) else str(value)
    for inline in response.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        data.update({management.add_prefix(name): str(management[name].value()) for name in management.fields})
    return data


def test_a_curator_cannot_change_an_institutions_bank_account_or_staff(client, world):  # noqa: F811
    institution, staff = world["institution"]("LPK Rekening Aman")
    intruder = UserFactory(email="penyusup@example.com")
    client.force_login(make_staff(roles.PMO_CURATOR))
    url = reverse("admin:catalog_institution_change", args=[institution.pk])
    page = client.get(url).content.decode()
    assert 'name="bank_account_number"' not in page and 'name="staff"' not in page
    data = {"name": "LPK Rekening Aman Baru", "bank_account_number": "999999", "staff": [staff.pk, intruder.pk]}
    assert client.post(url, {**_form_data(client, url), **data}).status_code == 302  # saved: the name
    assert Institution.objects.get(pk=institution.pk).name == "LPK Rekening Aman Baru"
    institution.refresh_from_db()
    assert institution.bank_account_number == "123"
    assert list(institution.staff.all()) == [staff]

    platform = world["other_platform"]
    url = reverse("admin:catalog_platform_change", args=[platform.pk])
    client.post(url, {**_form_data(client, url), "settlement_account_number": "999999", "staff": [intruder.pk]})
    platform.refresh_from_db()
    assert platform.settlement_account_number == "1" and not platform.staff.exists()


def test_an_administrator_grants_staff_but_never_to_a_participant(client, world):  # noqa: F811
    institution, staff = world["institution"]("LPK Staf Baru")
    participant = make_participant()
    newcomer = UserFactory(email="staf.lembaga@example.com")
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    url = reverse("admin:catalog_institution_change", args=[institution.pk])
    offered = {u.pk for u in client.get(url).context["adminform"].form.fields["staff"].queryset}
    assert newcomer.pk in offered and participant.user_id not in offered
    response = client.post(url, {**_form_data(client, url), "staff": [staff.pk, participant.user_id]})
    assert response.status_code == 200  # refused, with the form's message
    assert list(Institution.objects.get(pk=institution.pk).staff.all()) == [staff]
    response = client.post(url, {**_form_data(client, url), "staff": [staff.pk, newcomer.pk]})
    assert response.status_code == 302
    assert set(Institution.objects.get(pk=institution.pk).staff.all()) == {staff, newcomer}
    assert Platform.objects.filter(staff=participant.user).count() == 0
