"""Reads of waves, cards and purchases that other apps' pages need."""

from .models import Card, CourseReview


def has_active_card(user) -> bool:
    return Card.objects.filter(participant__user=user, status=Card.Status.ACTIVE).exists()


def course_reviews(course, *, limit: int):
    return list(CourseReview.objects.filter(course=course).order_by("-created_at", "-id")[:limit])
