"""Where an institution's or a platform's money goes changes only by a
request one finance officer makes and another approves (issue 12)."""

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from accounts import roles
from catalog.models import Institution, PayeeChange, Platform
from catalog.services import payee_change_decide, payee_change_request
from tests.factories import UserFactory, make_staff

from .test_catalog import world  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db

ADD = "admin:catalog_payeechange_add"


@pytest.fixture
def finance():
    return {"maker": make_staff(roles.PMO_FINANCE_MAKER), "checker": make_staff(roles.PMO_FINANCE_CHECKER)}


@pytest.fixture(autouse=True)
def _english(client):
    client.cookies["django_language"] = "en"


def request_page(client, payee, **data):
    kind = payee._meta.model_name
    url = reverse(ADD) + f"?{kind}={payee.pk}"
    current = client.get(url).context["form"].initial
    return client.post(url, {**current, **data})


def test_a_requested_account_is_paid_to_only_after_a_second_officer_approves(
    client,
    committed,
    world,  # noqa: F811
    finance,
):
    institution, staff = world["institution"]("LPK Rekening Baru")
    client.force_login(finance["maker"])
    response = committed(
        request_page, client, institution, bank_account_number="9876 5432 10", note="Surat lembaga 2 Desember"
    )
    change = PayeeChange.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/{change.pk}/change/")
    assert (change.status, change.after["bank_account_number"]) == ("pending", "9876543210")
    institution.refresh_from_db()
    assert institution.bank_account_number == "123"  # the old account is still paid to
    assert mail.outbox[-1].to == [staff.email]
    assert "requested" in mail.outbox[-1].subject and "••••••3210" in mail.outbox[-1].body
    page = client.get(reverse("admin:catalog_institution_change", args=[institution.pk])).content.decode()
    assert "waits for approval" in page

    # The maker is not offered a decision, and a decision posted anyway is refused.
    page = client.get(reverse("admin:catalog_payeechange_change", args=[change.pk])).content.decode()
    assert 'value="approve"' not in page and "another PMO finance checker" in page
    client.post(reverse("admin:catalog_payeechange_decide", args=[change.pk]), {"decision": "approve"})
    change.refresh_from_db()
    assert change.status == "pending"

    client.force_login(finance["checker"])
    page = client.get(reverse("admin:catalog_payeechange_change", args=[change.pk])).content.decode()
    assert 'value="approve"' in page
    response = committed(
        client.post, reverse("admin:catalog_payeechange_decide", args=[change.pk]), {"decision": "approve"}
    )
    assert response.status_code == 302
    institution.refresh_from_db()
    assert institution.bank_account_number == "9876543210"
    event = institution.events.filter(name="payee_details").get()
    assert event.payload == {"before": {"bank_account_number": "123"}, "after": {"bank_account_number": "9876543210"}}
    assert event.actor == finance["checker"]
    assert "changed" in mail.outbox[-1].subject and mail.outbox[-1].to == [staff.email]


def test_nobody_approves_their_own_request_not_even_an_administrator(world):  # noqa: F811
    institution, _ = world["institution"]("LPK Empat Mata")
    boss = UserFactory(is_staff=True, is_superuser=True)
    change = payee_change_request(
        payee=institution,
        details={"bank_name": "ID_BRI", "bank_account_number": "55555", "bank_account_holder": "X Y Z"},
        note="Pindah ke BRI",
        by=boss,
    )
    with pytest.raises(ValidationError) as own:
        payee_change_decide(change_id=change.pk, approve=True, reason="", by=boss)
    assert own.value.code == "own"
    with transaction.atomic(), pytest.raises(IntegrityError):
        PayeeChange.objects.filter(pk=change.pk).update(status="approved", decided_by=boss)
    institution.refresh_from_db()
    assert institution.bank_name == "ID_BNI"


def test_a_rejection_needs_a_reason_and_changes_nothing(client, world, finance):  # noqa: F811
    institution, _ = world["institution"]("LPK Ditolak")
    change = payee_change_request(
        payee=institution,
        details={**_details(institution), "bank_account_number": "777777"},
        note="Minta pindah",
        by=finance["maker"],
    )
    client.force_login(finance["checker"])
    url = reverse("admin:catalog_payeechange_decide", args=[change.pk])
    response = client.post(url, {"decision": "reject", "reason": ""}, follow=True)
    assert "Say why the change is rejected" in response.content.decode()
    client.post(url, {"decision": "reject", "reason": "Surat tidak ditandatangani"})
    change.refresh_from_db()
    institution.refresh_from_db()
    assert change.status == "rejected" and institution.bank_account_number == "123"


def _details(payee):
    from catalog.services import payee_details

    return payee_details(payee)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"bank_account_number": "¹²³⁴⁵⁶"}, "bank_account_number"),
        ({"bank_account_number": ""}, "bank_account_number"),
        ({"bank_account_number": "1" * 40}, "bank_account_number"),
        ({"bank_account_holder": ""}, "bank_account_holder"),
        ({"bank_name": "ID_NOPE"}, "bank_name"),
        ({"note": ""}, "note"),
        ({"note": "n" * 501}, "note"),
    ],
)
def test_bad_details_are_refused_next_to_the_field_and_nothing_is_requested(
    client,
    world,  # noqa: F811
    finance,
    data,
    field,
):
    institution, _ = world["institution"]("LPK Salah Isi")
    client.force_login(finance["maker"])
    response = request_page(client, institution, **{"bank_account_number": "5555", "note": "Pindah rekening", **data})
    assert response.status_code == 200
    assert response.context["form"].errors.get(field), response.context["form"].errors
    assert not PayeeChange.objects.exists()


def test_a_second_request_while_one_waits_and_an_unchanged_one_are_refused(world, finance):  # noqa: F811

    institution, _ = world["institution"]("LPK Dua Kali")
    Institution.objects.filter(pk=institution.pk).update(bank_account_number="1234567")
    institution.refresh_from_db()
    with pytest.raises(ValidationError) as same:
        payee_change_request(payee=institution, details=_details(institution), note="Sama saja", by=finance["maker"])
    assert same.value.code == "no_change"
    new = {**_details(institution), "bank_account_number": "424242"}
    payee_change_request(payee=institution, details=new, note="Pertama", by=finance["maker"])
    with pytest.raises(ValidationError) as waiting:
        payee_change_request(
            payee=institution, details={**new, "bank_account_number": "434343"}, note="Kedua", by=finance["maker"]
        )
    assert waiting.value.code == "pending"
    assert PayeeChange.objects.count() == 1


def test_a_platform_that_forwards_names_its_settlement_account(world, finance):  # noqa: F811

    platform = world["platform"]
    with pytest.raises(ValidationError) as exc:
        payee_change_request(
            payee=platform, details={"payout_route": "via_platform"}, note="Mulai meneruskan", by=finance["maker"]
        )
    assert "settlement_bank" in exc.value.message_dict
    change = payee_change_request(
        payee=platform,
        details={
            "payout_route": "via_platform",
            "settlement_bank": "ID_MANDIRI",
            "settlement_account_number": "1234-5678",
            "settlement_account_holder": "PT Sisnaker",
        },
        note="Perjanjian baru",
        by=finance["maker"],
    )
    payee_change_decide(change_id=change.pk, approve=True, reason="", by=finance["checker"])
    platform.refresh_from_db()
    assert (platform.payout_route, platform.settlement_account_number) == ("via_platform", "12345678")


def test_a_curator_or_a_platform_staff_member_cannot_request_or_decide(client, world, finance):  # noqa: F811
    institution, staff = world["institution"]("LPK Tanpa Hak")
    change = payee_change_request(
        payee=institution,
        details={**_details(institution), "bank_account_number": "616161"},
        note="Pindah",
        by=finance["maker"],
    )
    client.force_login(make_staff(roles.PMO_CURATOR))
    assert client.get(reverse(ADD) + f"?institution={institution.pk}").status_code == 403
    client.post(reverse("admin:catalog_payeechange_decide", args=[change.pk]), {"decision": "approve"})
    client.force_login(staff)
    assert client.get(reverse("admin:catalog_payeechange_change", args=[change.pk])).status_code == 302
    change.refresh_from_db()
    assert change.status == "pending"
    assert Institution.objects.get(pk=institution.pk).bank_account_number == "123"
    assert Platform.objects.filter(payee_changes__isnull=False).count() == 0


def test_the_requester_withdraws_their_own_change_and_a_missing_one_is_a_404(client, world, finance):  # noqa: F811
    institution, _ = world["institution"]("LPK Tarik")
    change = payee_change_request(
        payee=institution,
        details={**_details(institution), "bank_account_number": "818181"},
        note="Salah ketik",
        by=finance["maker"],
    )
    client.force_login(finance["maker"])
    response = client.post(reverse("admin:catalog_payeechange_withdraw", args=[change.pk]), follow=True)
    assert "The change is withdrawn." in response.content.decode()
    change.refresh_from_db()
    assert change.status == "withdrawn"
    client.force_login(finance["checker"])
    for name in ("admin:catalog_payeechange_decide", "admin:catalog_payeechange_withdraw"):
        assert client.post(reverse(name, args=[999_999]), {"decision": "approve"}).status_code == 404
    # A decision that is neither approve nor reject decides nothing.
    other = payee_change_request(
        payee=institution,
        details={**_details(institution), "bank_account_number": "828282"},
        note="Pindah",
        by=finance["maker"],
    )
    client.post(reverse("admin:catalog_payeechange_decide", args=[other.pk]), {"decision": "maybe", "reason": "x"})
    other.refresh_from_db()
    assert other.status == "pending"
