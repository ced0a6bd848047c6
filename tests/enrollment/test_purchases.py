"""Buying a course: checkout with card number and SMS code, the PMO's
authorisation on the ledger, vouchers, completion, cancellation, expiry and
reviews."""

import datetime
import re

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation

from accounts import sms
from catalog.services import course_set_suspended
from enrollment.models import Enrollment, PlatformNotice
from enrollment.services import delivery, purchases, reviews
from enrollment.services.purchases import VOUCHER_ALPHABET, enrollment_submit
from enrollment.tasks import expire_vouchers
from payments.models import Account, Transfer
from tests.factories import UserFactory

from .conftest import card_holder, ledger_ok, sms_code

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def balance(card):
    account = Account.objects.get(pk=card.account_id)
    return account.available, account.held


def payable(institution):
    account = Account.objects.filter(kind="institution_payable", owner=f"institution:{institution.pk}").first()
    return account.balance if account else 0


def buy(card, course, key=None):
    return enrollment_submit(participant=card.participant, course=course, request_key=key or f"k-{course.pk}")


def certificate(content=PDF, name="sertifikat.pdf"):
    return SimpleUploadedFile(name, content)


def test_a_participant_buys_starts_completes_and_reviews_a_course_in_the_browser(committed, courses, client):
    card = card_holder(committed)
    (course,) = courses(300_000, title="Menjahit")
    client.force_login(card.participant.user)
    client.cookies["django_language"] = "en"

    detail = client.get(reverse("catalog:detail", args=[course.pk])).content.decode()
    assert reverse("enrollment:checkout", args=[course.pk]) in detail
    checkout_url = reverse("enrollment:checkout", args=[course.pk])
    with translation.override("en"):
        committed(client.post, checkout_url, {"action": "send"})
    page = client.get(checkout_url).content.decode()
    key = re.search(r'name="request_key" value="([0-9a-f]+)"', page).group(1)
    response = client.post(
        checkout_url,
        {
            "action": "buy",
            "card_number": " ".join(re.findall("....", card.number)),
            "code": sms_code(),
            "request_key": key,
            "revision": course.published_revision_id,
        },
    )
    enrollment = Enrollment.objects.get(participant=card.participant)
    assert response.url == reverse("enrollment:purchase", args=[enrollment.pk])
    assert enrollment.status == "authorised"
    assert balance(card) == (700_000, 300_000)
    voucher = purchases.voucher_display(enrollment.voucher_code)
    assert voucher in client.get(response.url).content.decode()
    assert list(PlatformNotice.objects.filter(enrollment=enrollment).values_list("event", flat=True)) == [
        "authorised",
        "requested",
    ]

    # The institution redeems the voucher, then reports completion.
    staff = courses.staff
    client.force_login(staff)
    institution_page = reverse("enrollment:institution_enrollments")
    response = client.post(institution_page, {"voucher_code": voucher.lower().replace("-", " ")})
    assert response.status_code == 302
    enrollment.refresh_from_db()
    assert enrollment.status == "redeemed"
    response = client.post(
        reverse("enrollment:institution_complete", args=[enrollment.pk]), {"certificate": certificate()}
    )
    assert response.status_code == 302
    enrollment.refresh_from_db()
    assert enrollment.status == "completed"
    assert balance(card) == (700_000, 0)
    assert payable(courses.institution) == 300_000
    assert enrollment.hold.status == Transfer.Status.POSTED
    ledger_ok()

    # The participant downloads the certificate and reviews the course.
    client.force_login(card.participant.user)
    download = client.get(reverse("enrollment:certificate", args=[enrollment.pk]))
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF
    assert download["Content-Disposition"].startswith("attachment")
    response = client.post(
        reverse("enrollment:purchase_review", args=[enrollment.pk]), {"rating": "4", "text": "Jelas dan praktis."}
    )
    assert response.status_code == 302
    course.refresh_from_db()
    assert (course.rating_count, course.rating_average) == (1, 4.0)
    assert "★ 4.0 (1)" in client.get(reverse("catalog:list")).content.decode()
    card_page = client.get(reverse("enrollment:card")).content.decode()
    assert "Menjahit" in card_page and "Rp 700,000" in card_page.replace(".", ",")


def test_a_wrong_card_number_or_code_buys_nothing(committed, courses):
    card = card_holder(committed)
    first, second = courses(300_000, 200_000)
    committed(purchases.checkout_send_code, participant=card.participant, course=first)
    code = sms_code()
    assert "300.000" in sms.outbox[-1].body  # the SMS says what the code confirms

    other = list(card.number)
    other[3] = str((int(other[3]) + 1) % 10)
    attempts = [
        ({"card_number": "".join(other), "code": code, "course": first}, "card_number"),
        ({"card_number": card.number, "code": "000000" if code != "000000" else "111111", "course": first}, "code"),
        ({"card_number": card.number, "code": code, "course": second}, "code"),  # a code for another course
        ({"card_number": card.number, "code": "", "course": first}, "code"),
    ]
    for data, field in attempts:
        with pytest.raises(ValidationError) as err:
            purchases.enrollment_request(
                participant=card.participant,
                request_key="k1",
                revision_id=data["course"].published_revision_id,
                **data,
            )
        assert field in err.value.error_dict
    assert not Enrollment.objects.exists()
    assert balance(card) == (1_000_000, 0)


@pytest.mark.parametrize("case", ["insufficient_balance", "course_in_progress", "already_bought", "not_on_sale"])
def test_every_refusal_says_why_and_moves_no_money(committed, courses, case):
    card = card_holder(committed, balance=500_000)
    cheap, dear, other = courses(300_000, 600_000, 100_000)
    if case == "insufficient_balance":
        target = dear
    elif case == "course_in_progress":
        buy(card, cheap)
        target = other
    elif case == "already_bought":
        buy(card, cheap, key="first")
        target = cheap
    else:
        course_set_suspended(course=cheap, suspended=True, reason="Aduan", by=courses.world["curator2"])
        target = cheap
    before = balance(card)
    transfers = Transfer.objects.count()
    enrollment = buy(card, target, key="second")
    assert enrollment.status == "declined" and enrollment.decline_code == case
    assert enrollment.hold is None and enrollment.voucher_code is None
    assert balance(card) == before and Transfer.objects.count() == transfers
    ledger_ok()
    with translation.override("id"):
        assert purchases.decline_message(case) != purchases.decline_message("x")
    assert PlatformNotice.objects.filter(enrollment=enrollment, event="declined").exists()


def test_the_price_confirmed_is_the_price_paid_or_nothing_is_bought(committed, courses):
    from catalog.services import revision_decide, revision_start, revision_submit, revision_update
    from tests.catalog.test_catalog import ALL1, ALL2, course_input

    card = card_holder(committed)
    (course,) = courses(300_000)
    seen = course.published_revision_id
    committed(purchases.checkout_send_code, participant=card.participant, course=course)
    code = sms_code()
    # The institution publishes a dearer version before the participant presses Buy.
    world, staff = courses.world, courses.staff
    revision = revision_start(course=course, by=staff)
    revision_update(revision=revision, data=course_input(price=900_000), by=staff)
    revision_submit(revision=revision, by=staff)
    revision_decide(revision=revision, stage=1, approve=True, checklist=ALL1, reason="", by=world["curator1"])
    revision_decide(revision=revision, stage=2, approve=True, checklist=ALL2, reason="", by=world["curator2"])
    course.refresh_from_db()
    enrollment = purchases.enrollment_request(
        participant=card.participant,
        course=course,
        revision_id=seen,
        card_number=card.number,
        code=code,
        request_key="k",
    )
    assert (enrollment.status, enrollment.decline_code, enrollment.price) == ("declined", "course_changed", 300_000)
    assert balance(card) == (1_000_000, 0)
    # A code sent for one version does not confirm another.
    with pytest.raises(ValidationError):
        purchases.enrollment_request(
            participant=card.participant,
            course=course,
            revision_id=course.published_revision_id,
            card_number=card.number,
            code=code,
            request_key="k2",
        )


def test_a_card_past_its_first_purchase_deadline_buys_nothing(committed, courses, monkeypatch):
    card = card_holder(committed)
    (course,) = courses(300_000)
    later = card.purchase_deadline + datetime.timedelta(seconds=1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    enrollment = buy(card, course)
    assert (enrollment.status, enrollment.decline_code) == ("declined", "deadline_passed")
    assert balance(card) == (1_000_000, 0)


def test_a_second_course_only_after_the_first_is_completed(committed, courses):
    card = card_holder(committed)
    first, second = courses(300_000, 300_000)
    bought = buy(card, first)
    assert buy(card, second, key="a").decline_code == "course_in_progress"
    delivery.enrollment_redeem(user=courses.staff, voucher_code=bought.voucher_code)
    delivery.enrollment_complete(user=courses.staff, enrollment_id=bought.pk, certificate=certificate())
    assert buy(card, second, key="b").status == "authorised"
    assert balance(card) == (400_000, 300_000)


def test_a_repeated_request_returns_the_first_result_and_moves_money_once(committed, courses):
    card = card_holder(committed)
    (course,) = courses(300_000)
    first = buy(card, course, key="same")
    again = buy(card, course, key="same")
    assert again.pk == first.pk and again.voucher_code == first.voucher_code
    assert Transfer.objects.filter(is_hold=True).count() == 1
    assert balance(card) == (700_000, 300_000)
    other = buy(card, course, key="different")
    assert other.status == "declined" and other.decline_code == "already_bought"
    assert Enrollment.objects.filter(status="authorised").count() == 1


def test_the_participant_cancels_an_unused_voucher_and_gets_the_balance_back(committed, courses, client):
    card = card_holder(committed)
    (course,) = courses(300_000)
    enrollment = buy(card, course)
    stranger = card_holder(committed)
    client.force_login(stranger.participant.user)
    assert client.post(reverse("enrollment:purchase_cancel", args=[enrollment.pk])).status_code == 404
    assert client.get(reverse("enrollment:purchase", args=[enrollment.pk])).status_code == 404

    client.force_login(card.participant.user)
    client.post(reverse("enrollment:purchase_cancel", args=[enrollment.pk]))
    enrollment.refresh_from_db()
    assert enrollment.status == "cancelled" and enrollment.hold.status == Transfer.Status.VOIDED
    assert balance(card) == (1_000_000, 0)
    again = purchases.enrollment_cancel(participant=card.participant, enrollment_id=enrollment.pk)
    assert again.status == "cancelled" and balance(card) == (1_000_000, 0)
    translation.activate("en")  # the requests above left the thread in Indonesian
    with pytest.raises(ValidationError) as err:
        delivery.enrollment_redeem(user=courses.staff, voucher_code=enrollment.voucher_code)
    assert err.value.messages == ["This voucher is no longer valid (Cancelled)."]
    # The course can be bought again after a cancellation.
    assert buy(card, course, key="again").status == "authorised"
    ledger_ok()


def test_an_unused_voucher_expires_and_its_hold_is_released(committed, courses, monkeypatch):
    card = card_holder(committed, voucher_valid_days=3)
    (course,) = courses(300_000)
    enrollment = buy(card, course)
    assert enrollment.voucher_expires_at - timezone.now() < datetime.timedelta(days=3, seconds=5)
    assert expire_vouchers()["expired"] == 0
    later = enrollment.voucher_expires_at + datetime.timedelta(seconds=1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    with pytest.raises(ValidationError) as err:
        delivery.enrollment_redeem(user=courses.staff, voucher_code=enrollment.voucher_code)
    assert err.value.messages == ["This voucher has expired."]
    assert expire_vouchers()["expired"] == 1
    assert expire_vouchers()["expired"] == 0
    enrollment.refresh_from_db()
    assert enrollment.status == "expired" and balance(card) == (1_000_000, 0)
    ledger_ok()


def test_a_voucher_is_redeemed_once_and_only_by_its_own_institution(committed, courses, client):
    card = card_holder(committed)
    (course,) = courses(300_000)
    enrollment = buy(card, course)
    _rival, rival_staff = courses.world["institution"]("LPK Saingan")
    with pytest.raises(ValidationError) as err:
        delivery.enrollment_redeem(user=rival_staff, voucher_code=enrollment.voucher_code)
    assert err.value.messages == ["No voucher of your institution has this code."]
    delivery.enrollment_redeem(user=courses.staff, voucher_code=enrollment.voucher_code)
    with pytest.raises(ValidationError) as err:
        delivery.enrollment_redeem(user=courses.staff, voucher_code=enrollment.voucher_code)
    assert err.value.messages == ["This voucher has already been used."]
    # Another institution cannot complete it or read its certificate either.
    with pytest.raises(ValidationError):
        delivery.enrollment_complete(user=rival_staff, enrollment_id=enrollment.pk, certificate=certificate())
    client.force_login(rival_staff)
    assert client.get(reverse("enrollment:institution_complete", args=[enrollment.pk])).status_code == 404


def test_voucher_codes_carry_60_random_bits_and_guessing_is_rate_limited(committed, courses, settings):
    codes = {purchases.voucher_new() for _i in range(5000)}
    assert len(codes) == 5000
    assert all(len(c) == 12 and set(c) <= set(VOUCHER_ALPHABET) for c in codes)
    assert len(VOUCHER_ALPHABET) ** 12 == 2**60
    settings.VOUCHER_REDEEM_ATTEMPTS_PER_HOUR = 5
    staff = courses.staff
    for _i in range(5):
        with pytest.raises(ValidationError) as err:
            delivery.enrollment_redeem(user=staff, voucher_code=purchases.voucher_new())
        assert err.value.message_dict == {"voucher_code": ["No voucher of your institution has this code."]}
    with pytest.raises(ValidationError) as err:
        delivery.enrollment_redeem(user=staff, voucher_code=purchases.voucher_new())
    assert err.value.messages == ["Too many voucher codes were tried. Try again in an hour."]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"<html><script>alert(1)</script></html>", "The certificate must be a PDF, JPEG or PNG file."),
        (b"", "Choose the certificate file."),
        (PDF + b"0" * (5 * 1024 * 1024), "The file is larger than 5 MB."),
    ],
)
def test_a_bad_certificate_file_is_refused_and_nothing_changes(committed, courses, content, message):
    card = card_holder(committed)
    (course,) = courses(300_000)
    enrollment = buy(card, course)
    delivery.enrollment_redeem(user=courses.staff, voucher_code=enrollment.voucher_code)
    with pytest.raises(ValidationError) as err:
        delivery.enrollment_complete(
            user=courses.staff, enrollment_id=enrollment.pk, certificate=certificate(content, "x.pdf")
        )
    assert err.value.messages == [message]
    enrollment.refresh_from_db()
    assert enrollment.status == "redeemed" and balance(card) == (700_000, 300_000)


def test_the_certificate_is_shown_only_to_those_concerned(committed, courses, client):
    card = card_holder(committed)
    (course,) = courses(300_000)
    enrollment = buy(card, course)
    delivery.enrollment_redeem(user=courses.staff, voucher_code=enrollment.voucher_code)
    delivery.enrollment_complete(user=courses.staff, enrollment_id=enrollment.pk, certificate=certificate())
    url = reverse("enrollment:certificate", args=[enrollment.pk])
    _rival, rival_staff = courses.world["institution"]("LPK Lain")
    for user, status in [
        (card.participant.user, 200),
        (courses.staff, 200),
        (card_holder(committed).participant.user, 404),
        (rival_staff, 404),
        (UserFactory(), 404),
    ]:
        client.force_login(user)
        assert client.get(url).status_code == status


def test_reviews_need_a_completed_course_stars_from_1_to_5_and_come_once(committed, courses):
    card = card_holder(committed)
    (course,) = courses(300_000)
    enrollment = buy(card, course)
    with pytest.raises(ValidationError) as err:
        reviews.review_create(participant=card.participant, enrollment_id=enrollment.pk, rating=5, text="Bagus")
    assert err.value.messages == ["You can review a course once you have completed it."]
    delivery.enrollment_redeem(user=courses.staff, voucher_code=enrollment.voucher_code)
    delivery.enrollment_complete(user=courses.staff, enrollment_id=enrollment.pk, certificate=certificate())
    for rating, text in [(0, "x"), (6, "x"), (5, ""), (5, "x" * 2001)]:
        with pytest.raises(ValidationError):
            reviews.review_create(participant=card.participant, enrollment_id=enrollment.pk, rating=rating, text=text)
    other = card_holder(committed)
    with pytest.raises(ValidationError):
        reviews.review_create(participant=other.participant, enrollment_id=enrollment.pk, rating=5, text="x")
    reviews.review_create(participant=card.participant, enrollment_id=enrollment.pk, rating=5, text="Bagus")
    with pytest.raises(ValidationError) as err:
        reviews.review_create(participant=card.participant, enrollment_id=enrollment.pk, rating=1, text="Ubah")
    assert err.value.messages == ["You have already reviewed this course."]
    course.refresh_from_db()
    assert (course.rating_count, course.rating_sum) == (1, 5)


def test_the_catalog_sorts_by_rating_with_unrated_courses_last(committed, courses, client):
    low, high, unrated = courses(100_000, 100_000, 100_000)
    for course, stars in [(low, 2), (high, 5)]:
        card = card_holder(committed)
        enrollment = buy(card, course)
        delivery.enrollment_redeem(user=courses.staff, voucher_code=enrollment.voucher_code)
        delivery.enrollment_complete(user=courses.staff, enrollment_id=enrollment.pk, certificate=certificate())
        reviews.review_create(participant=card.participant, enrollment_id=enrollment.pk, rating=stars, text="ok")
    page = client.get(reverse("catalog:list"), {"sort": "rating"}).content.decode()
    positions = [page.index(reverse("catalog:detail", args=[c.pk]) + '"') for c in (high, low, unrated)]
    assert positions == sorted(positions)


def test_the_platform_sees_its_orders_and_no_one_elses(committed, courses, client):
    card = card_holder(committed)
    (course,) = courses(300_000, title="Barista")
    buy(card, course)
    platform = courses.world["platform"]
    staff = UserFactory()
    platform.staff.add(staff)
    client.force_login(staff)
    page = client.get(reverse("enrollment:platform_orders")).content.decode()
    assert "Barista 1" in page
    client.force_login(UserFactory())
    assert client.get(reverse("enrollment:platform_orders")).status_code == 404


def test_list_pages_cost_the_same_queries_for_one_row_or_many(committed, courses, client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries(user, url):
        client.force_login(user)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    platform_staff = UserFactory()
    courses.world["platform"].staff.add(platform_staff)
    card = card_holder(committed)
    first, *rest = courses(100_000, 100_000, 100_000)
    pages = [
        (card.participant.user, reverse("enrollment:card")),
        (courses.staff, reverse("enrollment:institution_enrollments")),
        (platform_staff, reverse("enrollment:platform_orders")),
    ]

    def take(course, key):
        enrollment = buy(card, course, key=key)
        delivery.enrollment_redeem(user=courses.staff, voucher_code=enrollment.voucher_code)
        delivery.enrollment_complete(user=courses.staff, enrollment_id=enrollment.pk, certificate=certificate())

    take(first, "a")
    one = [queries(user, url) for user, url in pages]
    for i, course in enumerate(rest):
        take(course, f"b{i}")
    many = [queries(user, url) for user, url in pages]
    assert many == one


def test_a_webinar_cannot_be_reported_completed_before_it_has_taken_place(committed, courses, monkeypatch):
    from catalog.models import Course
    from tests.catalog.test_catalog import publish

    card = card_holder(committed)
    start = timezone.now() + datetime.timedelta(days=2)
    revision = publish(
        courses.world,
        courses.institution,
        courses.staff,
        delivery_mode="webinar",
        starts_at=start,
        ends_at=start + datetime.timedelta(hours=6),
        capacity=20,
    )
    course = Course.objects.get(pk=revision.course_id)
    enrollment = buy(card, course)
    delivery.enrollment_redeem(user=courses.staff, voucher_code=enrollment.voucher_code)
    with pytest.raises(ValidationError) as refused:
        delivery.enrollment_complete(user=courses.staff, enrollment_id=enrollment.pk, certificate=certificate())
    assert refused.value.code == "not_finished"
    assert Enrollment.objects.get(pk=enrollment.pk).status == "redeemed"
    assert payable(courses.institution) == 0

    later = start + datetime.timedelta(hours=7)
    monkeypatch.setattr(timezone, "now", lambda: later)
    delivery.enrollment_complete(user=courses.staff, enrollment_id=enrollment.pk, certificate=certificate())
    assert Enrollment.objects.get(pk=enrollment.pk).status == "completed"
    assert payable(courses.institution) == revision.price
    ledger_ok()


def test_an_authorisation_costs_twenty_statements_and_records_all_it_did(
    committed, courses, django_assert_max_num_queries
):
    """The database's share of a purchase (issue 16): at most 20 statements
    (BEGIN and COMMIT included) with the institution's payable account made,
    and still both audit events, both platform notices and the hold."""
    from audit.models import AuditEvent

    someone_else, card = card_holder(committed), card_holder(committed)
    first, second = courses(300_000, 200_000)
    assert first.institution_id == second.institution_id
    buy(someone_else, first)  # the institution's payable account is created by its first sale
    with django_assert_max_num_queries(20):
        bought = buy(card, second)
    assert bought.status == "authorised" and bought.voucher_code and bought.hold.amount == 200_000
    events = AuditEvent.objects.filter(content_type__model="enrollment", object_id=bought.pk).order_by("id")
    assert [(e.from_status, e.to_status) for e in events] == [("", "requested"), ("requested", "authorised")]
    notices = PlatformNotice.objects.filter(enrollment=bought).order_by("id")
    assert list(notices.values_list("event", flat=True)) == ["requested", "authorised"]
    ledger_ok()
