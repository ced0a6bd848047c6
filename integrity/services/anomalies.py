"""The auditors' "online training potentially fictitious": a daily scan of
each institution's completions for what real training does not produce.

- too fast: completed sooner after the voucher was redeemed than the
  course's own length in hours;
- all at once: many completions reported in the same minute;
- one certificate: many participants' certificates the very same file.

Each rule that an institution trips at least ``INTEGRITY_ANOMALY_MIN`` times
in the window opens one case (per institution, rule and week) that holds the
institution's payout until an officer decides."""

from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Count, DurationField, ExpressionWrapper, F, Min
from django.db.models.functions import TruncMinute
from django.utils import timezone

from ..models import Case

EXAMPLES = 20
HOUR = timedelta(hours=1)


def _done(since):
    from enrollment.models import Enrollment

    return Enrollment.objects.filter(
        status__in=[Enrollment.Status.COMPLETED, Enrollment.Status.PAID_OUT],
        completed_at__gte=since,
        redeemed_at__isnull=False,
    )


def _too_fast(since, least: int) -> dict[int, dict]:
    done = _done(since)
    if connection.vendor == "postgresql":
        took = ExpressionWrapper(F("completed_at") - F("redeemed_at"), output_field=DurationField())
        length = ExpressionWrapper(F("revision__duration_hours") * HOUR, output_field=DurationField())
        done = done.annotate(took=took).filter(took__lt=length)
    # (SQLite, the demo's database, has no interval arithmetic: the rows are
    # compared here, as PostgreSQL compares them above.)
    rows = done.values_list("institution_id", "pk", "redeemed_at", "completed_at", "revision__duration_hours").order_by(
        "institution_id", "pk"
    )
    found: dict[int, dict] = {}
    for institution, pk, redeemed, completed, hours in rows.iterator():
        took = completed - redeemed
        if took >= hours * HOUR:
            continue
        entry = found.setdefault(institution, {"count": 0, "enrollments": [], "fastest_minutes": None})
        entry["count"] += 1
        if len(entry["enrollments"]) < EXAMPLES:
            entry["enrollments"].append(pk)
        minutes = round(took.total_seconds() / 60, 1)
        if entry["fastest_minutes"] is None or minutes < entry["fastest_minutes"]:
            entry["fastest_minutes"] = minutes
            entry["course_hours"] = hours
    return {k: v for k, v in found.items() if v["count"] >= least}


def _grouped(since, least: int, key, label: str) -> dict[int, dict]:
    groups = (
        _done(since)
        .annotate(group=key)
        .values("institution_id", "group")
        .annotate(n=Count("pk"), first=Min("pk"))
        .filter(n__gte=least)
        .order_by("institution_id", "-n")
    )
    found: dict[int, dict] = {}
    for row in groups:
        entry = found.setdefault(row["institution_id"], {"count": 0, "groups": []})
        entry["count"] += row["n"]
        if len(entry["groups"]) < EXAMPLES:
            value = row["group"]
            entry["groups"].append(
                {label: value.isoformat() if hasattr(value, "isoformat") else value[:12], "n": row["n"]}
            )
    return found


def completions_scan(*, now=None) -> list[Case]:
    """Runs the three rules over the window; returns the cases it opened."""
    now = now or timezone.now()
    since = now - timedelta(days=settings.INTEGRITY_SCAN_DAYS)
    least = settings.INTEGRITY_ANOMALY_MIN
    week = now.strftime("%G-W%V")
    rules = {
        "too_fast": _too_fast(since, least),
        "same_minute": _grouped(since, least, TruncMinute("completed_at"), "minute"),
        "same_certificate": _grouped(since, least, F("certificate_sha256"), "certificate"),
    }
    # An empty digest (completions from before digests were kept) is no evidence.
    rules["same_certificate"] = {
        inst: {**entry, "groups": [g for g in entry["groups"] if g["certificate"]]}
        for inst, entry in rules["same_certificate"].items()
        if any(g["certificate"] for g in entry["groups"])
    }
    cases = [
        Case(
            kind=Case.Kind.COMPLETION,
            stage=Case.Stage.SCAN,
            key=f"completion:{institution}:{rule}:{week}",
            institution_id=institution,
            evidence={"rule": rule, **evidence},
            holds_money=True,
            amount_held=0,
        )
        for rule, found in rules.items()
        for institution, evidence in found.items()
    ]
    if not cases:
        return []
    known = set(Case.objects.filter(key__in=[c.key for c in cases]).values_list("key", flat=True))
    fresh = [c for c in cases if c.key not in known]
    unpaid = _unpaid({c.institution_id for c in fresh})
    for case in fresh:
        case.amount_held = unpaid.get(case.institution_id, 0)
    Case.objects.bulk_create(fresh, ignore_conflicts=True)
    return fresh


def _unpaid(institution_ids) -> dict[int, int]:
    """What each institution is owed for completed courses not yet paid."""
    from django.db.models import Sum

    from enrollment.models import Enrollment

    rows = (
        Enrollment.objects.filter(institution_id__in=institution_ids, status=Enrollment.Status.COMPLETED)
        .values("institution_id")
        .annotate(total=Sum("price"))
    )
    return {row["institution_id"]: row["total"] for row in rows}
