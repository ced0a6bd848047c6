"""Every page of the PMO's admin opens for an administrator with a purchase's
whole trail in the database: each list, each list sorted by each of its
columns, and the first record's page. Amounts read as rupiah."""

import re

import pytest
from django.contrib import admin
from django.urls import reverse

from enrollment.services import reviews
from tests.factories import UserFactory

from .conftest import completed_enrollment

pytestmark = pytest.mark.django_db


def test_every_admin_list_sort_and_record_page_opens_and_shows_rupiah(client, committed, world):
    institution, staff = world["institution"]("LPK Semua Halaman")
    enrollment = completed_enrollment(committed, world, institution, staff, price=950_000)
    reviews.review_create(
        participant=enrollment.participant, enrollment_id=enrollment.pk, rating=4, text="Cukup baik dan jelas"
    )
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    client.cookies["django_language"] = "id"
    opened = 0
    for model, model_admin in admin.site._registry.items():
        meta = model._meta
        changelist = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        response = client.get(changelist)
        assert response.status_code == 200, changelist
        columns = len(model_admin.get_list_display(response.wsgi_request))
        for i in range(1, columns + 1):
            assert client.get(changelist, {"o": str(i)}).status_code == 200, f"{changelist}?o={i}"
        first = model_admin.get_queryset(response.wsgi_request).first()
        if first is not None:
            change = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[first.pk])
            assert client.get(change).status_code == 200, change
        opened += 1
    assert opened >= 20

    purchases = client.get(reverse("admin:enrollment_enrollment_changelist")).content.decode()
    assert "Rp 950.000" in purchases
    accounts = client.get(reverse("admin:payments_account_changelist")).content.decode()
    assert re.search(r"Rp \d{1,3}(\.\d{3})+", accounts)
    assert not re.search(r">\s*950000\s*<", purchases + accounts)
