"""Online registration: the profile form, its rules and what it stores."""

import datetime
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from accounts import crypto
from accounts.models import FamilyCard, Participant, User
from accounts.services.registration import participant_register
from tests.factories import UserFactory, make_participant, make_profile, profile_post_data

pytestmark = pytest.mark.django_db


def refusal(profile, user=None):
    """The (field, code) pairs a registration is refused with."""
    with pytest.raises(ValidationError) as exc:
        participant_register(user=user or UserFactory(), profile=profile)
    error = exc.value
    if hasattr(error, "error_dict"):
        return {(field, e.code) for field, errors in error.error_dict.items() for e in errors}
    return {(None, e.code) for e in error.error_list}


def counts():
    return (User.objects.count(), Participant.objects.count(), FamilyCard.objects.count())


def test_a_person_registers_online_and_sees_their_masked_profile(client):
    user = UserFactory()
    client.force_login(user)
    profile = make_profile(province="32", gender="F", birth_date=datetime.date(1995, 8, 17))
    response = client.post(reverse("accounts:register"), profile_post_data(profile))
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:verify_phone")

    participant = Participant.objects.get(user=user)
    assert participant.nik == profile.nik
    assert participant.family_card.number == profile.kk_number
    assert (participant.province_code, participant.regency_code) == ("32", "3273")
    assert participant.status == Participant.Status.REGISTERED
    assert participant.channel == Participant.Channel.ONLINE
    assert participant.registered_by is None
    assert participant.phone == "+62" + profile.phone[1:]
    assert user.groups.filter(name="participant").exists()
    change = participant.events.get()
    assert (change.from_status, change.to_status, change.actor) == ("", "registered", user)

    page = client.get(reverse("home")).content.decode()
    assert profile.nik not in page
    assert crypto.mask(profile.nik) in page
    assert profile.nik[:4] + "********" + profile.nik[-4:] in page
    assert "Bandung" in page and "Jawa Barat" in page


def test_nik_and_kk_are_not_in_clear_in_the_database():
    profile = make_profile()
    participant = participant_register(user=UserFactory(), profile=profile)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_participant WHERE id = %s", [participant.pk])
        participant_row = " ".join(str(v) for v in cursor.fetchone())
        cursor.execute("SELECT * FROM accounts_familycard WHERE id = %s", [participant.family_card_id])
        card_row = " ".join(str(v) for v in cursor.fetchone())
    for row in (participant_row, card_row):
        assert profile.nik not in row
        assert profile.kk_number not in row
        assert profile.nik[-8:] not in row
    assert Participant.objects.get(nik_index=crypto.nik_index(profile.nik)) == participant


def test_ciphertext_cannot_be_filtered_by_mistake():
    with pytest.raises(Exception, match=r"Unsupported lookup 'exact'"):
        list(Participant.objects.filter(nik="3273015708950001"))


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"nik": "327301570895"}, ("nik", "nik_length")),
        ({"nik": "32730157O8950001"}, ("nik", "nik_not_digits")),
        ({"nik": "9973015708950001"}, ("nik", "nik_region")),
        ({"nik": "3273013102950001"}, ("nik", "nik_date")),
        ({"nik": ""}, ("nik", "required")),
        ({"kk_number": "1234"}, ("kk_number", "kk_length")),
        ({"phone": "0812-34"}, ("phone", "phone_invalid")),
        ({"phone": "+1 202 555 0143"}, ("phone", "phone_invalid")),
        ({"phone": "022 1234567"}, ("phone", "phone_not_mobile")),
        ({"phone": "abc"}, ("phone", "phone_invalid")),
        ({"full_name": ""}, ("full_name", "required")),
        ({"full_name": "A" * 101}, ("full_name", "too_long")),
        ({"full_name": "Siti <script>"}, ("full_name", "name_invalid")),
        ({"address": "x" * 256}, ("address", "too_long")),
        ({"birth_place": ""}, ("birth_place", "required")),
        ({"education": "phd"}, ("education", "required")),
        ({"employment_status": ""}, ("employment_status", "required")),
        ({"birth_date": None}, ("birth_date", "required")),
    ],
)
def test_each_bad_field_is_refused_and_nothing_is_written(overrides, expected):
    before = counts()
    assert expected in refusal(make_profile(**overrides))
    assert counts()[1:] == before[1:]


def test_birth_date_must_agree_with_the_nik():
    profile = make_profile(birth_date=datetime.date(1995, 8, 17))
    wrong = make_profile(nik=profile.nik, birth_date=datetime.date(1995, 8, 18))
    assert ("birth_date", "birth_date_mismatch") in refusal(wrong)


def test_gender_must_agree_with_the_nik():
    woman = make_profile(gender="F")
    assert ("gender", "gender_mismatch") in refusal(make_profile(nik=woman.nik, gender="M"))


def test_age_limit_is_18_on_the_day():
    today = timezone.localdate()
    eighteen_today = today.replace(year=today.year - 18) if not (today.month == 2 and today.day == 29) else None
    if eighteen_today is None:  # pragma: no cover - leap day
        eighteen_today = datetime.date(today.year - 18, 3, 1)
    participant_register(user=UserFactory(), profile=make_profile(birth_date=eighteen_today, gender="M"))
    one_day_short = eighteen_today + datetime.timedelta(days=1)
    assert ("birth_date", "too_young") in refusal(make_profile(birth_date=one_day_short, gender="M"))


@override_settings(PRAKERJA_MIN_AGE=21)
def test_age_limit_is_configurable():
    nineteen = datetime.date(timezone.localdate().year - 19, 1, 1)
    assert ("birth_date", "too_young") in refusal(make_profile(birth_date=nineteen))


def test_a_nik_registers_once():
    profile = make_profile()
    participant_register(user=UserFactory(), profile=profile)
    again = make_profile(nik=profile.nik, birth_date=profile.birth_date, gender=profile.gender)
    assert refusal(again) == {("nik", "nik_taken")}


def test_an_account_registers_one_profile():
    participant = make_participant()
    assert refusal(make_profile(), user=participant.user) == {(None, "already_registered")}


def test_a_verified_phone_number_belongs_to_one_participant(committed, sms_outbox):
    from accounts.services.phone import participant_send_phone_code, participant_verify_phone
    from tests.accounts.test_phone_verification import sent_code

    first = make_participant()
    committed(participant_send_phone_code, participant=first)
    participant_verify_phone(participant=first, code=sent_code(sms_outbox, first.phone))
    assert refusal(make_profile(phone=first.phone)) == {("phone", "phone_taken")}


def test_an_unverified_number_does_not_lock_out_its_real_owner(committed, sms_outbox):
    """An operator's typo puts someone's number on another participant."""
    from accounts.services.phone import participant_send_phone_code, participant_verify_phone
    from tests.accounts.test_phone_verification import sent_code

    typo = make_participant()
    owner = participant_register(user=UserFactory(), profile=make_profile(phone=typo.phone))
    committed(participant_send_phone_code, participant=owner)
    participant_verify_phone(participant=owner, code=sent_code(sms_outbox, owner.phone))
    # Now the number is the owner's: the other participant cannot verify it.
    with pytest.raises(ValidationError) as exc:
        participant_send_phone_code(participant=typo)
    assert exc.value.error_dict["phone"][0].code == "phone_taken"


def test_a_kk_in_other_scripts_digits_is_refused_not_counted_apart():
    kk = "3273010101990077"
    make_participant(kk_number=kk)
    make_participant(kk_number=kk)
    arabic_indic = kk[:4] + "".join(chr(0x0660 + int(d)) for d in kk[4:])
    assert arabic_indic != kk and arabic_indic.isdigit()
    assert refusal(make_profile(kk_number=arabic_indic)) == {("kk_number", "kk_not_digits")}
    assert FamilyCard.objects.count() == 1


def test_at_most_two_people_per_family_card():
    kk = "3273010101990007"
    make_participant(kk_number=kk)
    make_participant(kk_number=kk)
    before = counts()
    assert refusal(make_profile(kk_number=kk)) == {("kk_number", "kk_full")}
    assert counts()[1:] == before[1:]


@override_settings(PRAKERJA_MAX_PARTICIPANTS_PER_KK=3)
def test_family_card_limit_is_configurable():
    kk = "3273010101990008"
    for _ in range(3):
        make_participant(kk_number=kk)
    assert refusal(make_profile(kk_number=kk)) == {("kk_number", "kk_full")}


def test_the_form_shows_each_refusal_next_to_its_field_in_indonesian(client):
    client.force_login(UserFactory())
    data = profile_post_data(make_profile())
    data.update(nik="327301570895", phone="12")
    response = client.post(reverse("accounts:register"), data)
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["nik"] == ["NIK terdiri dari tepat 16 digit; yang ini 12 digit."]
    assert "phone" in form.errors
    assert Participant.objects.count() == 0
    html = response.content.decode()
    assert 'id="id_nik_errors"' in html and 'role="alert"' in html


def test_the_form_speaks_english_when_chosen(client):
    client.force_login(UserFactory())
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    data = profile_post_data(make_profile())
    data["nik"] = "327301570895"
    response = client.post(reverse("accounts:register"), data)
    assert response.context["form"].errors["nik"] == ["A NIK has exactly 16 digits; this one has 12."]


def test_a_wrong_type_date_is_a_field_error_not_a_crash(client):
    client.force_login(UserFactory())
    data = profile_post_data(make_profile())
    data["birth_date"] = "kemarin"
    response = client.post(reverse("accounts:register"), data)
    assert response.status_code == 200
    assert "birth_date" in response.context["form"].errors
    assert Participant.objects.count() == 0


def test_registration_needs_a_login(client):
    response = client.get(reverse("accounts:register"))
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


def _race(n, target):
    """Runs ``target(i)`` in n threads released at once; returns results."""
    barrier = threading.Barrier(n)
    results = [None] * n

    def run(i):
        try:
            barrier.wait()
            results[i] = target(i)
        except Exception as exc:  # the result is what the test checks
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@pytest.mark.django_db(transaction=True)
def test_two_registrations_of_one_nik_at_once_give_one_participant():
    profile = make_profile()
    users = [UserFactory() for _ in range(4)]
    results = _race(
        4,
        lambda i: participant_register(user=users[i], profile=make_profile(nik=profile.nik, phone=f"08129{i:07d}")),
    )
    assert sum(isinstance(r, Participant) for r in results) == 1
    refusals = [r for r in results if not isinstance(r, Participant)]
    assert all(isinstance(r, ValidationError) and r.error_dict["nik"][0].code == "nik_taken" for r in refusals)
    assert Participant.objects.filter(nik_index=crypto.nik_index(profile.nik)).count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_registrations_on_one_family_card_respect_the_limit():
    kk = "3273010101990009"
    users = [UserFactory() for _ in range(5)]
    profiles = [make_profile(kk_number=kk) for _ in range(5)]
    results = _race(5, lambda i: participant_register(user=users[i], profile=profiles[i]))
    assert sum(isinstance(r, Participant) for r in results) == 2
    assert FamilyCard.objects.get(number_index=crypto.kk_index(kk)).members.count() == 2
    refusals = [r for r in results if not isinstance(r, Participant)]
    assert {r.error_dict["kk_number"][0].code for r in refusals} == {"kk_full"}


def test_registration_attempts_are_limited_per_account(client):
    """Each refusal says whether a NIK is registered: the asking is limited."""
    client.force_login(UserFactory())
    data = profile_post_data(make_profile())
    data["nik"] = "1"
    for _ in range(20):
        assert "nik" in client.post(reverse("accounts:register"), data).context["form"].errors
    response = client.post(reverse("accounts:register"), profile_post_data(make_profile()))
    assert response.context["form"].non_field_errors() == ["Terlalu banyak percobaan. Coba lagi dalam satu jam."]
    assert Participant.objects.count() == 0
    # Another account is not affected.
    assert refusal(make_profile(nik="1")) == {("nik", "nik_length")}


@pytest.mark.django_db(transaction=True)
def test_a_form_sent_twice_at_once_registers_once_and_says_so():
    user = UserFactory()
    profile = make_profile()
    results = _race(4, lambda i: participant_register(user=user, profile=profile))
    assert sum(isinstance(r, Participant) for r in results) == 1
    refusals = [r for r in results if not isinstance(r, Participant)]
    assert all(isinstance(r, ValidationError) for r in refusals), refusals
    assert {r.error_list[0].code if not hasattr(r, "error_dict") else "nik_taken" for r in refusals} <= {
        "already_registered",
        "nik_taken",
    }
    assert Participant.objects.filter(user=user).count() == 1
