"""Demo waves, cards and purchases, built through the services (called by
`manage.py demo_data` after the users and the catalog exist).

- Wave 1 is over and drawn: SITI and ANDI were selected and hold cards.
  SITI has a voucher waiting to be redeemed; ANDI has started a course, so
  the institution login can report its completion.
- RINA, also selected in wave 1, completed a course and reviewed it: her
  enrolment waits for the PMO's next payout batch, and her incentives page
  lets her link an account.
- Wave 2 is open: BUDI (identity verified) can apply from his page.
- JOKO holds a card too, left for the partner API demo (partner_api_demo):
  he buys on Sisnaker's own site.
"""

import datetime

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.models import Participant, User
from accounts.services.status import participant_mark_kyc_verified, participant_move
from catalog.selectors import on_sale

from .models import Wave
from .services import delivery, purchases, reviews, waves
from .tasks import issue_wave_cards


def _verified(participant: Participant, reviewer: User) -> Participant:
    """Phone and identity verified, as the SMS code and the KYC check do."""
    if participant.phone_verified_at is None:
        Participant.objects.filter(pk=participant.pk).update(phone_verified_at=timezone.now())
        participant_move(participant_id=participant.pk, to=Participant.Status.PROFILE_COMPLETE, by=None, reason="demo")
    return participant_mark_kyc_verified(participant_id=participant.pk, by=reviewer, reason="demo: identity verified")


def load(*, selected: list[Participant], applicant: Participant, maker: User, checker: User, reviewer: User, staff):
    if Wave.objects.exists():
        return
    now = timezone.now()
    first = Wave.objects.create(
        number=1, opens_at=now - datetime.timedelta(days=1), closes_at=now + datetime.timedelta(days=1), quota=100
    )
    waves.wave_open(wave=first, by=checker)  # the checker approves the rules the maker set
    for participant in selected:
        waves.wave_apply(participant=_verified(participant, reviewer), wave=first)
    # The window passes.
    Wave.objects.filter(pk=first.pk).update(
        opens_at=now - datetime.timedelta(days=20), closes_at=now - datetime.timedelta(days=5)
    )
    first.refresh_from_db()
    waves.wave_draw(wave=first, by=checker)
    issue_wave_cards(first.pk)  # the task queued on commit; it skips cards already issued

    second = Wave.objects.create(
        number=2, opens_at=now - datetime.timedelta(days=1), closes_at=now + datetime.timedelta(days=14), quota=500
    )
    waves.wave_open(wave=second, by=checker)
    _verified(applicant, reviewer)

    courses = list(on_sale().filter(published_revision__capacity__isnull=True).order_by("pk")[:2])
    siti, andi, rina, *_others = selected  # the others buy through the partner API
    purchases.enrollment_submit(participant=siti, course=courses[0], request_key="demo-siti")
    started = purchases.enrollment_submit(participant=andi, course=courses[1], request_key="demo-andi")
    delivery.enrollment_redeem(user=staff, voucher_code=started.voucher_code)
    done = purchases.enrollment_submit(participant=rina, course=courses[0], request_key="demo-rina")
    delivery.enrollment_redeem(user=staff, voucher_code=done.voucher_code)
    certificate = SimpleUploadedFile("sertifikat-rina.pdf", b"%PDF-1.4\n% demo certificate\n%%EOF\n")
    delivery.enrollment_complete(user=staff, enrollment_id=done.pk, certificate=certificate)
    reviews.review_create(
        participant=rina, enrollment_id=done.pk, rating=5, text="Materinya jelas dan langsung bisa dipraktikkan."
    )
