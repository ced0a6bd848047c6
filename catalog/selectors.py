"""Reads of the catalog that more than one caller needs."""

from dataclasses import dataclass

from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connection
from django.db.models import F, FloatField, Q, QuerySet
from django.db.models.functions import Cast, NullIf
from django.utils import timezone

from .models import Affiliation, Course, Institution, Platform


def on_sale() -> QuerySet[Course]:
    """Courses a participant can buy: a published version, not suspended, the
    institution not suspended (and a private LPK still accredited), the
    platform active, and a scheduled course not yet started."""
    today = timezone.localdate()
    lapsed_lpk = Q(institution__kind=Institution.Kind.LPK_SWASTA) & (
        Q(institution__accreditation_valid_until__lt=today)
        | Q(institution__accreditation_valid_until__isnull=True)
        | Q(institution__accreditation_number="")
    )
    return (
        Course.objects.filter(
            published_revision__isnull=False,
            is_suspended=False,
            institution__is_suspended=False,
            platform__is_active=True,
        )
        .exclude(lapsed_lpk)
        .exclude(sale_ends_at__lte=timezone.now())
    )


@dataclass(frozen=True)
class CatalogQuery:
    text: str = ""
    category: str = ""
    platform: int | None = None
    institution: int | None = None
    delivery_mode: str = ""
    province: str = ""
    min_price: int | None = None
    max_price: int | None = None
    sort: str = "newest"  # newest, price, -price, rating


LIST_FIELDS = (
    "id",
    "published_at",
    "institution__name",
    "platform__name",
    "published_revision__title",
    "published_revision__summary",
    "published_revision__price",
    "published_revision__delivery_mode",
    "published_revision__duration_hours",
    "rating_sum",
    "rating_count",
)

SORTS = {
    "newest": ("-published_at", "-id"),
    "price": ("published_revision__price", "id"),
    "-price": ("-published_revision__price", "id"),
}


def catalog_search(query: CatalogQuery) -> QuerySet[Course]:
    """On-sale courses matching the query, with what a list page shows, in a
    fixed number of queries whatever the page size."""
    # Only what a list shows: description and search vector are wide, and
    # PostgreSQL would carry them through the sort of every match.
    courses = on_sale().select_related("published_revision", "institution", "platform").only(*LIST_FIELDS)
    if query.category:
        courses = courses.filter(published_revision__category=query.category)
    if query.platform:
        courses = courses.filter(platform_id=query.platform)
    if query.institution:
        courses = courses.filter(institution_id=query.institution)
    if query.delivery_mode:
        courses = courses.filter(published_revision__delivery_mode=query.delivery_mode)
    if query.province:
        courses = courses.filter(institution__province_code=query.province)
    if query.min_price is not None:
        courses = courses.filter(published_revision__price__gte=query.min_price)
    if query.max_price is not None:
        courses = courses.filter(published_revision__price__lte=query.max_price)
    text = " ".join(query.text.split())[:100]
    if text:
        if connection.vendor == "postgresql":
            search = SearchQuery(text, config=settings.CATALOG_SEARCH_CONFIG, search_type="websearch")
            courses = courses.filter(published_revision__search_vector=search)
            if query.sort == "newest":
                rank = SearchRank(F("published_revision__search_vector"), search)
                return courses.annotate(rank=rank).order_by("-rank", "-published_at", "-id")
        else:
            courses = courses.filter(
                Q(published_revision__title__icontains=text)
                | Q(published_revision__summary__icontains=text)
                | Q(published_revision__description__icontains=text)
            )
    if query.sort == "rating":
        # Best average first; courses nobody reviewed yet last.
        average = Cast(F("rating_sum"), FloatField()) / NullIf(F("rating_count"), 0)
        return courses.annotate(rating_average_sort=average).order_by(
            F("rating_average_sort").desc(nulls_last=True), "-rating_count", "-id"
        )
    return courses.order_by(*SORTS.get(query.sort, SORTS["newest"]))


def company_key(nib: str) -> str:
    return f"nib:{nib}"


def party_keys(*, institution_ids=(), platform_ids=()) -> tuple[dict[int, dict], dict[int, dict]]:
    """Each institution's and platform's parties, as {key: name}: the owners,
    officers and affiliates it declared (not withdrawn) and its own company."""
    institutions = {pk: {} for pk in institution_ids}
    platforms = {pk: {} for pk in platform_ids}
    for pk, nib, name in (
        Institution.objects.filter(pk__in=institutions).exclude(nib="").values_list("pk", "nib", "name")
    ):
        institutions[pk][company_key(nib)] = name
    for pk, nib, name in Platform.objects.filter(pk__in=platforms).exclude(nib="").values_list("pk", "nib", "name"):
        platforms[pk][company_key(nib)] = name
    declared = Affiliation.objects.filter(withdrawn_at__isnull=True).filter(
        Q(institution_id__in=institutions) | Q(platform_id__in=platforms)
    )
    for institution_id, platform_id, key, name in declared.values_list(
        "institution_id", "platform_id", "party_key", "name"
    ):
        side = institutions.get(institution_id) if institution_id else platforms.get(platform_id)
        if side is not None:
            side.setdefault(key, name)
    return institutions, platforms


def affiliation_shared(institution_id: int, platform_id: int) -> dict[str, str]:
    """The parties the institution shares with the platform, {key: name as
    the institution declared it}: empty when they are not affiliated."""
    institutions, platforms = party_keys(institution_ids=[institution_id], platform_ids=[platform_id])
    mine, theirs = institutions[institution_id], platforms[platform_id]
    return {key: mine[key] for key in mine.keys() & theirs.keys()}
