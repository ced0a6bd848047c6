"""The camera check's one-time challenges: issued to a participant, answered
once, before the deadline, by the same participant and for the same purpose."""

import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Participant
from prakerja import ratelimit

from .. import liveness
from ..models import LivenessChallenge

CHALLENGES_PER_HOUR = 30


def liveness_challenge_issue(*, participant: Participant, purpose: str) -> LivenessChallenge:
    """A new challenge; a participant may ask for CHALLENGES_PER_HOUR an hour."""
    if not ratelimit.hit(f"liveness-challenge:{participant.pk}", limit=CHALLENGES_PER_HOUR, window_seconds=3600):
        raise ValidationError(_("Too many camera checks were started. Try again in an hour."), code="rate_limited")
    return LivenessChallenge.objects.create(
        nonce=secrets.token_urlsafe(32),
        participant=participant,
        purpose=purpose,
        actions=liveness.new_actions(),
        expires_at=timezone.now() + timedelta(seconds=settings.LIVENESS_CHALLENGE_SECONDS),
    )


def liveness_challenge_use(*, participant: Participant, nonce: str, purpose: str) -> LivenessChallenge:
    """Marks the challenge answered, in the caller's transaction (a refusal
    later in it leaves the challenge unused). Refused: unknown or someone
    else's, already answered, too late."""
    now = timezone.now()
    challenge = (
        LivenessChallenge.objects.select_for_update()
        .filter(nonce=str(nonce)[:64], participant=participant, purpose=purpose)
        .first()
    )
    if challenge is None:
        raise ValidationError(
            _("This camera check is not yours or does not exist. Start the check again."), code="challenge_unknown"
        )
    if challenge.used_at is not None:
        raise ValidationError(
            _("This camera check was already sent. Start a new check: each one can be used once."),
            code="challenge_used",
        )
    if challenge.expires_at <= now:
        raise ValidationError(
            _("The camera check took too long (more than %(s)d seconds). Start it again.")
            % {"s": settings.LIVENESS_CHALLENGE_SECONDS},
            code="challenge_expired",
        )
    challenge.used_at = now
    challenge.save(update_fields=["used_at"])
    return challenge


def liveness_challenge_payload(challenge: LivenessChallenge) -> dict:
    """The challenge as the page's script (static/js/liveness.js) takes it."""
    return {
        "nonce": challenge.nonce,
        "expires_in": settings.LIVENESS_CHALLENGE_SECONDS,
        "frames": settings.LIVENESS_FRAMES_PER_ACTION,
        "interval_ms": settings.LIVENESS_FRAME_INTERVAL_MS,
        "size": settings.LIVENESS_FRAME_SIZE,
        "actions": [{"code": a, "text": str(liveness.INSTRUCTIONS[a])} for a in challenge.actions],
    }
