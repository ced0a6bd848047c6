"""The conflict-of-interest control found later: a listing on sale whose
platform is affiliated with its institution (a shared declared owner,
officer or affiliated company, or the platform's own company owning the
institution) is suspended, with a case for the PMO.

The same check refuses such a course before it reaches sale
(``catalog.services._publishing_problem``); this finds what became a
conflict after it was on sale, when a declaration or an NIB arrived."""

import hashlib

from django.db import transaction
from django.db.models import Count, Sum

from catalog.models import Course
from catalog.selectors import party_keys
from catalog.services import course_suspension_write

from ..models import Case


def _key(course_id: int, shared: set[str]) -> str:
    digest = hashlib.sha256("|".join(sorted(shared)).encode()).hexdigest()[:16]
    return f"conflict:{course_id}:{digest}"


def conflicts_scan(*, institution_ids=None, platform_ids=None, stage: str = Case.Stage.SCAN) -> list[Case]:
    """Suspends each listing on sale whose platform is affiliated with its
    institution and opens its case; returns the new cases. Scoped to some
    institutions or platforms (a declaration) or, with neither, all."""
    listings = Course.objects.filter(published_revision__isnull=False, is_suspended=False)
    if institution_ids is not None:
        listings = listings.filter(institution_id__in=institution_ids)
    if platform_ids is not None:
        listings = listings.filter(platform_id__in=platform_ids)
    rows = list(listings.values_list("pk", "institution_id", "platform_id", "published_revision__title"))
    if not rows:
        return []
    institutions, platforms = party_keys(institution_ids={r[1] for r in rows}, platform_ids={r[2] for r in rows})
    found = []
    for course_id, institution_id, platform_id, title in rows:
        mine, theirs = institutions[institution_id], platforms[platform_id]
        shared = mine.keys() & theirs.keys()
        if shared:
            found.append((course_id, institution_id, platform_id, title, shared, sorted(mine[k] for k in shared)))
    if not found:
        return []
    known = set(Case.objects.filter(key__in=[_key(f[0], f[4]) for f in found]).values_list("key", flat=True))
    fresh = [f for f in found if _key(f[0], f[4]) not in known]
    sales = _sales([f[0] for f in fresh])
    cases = []
    with transaction.atomic():
        for course_id, institution_id, platform_id, title, shared, names in fresh:
            course = Course.objects.select_for_update().get(pk=course_id)
            sold = sales.get(course_id, {"count": 0, "total": 0, "commission": 0})
            # A declaration and the daily scan may find the same conflict at once: one case.
            case, created = Case.objects.get_or_create(
                key=_key(course_id, shared),
                defaults=dict(
                    kind=Case.Kind.CONFLICT,
                    stage=stage,
                    institution_id=institution_id,
                    course=course,
                    holds_money=False,
                    amount_held=sold["total"],
                    evidence={
                        "course": title,
                        "platform_id": platform_id,
                        "platform": course.platform.name,
                        "shared": names,
                        "sales": sold["count"],
                        "sales_total": sold["total"],
                        "commission": sold["commission"],
                    },
                ),
            )
            if not created:
                continue
            if not course.is_suspended:
                reason = f"conflict of interest (case {case.pk}): the platform is affiliated with the institution"
                course_suspension_write(course, suspended=True, reason=reason, by=None)
            cases.append(case)
    return cases


def _sales(course_ids) -> dict[int, dict]:
    """Each listing's sales so far: how many, their total and the platform's
    commission on them (a figure; no money moves for it here)."""
    from enrollment.models import HELD_STATUSES, Enrollment

    rows = (
        Enrollment.objects.filter(course_id__in=course_ids, status__in=HELD_STATUSES)
        .values("course_id")
        .annotate(count=Count("pk"), total=Sum("price"), commission=Sum("commission"))
    )
    return {
        r["course_id"]: {"count": r["count"], "total": r["total"] or 0, "commission": r["commission"] or 0}
        for r in rows
    }


def conflict_cleared(course_id: int, shared: set[str]) -> bool:
    return Case.objects.filter(key=_key(course_id, shared), status=Case.Status.CLEARED).exists()


def conflict_lift(case: Case, *, by, reason: str) -> None:
    """The officer clears a conflict case: the listing goes back on sale."""
    if case.course_id is None:
        return
    course = Course.objects.select_for_update().get(pk=case.course_id)
    if not course.is_suspended or f"(case {case.pk})" not in course.suspended_reason:
        return  # not (or no longer) suspended for this case: a suspension the PMO set stays
    course_suspension_write(course, suspended=False, reason="", by=by, note=f"case {case.pk}: {reason}"[:500])
