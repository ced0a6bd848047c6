"""A participant's review of a course they completed."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import Participant
from catalog.services import course_add_rating

from ..models import (
    CourseReview,
    Enrollment,
)

S = Enrollment.Status


def review_create(*, participant: Participant, enrollment_id: int, rating: int, text: str) -> CourseReview:
    """The participant rates and reviews a course they completed, once."""
    errors = {}
    if not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5:
        errors["rating"] = _("Choose from 1 to 5 stars.")
    text = (text or "").strip()
    if not text:
        errors["text"] = _("Write a few words about the course.")
    elif len(text) > 2000:
        errors["text"] = _("Keep the review under 2,000 characters.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        enrollment = Enrollment.objects.select_for_update().filter(pk=enrollment_id, participant=participant).first()
        if enrollment is None:
            raise ValidationError(_("You have no purchase with this number."), code="not_found")
        if enrollment.status not in (S.COMPLETED, S.PAID_OUT):
            raise ValidationError(_("You can review a course once you have completed it."), code="not_completed")
        if CourseReview.objects.filter(enrollment=enrollment).exists():
            raise ValidationError(_("You have already reviewed this course."), code="already_reviewed")
        review = CourseReview.objects.create(
            enrollment=enrollment, course_id=enrollment.course_id, rating=rating, text=text
        )
        course_add_rating(course_id=enrollment.course_id, rating=rating)
    return review
