"""KPK's jockeys (joki) registering and buying for others: links between
participants that should not exist (one browser, one phone, one face, one
incentive account, one operator's registrants sharing details, many
identity checks from one browser) join them into a group with a risk
score; a group scored high enough opens a case for each member, holding
their money when the score is high."""

from types import SimpleNamespace

import pytest
from django.urls import reverse

from accounts.models import Participant
from accounts.services.registration import participant_register_offline
from integrity.devices import COOKIE, device_seen
from integrity.models import Case, DeviceSighting
from integrity.selectors import held_participant_ids
from integrity.services.cases import case_decide
from integrity.services.links import links_find, links_scan
from kyc.models import KycSubmission
from tests.factories import UserFactory, make_operator, make_participant, make_profile, profile_post_data

pytestmark = pytest.mark.django_db

JOKI_PHONE = "081299990000"


def sign_up_in(client, **profile) -> Participant:
    """A person (here: the jockey, for someone else) registers on the site
    in this browser: the device cookie comes with every request."""
    user = UserFactory()
    client.force_login(user)
    response = client.post(reverse("accounts:register"), profile_post_data(make_profile(**profile)))
    assert response.status_code == 302, response.content.decode()[:500]
    return Participant.objects.get(user=user)


def test_a_jockeys_registrations_from_one_browser_and_phone_become_one_group_whose_money_is_held(client, officer):
    a = sign_up_in(client, full_name="Ani Lestari")
    b = sign_up_in(client, full_name="Bambang Irawan", phone=JOKI_PHONE)
    c = sign_up_in(client, full_name="Cici Paramida", phone=JOKI_PHONE)
    assert COOKIE in client.cookies
    assert DeviceSighting.objects.filter(what="register").values("device_key").distinct().count() == 1
    unrelated = make_participant(full_name="Dodi Mandiri")
    # C's identity check found A's face (as the KYC check's 1:N search leaves it).
    KycSubmission.objects.create(
        participant=c, attempt=1, status="needs_review", duplicate_of=a, flags=["possible_duplicate"]
    )

    (group,) = links_find()
    assert group.members == {a.pk, b.pk, c.pk}
    kinds = sorted(link.kind for link in group.links)
    assert kinds == ["device", "face", "phone"]
    assert group.score == 15 * 2 + 25 + 40  # one browser for three, one phone for two, one face for two

    cases = links_scan()
    assert sorted(case.participant_id for case in cases) == sorted([a.pk, b.pk, c.pk])
    assert all(case.kind == "linked" and case.holds_money for case in cases)
    evidence = Case.objects.get(participant=b).evidence
    assert evidence["score"] == 95 and evidence["members"] == sorted([a.pk, b.pk, c.pk])
    assert {
        "kind": "phone",
        "label": "+62 812-****-0000",
        "member_count": 2,
        "members": sorted([b.pk, c.pk]),
        "kyc": 0,
    } in evidence["links"]
    assert JOKI_PHONE not in str(evidence)  # masked
    assert held_participant_ids([a.pk, b.pk, c.pk, unrelated.pk]) == {a.pk, b.pk, c.pk}
    assert links_scan() == []  # found again: the same cases

    # Another registrant from the same browser: the group grows. The newcomer gets a case; the
    # others' open cases show the group as it is now. A cleared member is not raised again.
    case_decide(
        case_id=Case.objects.get(participant=a).pk, by=officer, decision="clear", reason="Ibu kandung pemilik HP."
    )
    d = sign_up_in(client, full_name="Dewi Sartika")
    grown = links_scan()
    assert [case.participant_id for case in grown] == [d.pk]
    assert Case.objects.get(participant=b).evidence["member_count"] == 4
    assert Case.objects.get(participant=a).status == "cleared"
    assert Case.objects.filter(kind="linked").count() == 4


def test_a_weak_link_alone_opens_no_case_and_many_identity_checks_from_one_browser_do(settings):
    operator = make_operator()
    same = "Jl. Kenanga 5, Cimahi"
    first = participant_register_offline(operator=operator, email="w1@example.com", profile=make_profile(address=same))
    second = participant_register_offline(
        operator=operator, email="w2@example.com", profile=make_profile(address="  jl. kenanga 5, cimahi ")
    )
    (group,) = links_find()
    assert group.members == {first.pk, second.pk} and group.score == 15  # one operator, same address
    assert links_scan() == []  # below INTEGRITY_LINK_CASE_SCORE (40): a family may share an address

    # One browser sends identity checks for three people (the KYC page records each).
    kiosk = SimpleNamespace(device_token="kiosk-browser-token-0001")
    people = [make_participant() for _ in range(3)]
    for person in people:
        device_seen(kiosk, person.pk, "kyc")
    device_seen(kiosk, people[0].pk, "kyc")  # a second attempt counts
    groups = {frozenset(g.members): g for g in links_find()}
    checks = groups[frozenset(p.pk for p in people)]
    assert checks.score == 15 * 2 + 20 and checks.links[0].kyc_checks == 4
    opened = links_scan()
    assert sorted(c.participant_id for c in opened) == sorted(p.pk for p in people)
    assert not any(c.holds_money for c in opened)  # 50: reviewed, money not held (hold from 70)

    # Later two of them turn out to share a face: the score rises past 70 and the same cases now hold money.
    KycSubmission.objects.create(
        participant=people[2], attempt=1, status="needs_review", duplicate_of=people[1], flags=["possible_duplicate"]
    )
    assert links_scan() == []
    held = Case.objects.filter(kind="linked", participant__in=people)
    assert held.count() == 3 and all(c.holds_money and c.evidence["score"] == 90 for c in held)
    assert held_participant_ids([p.pk for p in people]) == {p.pk for p in people}
