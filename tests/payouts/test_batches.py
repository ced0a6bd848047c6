"""Payout batches end to end, on PostgreSQL, with the Xendit client talking
HTTP to the stand-in gateway and its webhooks coming back to a live server.
Celery runs the tasks in-process here; test_worker.py runs a real worker."""

import csv
import io
import json
import time

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from catalog.models import Institution
from enrollment.models import Enrollment
from payments.models import Account
from payouts.models import Payout, PayoutBatch, PayoutItem
from payouts.services import batches
from payouts.tasks import poll_payouts, send_payout
from tests.factories import UserFactory

from .conftest import completed_enrollment, ledger_ok, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def balance(kind, owner=""):
    account = Account.objects.filter(kind=kind, owner=owner).first()
    return account.balance if account else 0


def payable(institution):
    return balance("institution_payable", f"institution:{institution.pk}")


def approved_batch(finance):
    batch = batches.payout_batch_build(by=finance["maker"], cutoff=timezone.now())
    batches.payout_batch_submit(batch_id=batch.pk, by=finance["maker"])
    batches.payout_batch_approve(batch_id=batch.pk, by=finance["checker"])
    return PayoutBatch.objects.get(pk=batch.pk)


def all_final(batch):
    return not Payout.objects.filter(batch=batch, status__in=["pending", "sent"]).exists()


def test_a_batch_of_mixed_outcomes_ends_with_the_right_states_ledger_and_report(
    committed, world, finance, standin, client
):
    ok, ok_staff = world["institution"]("LPK Berhasil")
    bounce, bounce_staff = world["institution"]("LPK Rekening Tutup")
    refused, refused_staff = world["institution"]("LPK Nama Salah")
    Institution.objects.filter(pk=bounce.pk).update(bank_account_number="222")
    Institution.objects.filter(pk=refused.pk).update(bank_account_number="333")
    forwarded, forwarded_staff = world["institution"]("LPK Lewat Platform")
    done = [
        completed_enrollment(committed, world, ok, ok_staff, price=300_000),
        completed_enrollment(committed, world, ok, ok_staff, price=200_000),
        completed_enrollment(committed, world, bounce, bounce_staff, price=250_000),
        completed_enrollment(committed, world, refused, refused_staff, price=400_000),
        completed_enrollment(
            committed, world, forwarded, forwarded_staff, platform=world["other_platform"], price=150_000
        ),
    ]
    standin.mode("fail", account_number="222", failure_code="INVALID_DESTINATION")
    standin.mode("refuse", account_number="333", failure_code="RECIPIENT_ACCOUNT_NUMBER_ERROR")

    batch = batches.payout_batch_build(by=finance["maker"], cutoff=timezone.now())
    # One payout per institution paid directly, one to the platform that forwards.
    assert (batch.payout_count, batch.enrollment_count, batch.total_amount) == (4, 5, 1_300_000)
    by_payee = {str(p.payee): p for p in batch.payouts.all()}
    assert by_payee["LPK Berhasil"].amount == 500_000
    assert by_payee["Tokopedia"].lines.get().institution == forwarded
    assert by_payee["Tokopedia"].account_holder == "PT T"
    assert not standin.payouts(), "nothing is sent before approval"

    batches.payout_batch_submit(batch_id=batch.pk, by=finance["maker"])
    batches.payout_batch_approve(batch_id=batch.pk, by=finance["checker"])
    wait_for(lambda: all_final(batch), what="all payouts final")
    wait_for(lambda: PayoutBatch.objects.get(pk=batch.pk).reconciled_at is not None, what="the report")
    batch.refresh_from_db()

    statuses = {str(p.payee): (p.status, p.failure_code) for p in batch.payouts.all()}
    assert statuses == {
        "LPK Berhasil": ("succeeded", ""),
        "LPK Rekening Tutup": ("failed", "INVALID_DESTINATION"),
        "LPK Nama Salah": ("failed", "RECIPIENT_ACCOUNT_NUMBER_ERROR"),
        "Tokopedia": ("succeeded", ""),
    }
    assert batch.status == "partly_failed"
    assert batch.reconciliation_ok, batch.reconciliation["problems"]
    assert batch.reconciliation["succeeded_amount"] == 650_000
    assert batch.reconciliation["failed_amount"] == 650_000
    # Paid enrolments are paid out; failed ones wait, released, for a later batch.
    states = dict(Enrollment.objects.values_list("pk", "status"))
    assert [states[e.pk] for e in done] == ["paid_out", "paid_out", "completed", "completed", "paid_out"]
    assert PayoutItem.objects.filter(batch=batch, released=True).count() == 2
    # Ledger: what succeeded left; what failed is back on the payable account.
    assert payable(ok) == 0 and payable(forwarded) == 0
    assert payable(bounce) == 250_000 and payable(refused) == 400_000
    assert balance("disbursed") == 650_000 and balance("payout_clearing") == 0
    ledger_ok()
    # Exactly one payment per payout reached the gateway; the refused one none.
    at_gateway = standin.payouts()
    assert sorted(p["amount"] for p in at_gateway) == [150_000, 250_000, 500_000]
    # The institutions whose payment failed are told why (after the commit,
    # in the thread that received the webhook).
    wait_for(lambda: sum("pembayaran" in m.subject and "gagal" in m.subject for m in mail.outbox) == 2, what="emails")
    told = {m.to[0]: m.body for m in mail.outbox}
    assert "INVALID_DESTINATION" in told[bounce_staff.email]
    assert "RECIPIENT_ACCOUNT_NUMBER_ERROR" in told[refused_staff.email]

    # Their bank details corrected, the next batch pays the released enrolments.
    Institution.objects.filter(pk__in=[bounce.pk, refused.pk]).update(bank_account_number="444")
    again = approved_batch(finance)
    assert (again.payout_count, again.enrollment_count, again.total_amount) == (2, 2, 650_000)
    wait_for(lambda: all_final(again), what="second batch final")
    assert set(Enrollment.objects.values_list("status", flat=True)) == {"paid_out"}
    assert balance("disbursed") == 1_300_000
    ledger_ok()


def test_the_maker_cannot_approve_their_own_batch_and_nothing_leaves_unapproved(
    committed, world, finance, standin, client
):
    inst, staff = world["institution"]("LPK Satu")
    completed_enrollment(committed, world, inst, staff)
    batch = batches.payout_batch_build(by=finance["maker"], cutoff=timezone.now())
    # A draft's payout sent by hand (a stray task) goes nowhere.
    send_payout.delay(batch.payouts.get().pk)
    assert not standin.payouts()
    assert batch.payouts.get().status == "pending"

    batches.payout_batch_submit(batch_id=batch.pk, by=finance["maker"])
    # A user with both roles who prepared the batch still cannot approve it.
    finance["maker"].groups.add(*finance["checker"].groups.all())
    finance["maker"] = finance["maker"].__class__.objects.get(pk=finance["maker"].pk)
    assert finance["maker"].has_perm("payouts.approve_payoutbatch")
    with pytest.raises(ValidationError) as refused:
        batches.payout_batch_approve(batch_id=batch.pk, by=finance["maker"])
    assert refused.value.code == "maker_cannot_check"
    client.force_login(finance["maker"])
    client.cookies["django_language"] = "en"
    page = client.get(reverse("admin:payouts_payoutbatch_change", args=[batch.pk])).content.decode()
    assert "another PMO finance checker" in page and "/approve/" not in page
    client.post(reverse("admin:payouts_payoutbatch_approve", args=[batch.pk]))
    assert PayoutBatch.objects.get(pk=batch.pk).status == "submitted"
    assert not standin.payouts()

    # The checker approves in admin, through the confirmation page.
    client.force_login(finance["checker"])
    confirm = client.get(reverse("admin:payouts_payoutbatch_approve", args=[batch.pk]))
    assert "Approve and send" in confirm.content.decode()
    client.post(reverse("admin:payouts_payoutbatch_approve", args=[batch.pk]))
    wait_for(lambda: all_final(batch))
    batch.refresh_from_db()
    assert (batch.status, batch.decided_by) == ("settled", finance["checker"])
    assert len(standin.payouts()) == 1
    history = [(c.to_status, c.actor) for c in batch.events.all()]
    assert history == [
        ("draft", finance["maker"]),
        ("submitted", finance["maker"]),
        ("approved", finance["checker"]),
        ("sending", None),
        ("settled", None),
    ]


def test_the_maker_prepares_in_admin_sees_every_line_and_the_checker_rejects(
    committed, world, finance, standin, client
):
    inst, staff = world["institution"]("LPK Dua")
    enrollment = completed_enrollment(committed, world, inst, staff, price=275_000)
    client.force_login(finance["maker"])
    client.cookies["django_language"] = "en"
    add = reverse("admin:payouts_payoutbatch_add")
    future = timezone.localtime() + timezone.timedelta(days=1)
    response = client.post(add, {"cutoff_0": future.strftime("%Y-%m-%d"), "cutoff_1": future.strftime("%H:%M:%S")})
    assert "cannot be in the future" in response.content.decode()
    past = timezone.localtime() - timezone.timedelta(days=30)
    response = client.post(add, {"cutoff_0": past.strftime("%Y-%m-%d"), "cutoff_1": "00:00:00"})
    assert "No completed enrolment waits for payment" in response.content.decode()
    assert not PayoutBatch.objects.exists(), "a refused build leaves nothing behind"

    time.sleep(1)  # the form's cut-off is to the second
    now = timezone.localtime()
    response = client.post(add, {"cutoff_0": now.strftime("%Y-%m-%d"), "cutoff_1": now.strftime("%H:%M:%S")})
    batch = PayoutBatch.objects.get()
    assert response.url == reverse("admin:payouts_payoutbatch_change", args=[batch.pk])
    page = client.get(response.url).content.decode()
    assert ("LPK Dua" in page and "275.000" in page) or "275,000" in page
    items = client.get(reverse("admin:payouts_payoutitem_changelist") + f"?batch__id__exact={batch.pk}")
    assert str(enrollment.pk) in items.content.decode()
    client.post(reverse("admin:payouts_payoutbatch_submit", args=[batch.pk]))
    assert PayoutBatch.objects.get().status == "submitted"
    # The same enrolment cannot go into a second batch while this one lives.
    with pytest.raises(ValidationError):
        batches.payout_batch_build(by=finance["maker"], cutoff=timezone.now())

    client.force_login(finance["checker"])
    reject = reverse("admin:payouts_payoutbatch_reject", args=[batch.pk])
    assert "Say why" in client.post(reject, {"reason": "  "}).content.decode()
    client.post(reject, {"reason": "Rekening lembaga belum diverifikasi"})
    batch.refresh_from_db()
    assert (batch.status, batch.rejection_reason) == ("rejected", "Rekening lembaga belum diverifikasi")
    assert not standin.payouts()
    # Rejected, its enrolment is free for the next batch.
    assert batches.payout_batch_build(by=finance["maker"], cutoff=timezone.now()).enrollment_count == 1


def test_a_lost_answer_retried_pays_once_and_a_missing_webhook_is_found_by_polling(
    committed, world, finance, standin, settings, client
):
    inst, staff = world["institution"]("LPK Tiga")
    Institution.objects.filter(pk=inst.pk).update(bank_account_number="555")
    completed_enrollment(committed, world, inst, staff)
    # The gateway creates the payout but its answer comes after the client gave up.
    standin.mode("timeout", account_number="555", delay=1.5, settle_after=4)
    batch = approved_batch(finance)
    payout = batch.payouts.get()
    wait_for(lambda: len(standin.payouts()) == 1)
    at_gateway = standin.payouts()
    assert len(at_gateway) == 1 and at_gateway[0]["create_requests"] >= 2, at_gateway
    wait_for(lambda: Payout.objects.get(pk=payout.pk).status == "succeeded")
    assert Payout.objects.get(pk=payout.pk).gateway_id == at_gateway[0]["id"]

    # A payout whose webhook never comes: polling finds it.
    inst2, staff2 = world["institution"]("LPK Empat")
    Institution.objects.filter(pk=inst2.pk).update(bank_account_number="666")
    completed_enrollment(committed, world, inst2, staff2)
    standin.mode("no_webhook", account_number="666")
    batch2 = approved_batch(finance)
    payout2 = batch2.payouts.get()
    wait_for(lambda: any(p["status"] == "SUCCEEDED" for p in standin.payouts() if p["account_number"] == "666"))
    assert Payout.objects.get(pk=payout2.pk).status == "sent"
    # A webhook with the right token but a forged body (FAILED) is checked
    # with the gateway, which says the payout succeeded: that is recorded.
    forged = {"event": "payout.failed", "data": {**standin.payouts()[-1], "status": "FAILED"}}
    response = client.post(
        reverse("payouts:gateway_webhook"),
        json.dumps(forged),
        content_type="application/json",
        headers={"x-callback-token": settings.XENDIT_CALLBACK_TOKEN},
    )
    assert response.status_code == 200 and Payout.objects.get(pk=payout2.pk).status == "succeeded"
    # And polling finds a payout whose webhook never came.
    inst3, staff3 = world["institution"]("LPK Tujuh")
    Institution.objects.filter(pk=inst3.pk).update(bank_account_number="999")
    completed_enrollment(committed, world, inst3, staff3)
    standin.mode("no_webhook", account_number="999")
    batch2 = approved_batch(finance)
    payout2 = batch2.payouts.get()
    wait_for(lambda: any(p["status"] == "SUCCEEDED" for p in standin.payouts() if p["account_number"] == "999"))
    assert Payout.objects.get(pk=payout2.pk).status == "sent"
    settings.PAYOUT_POLL_AFTER_SECONDS = 0
    assert poll_payouts()["recorded"] == 1
    assert Payout.objects.get(pk=payout2.pk).status == "succeeded"
    assert PayoutBatch.objects.get(pk=batch2.pk).status == "settled"
    ledger_ok()


def test_a_payout_the_gateway_never_received_is_sent_again_by_the_poller(committed, world, finance, standin, settings):
    inst, staff = world["institution"]("LPK Lima")
    Institution.objects.filter(pk=inst.pk).update(bank_account_number="777")
    completed_enrollment(committed, world, inst, staff)
    standin.mode("error", account_number="777")  # 500 every time
    batch = approved_batch(finance)
    payout = batch.payouts.get()
    assert payout.status == "sent" and payout.attempts == 3  # first try and two retries
    assert not standin.payouts()
    standin.mode("succeed", account_number="777")
    settings.PAYOUT_POLL_AFTER_SECONDS = 0
    assert poll_payouts()["unknown"] == 1
    wait_for(lambda: Payout.objects.get(pk=payout.pk).status == "succeeded")
    assert len(standin.payouts()) == 1
    ledger_ok()


def test_a_duplicate_webhook_changes_nothing_and_a_forged_one_is_refused(
    committed, world, finance, standin, client, settings
):
    inst, staff = world["institution"]("LPK Enam")
    Institution.objects.filter(pk=inst.pk).update(bank_account_number="888")
    completed_enrollment(committed, world, inst, staff)
    standin.mode("twice", account_number="888")
    batch = approved_batch(finance)
    wait_for(lambda: len(standin.gateway.webhooks_sent) == 2)
    assert [w["status"] for w in standin.gateway.webhooks_sent] == [200, 200]
    payout = Payout.objects.get(batch=batch)
    assert payout.status == "succeeded"
    assert payout.events.filter(to_status="succeeded").count() == 1
    assert balance("disbursed") == 300_000
    ledger_ok()

    url = reverse("payouts:gateway_webhook")
    forged = {"event": "payout.failed", "data": {**standin.payouts()[0], "status": "FAILED"}}
    for token in ("", "wrong-token"):
        response = client.post(
            url, json.dumps(forged), content_type="application/json", headers={"x-callback-token": token}
        )
        assert response.status_code == 403
    # Even with the right token, a failure after success does not undo it.
    response = client.post(
        url,
        json.dumps(forged),
        content_type="application/json",
        headers={"x-callback-token": settings.XENDIT_CALLBACK_TOKEN},
    )
    assert response.status_code == 200
    payout.refresh_from_db()
    assert payout.status == "succeeded" and balance("disbursed") == 300_000
    ledger_ok()

    # The invariant command notices a payout changed behind the ledger's back.
    Payout.objects.filter(pk=payout.pk).update(amount=300_001)
    out = io.StringIO()
    with pytest.raises(SystemExit):
        call_command("check_ledger", stdout=out)
    assert "BREACH every payout equals its lines" in out.getvalue()
    assert "BREACH every payout's ledger movements match its status" in out.getvalue()


def test_statements_show_each_institution_and_platform_their_own_and_the_pmo_gets_csv(
    committed, world, finance, standin, client
):
    mine, my_staff = world["institution"]("LPK Milik Saya")
    other, other_staff = world["institution"]('=HYPERLINK("http://x")')
    a = completed_enrollment(committed, world, mine, my_staff, price=310_000)
    completed_enrollment(committed, world, other, other_staff, price=320_000)
    batch = approved_batch(finance)
    wait_for(lambda: all_final(batch))

    client.force_login(my_staff)
    page = client.get(reverse("payouts:institution_statement")).content.decode()
    assert "310.000" in page or "310,000" in page
    assert "HYPERLINK" not in page
    mine_payout = Payout.objects.get(institution=mine)
    detail = client.get(reverse("payouts:institution_statement_detail", args=[mine_payout.pk])).content.decode()
    assert a.participant.full_name in detail
    other_payout = Payout.objects.get(institution=other)
    assert client.get(reverse("payouts:institution_statement_detail", args=[other_payout.pk])).status_code == 404

    platform_staff = UserFactory()
    world["platform"].staff.add(platform_staff)
    client.force_login(platform_staff)
    page = client.get(reverse("payouts:platform_statement")).content.decode()
    assert "LPK Milik Saya" in page and "HYPERLINK" in page

    client.force_login(my_staff)
    assert client.get(reverse("admin:payouts_payoutbatch_csv", args=[batch.pk])).status_code == 302
    client.force_login(finance["checker"])
    response = client.get(reverse("admin:payouts_payoutbatch_csv", args=[batch.pk]))
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert sorted(int(r["amount"]) for r in rows) == [310_000, 320_000]
    assert {r["payout_status"] for r in rows} == {"succeeded"}
    # An institution's name that would be a formula in a spreadsheet stays text.
    assert {r["institution"] for r in rows} == {"LPK Milik Saya", '\'=HYPERLINK("http://x")'}


def test_a_payee_whose_bank_the_gateway_does_not_know_is_left_out_and_named(committed, world, finance, client):
    known, known_staff = world["institution"]("LPK Bank Dikenal")
    unknown, unknown_staff = world["institution"]("LPK Bank Lama")
    completed_enrollment(committed, world, known, known_staff)
    completed_enrollment(committed, world, unknown, unknown_staff)
    Institution.objects.filter(pk=unknown.pk).update(bank_name="Bank Koperasi Lama")  # from before the choices
    client.force_login(finance["maker"])
    client.cookies["django_language"] = "en"
    page = client.get(reverse("admin:payouts_payoutbatch_add")).content.decode()
    assert "LPK Bank Lama" in page and "is not one the payment gateway knows" in page
    batch = batches.payout_batch_build(by=finance["maker"], cutoff=timezone.now())
    assert [str(p.payee) for p in batch.payouts.all()] == ["LPK Bank Dikenal"]
