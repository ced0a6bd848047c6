"""Reads of waves, cards and purchases that other apps' pages need."""

from django.utils.translation import gettext as _

from .models import Card, CourseReview, Enrollment


def purchase_outlook(user, course) -> str | None:
    """For the course page: None for someone who is not a participant (no buy
    button), "" when they can buy ``course`` now, else why the purchase would
    be declined, in words (a participant without a card is told how to get one)."""
    from accounts.models import Participant

    from .services.purchases import decline_message, purchase_obstacle

    if not user.is_authenticated:
        return None
    card = Card.objects.filter(participant__user=user).select_related("participant").first()
    if card is None:
        if Participant.objects.filter(user=user).exists():
            return _("You need a Prakerja card to buy a course: apply to a wave from your home page.")
        return None
    reason = purchase_obstacle(participant=card.participant, course=course)
    return decline_message(reason) if reason else ""


def course_reviews(course, *, limit: int):
    return list(CourseReview.objects.filter(course=course).order_by("-created_at", "-id")[:limit])


def participant_purchases(participant):
    """A participant's purchases, newest first, with what their pages show."""
    return (
        Enrollment.objects.filter(participant=participant)
        .select_related("revision", "institution", "platform", "review")
        .order_by("-created_at", "-id")
    )
