"""The public catalog and the institutions' own course pages."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from enrollment import selectors as card_selectors
from prakerja.inputs import parse_id
from prakerja.web import apply_errors, institution_staff_required, platform_staff_required

from .forms import AffiliationForm, CatalogFilterForm, CourseForm, PostTestForm, SessionFormSet
from .models import Course, CourseRevision, CourseSession, Institution, RevisionStatus
from .selectors import CatalogQuery, catalog_search, on_sale
from .services import (
    SessionInput,
    affiliation_declare,
    affiliation_withdraw,
    course_create,
    revision_set_sessions,
    revision_start,
    revision_submit,
    revision_update,
)


class SearchPage:
    """A page of search results without counting every match: one row more
    than the page is fetched to know whether there is a next page. Counting
    all matches of a broad search costs as much as the page itself."""

    MAX_PAGE = 500

    def __init__(self, queryset, number: str | None, size: int):
        try:
            self.number = min(max(1, int(number or 1)), self.MAX_PAGE)
        except ValueError:
            self.number = 1
        start = (self.number - 1) * size
        rows = list(queryset[start : start + size + 1])
        self.object_list = rows[:size]
        self._more = len(rows) > size

    def has_next(self):
        return self._more

    def has_previous(self):
        return self.number > 1

    def has_other_pages(self):
        return self._more or self.number > 1

    def next_page_number(self):
        return self.number + 1

    def previous_page_number(self):
        return self.number - 1


def course_list(request):
    form = CatalogFilterForm(request.GET or None)
    form.is_valid()
    # A bad parameter drops itself, not the others.
    d = getattr(form, "cleaned_data", {})
    query = CatalogQuery(
        text=d.get("q") or "",
        category=d.get("category") or "",
        platform=d["platform"].pk if d.get("platform") else None,
        institution=d.get("institution"),
        delivery_mode=d.get("delivery_mode") or "",
        province=d.get("province") or "",
        min_price=d.get("min_price"),
        max_price=d.get("max_price"),
        sort=d.get("sort") or "newest",
    )
    results = catalog_search(query)
    if query.text:
        page = SearchPage(results, request.GET.get("page"), settings.CATALOG_PAGE_SIZE)
    else:
        page = Paginator(results, settings.CATALOG_PAGE_SIZE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return render(request, "catalog/list.html", {"form": form, "page": page, "querystring": params.urlencode()})


def course_detail(request, pk):
    course = get_object_or_404(on_sale().select_related("published_revision", "institution", "platform"), pk=pk)
    outlook = card_selectors.purchase_outlook(request.user, course)
    return render(
        request,
        "catalog/detail.html",
        {
            "course": course,
            "revision": course.published_revision,
            "can_buy": outlook == "",
            "cannot_buy": outlook or "",
            "reviews": card_selectors.course_reviews(course, limit=10),
        },
    )


# --------------------------------------------------------------- institutions


def _own_course(institutions, pk) -> Course:
    """A course of one of the user's institutions, else 404."""
    return get_object_or_404(
        Course.objects.select_related("institution", "platform", "published_revision"),
        pk=pk,
        institution__in=institutions,
    )


@institution_staff_required
def institution_courses(request, institutions):
    courses = (
        Course.objects.filter(institution__in=institutions)
        .select_related("institution", "platform", "published_revision")
        .order_by("-created_at")
    )
    page = Paginator(courses, 25).get_page(request.GET.get("page"))
    latest = {}
    for revision in CourseRevision.objects.filter(course__in=[c.pk for c in page.object_list]).order_by("number"):
        latest[revision.course_id] = revision  # the highest number wins
    rows = [(course, latest.get(course.pk)) for course in page.object_list]
    return render(request, "catalog/institution/list.html", {"institutions": institutions, "page": page, "rows": rows})


@institution_staff_required
@require_http_methods(["GET", "POST"])
def institution_course_new(request, institutions):
    institution = institutions[0]
    if len(institutions) > 1:
        chosen = parse_id(request.GET.get("lembaga"))
        if chosen is None:
            return render(request, "catalog/institution/choose.html", {"institutions": institutions})
        institution = get_object_or_404(Institution, pk=chosen, staff=request.user)
    form = CourseForm(request.POST or None, platforms=institution.platforms.filter(is_active=True))
    if request.method == "POST" and form.is_valid():
        try:
            revision = course_create(
                institution=institution, platform=form.cleaned_data["platform"], data=form.to_input(), by=request.user
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Course saved as a draft. Submit it for curation when it is ready."))
            return redirect("catalog:institution_course", pk=revision.course_id)
    return render(request, "catalog/institution/form.html", {"form": form, "institution": institution})


@institution_staff_required
def institution_course(request, institutions, pk):
    course = _own_course(institutions, pk)
    revisions = list(course.revisions.prefetch_related("decisions__decided_by", "events").order_by("-number"))
    current = revisions[0] if revisions else None
    return render(
        request,
        "catalog/institution/detail.html",
        {"course": course, "revisions": revisions, "current": current},
    )


@institution_staff_required
@require_http_methods(["GET", "POST"])
def institution_course_edit(request, institutions, pk):
    course = _own_course(institutions, pk)
    revision = course.revisions.order_by("-number").first()
    if revision.status != RevisionStatus.DRAFT:
        messages.error(request, _("This version is under curation or on sale; start a new version to change it."))
        return redirect("catalog:institution_course", pk=course.pk)
    initial = {f: getattr(revision, f) for f in CourseForm.base_fields if f != "platform"}
    form = CourseForm(request.POST or None, initial=initial, with_platform=False)
    if request.method == "POST" and form.is_valid():
        try:
            revision_update(revision=revision, data=form.to_input(), by=request.user)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("catalog:institution_course", pk=course.pk)
    return render(request, "catalog/institution/form.html", {"form": form, "course": course})


@institution_staff_required
@require_http_methods(["GET", "POST"])
def institution_course_sessions(request, institutions, pk):
    """A draft's sessions (before each the participant's face is checked)
    and its post-test, curated with the rest of the version."""
    course = _own_course(institutions, pk)
    revision = course.revisions.order_by("-number").first()
    if revision.status != RevisionStatus.DRAFT:
        messages.error(request, _("This version is under curation or on sale; start a new version to change it."))
        return redirect("catalog:institution_course", pk=course.pk)
    existing = list(revision.sessions.order_by("sequence"))
    initial = [
        {"kind": x.kind, "title": x.title, "starts_at": x.starts_at, "ends_at": x.ends_at}
        for x in existing
        if x.kind != CourseSession.Kind.POST_TEST
    ]
    has_post_test = any(x.kind == CourseSession.Kind.POST_TEST for x in existing)
    formset = SessionFormSet(request.POST or None, initial=initial, prefix="s")
    post_test = PostTestForm(request.POST or None, initial={"post_test": has_post_test})
    problem = ""
    if request.method == "POST" and formset.is_valid() and post_test.is_valid():
        rows = [
            SessionInput(f["kind"], f["title"], f.get("starts_at"), f.get("ends_at"))
            for f in formset.cleaned_data
            if f and not f.get("DELETE")
        ]
        try:
            revision_set_sessions(
                revision=revision, sessions=rows, post_test=post_test.cleaned_data["post_test"], by=request.user
            )
        except ValidationError as exc:
            problem = " ".join(exc.messages)
        else:
            messages.success(request, _("Sessions saved."))
            return redirect("catalog:institution_course", pk=course.pk)
    return render(
        request,
        "catalog/institution/sessions.html",
        {"course": course, "revision": revision, "formset": formset, "post_test": post_test, "problem": problem},
    )


@institution_staff_required
@require_POST
def institution_course_submit(request, institutions, pk):
    course = _own_course(institutions, pk)
    revision = course.revisions.order_by("-number").first()
    try:
        revision_submit(revision=revision, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except PermissionDenied:
        raise Http404 from None
    else:
        messages.success(request, _("Submitted for curation."))
    return redirect("catalog:institution_course", pk=course.pk)


@institution_staff_required
@require_POST
def institution_course_new_version(request, institutions, pk):
    course = _own_course(institutions, pk)
    try:
        revision_start(course=course, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("catalog:institution_course", pk=course.pk)
    messages.success(request, _("A new version was started; the published one stays on sale until it is replaced."))
    return redirect("catalog:institution_course_edit", pk=course.pk)


# ---------------------------------------------------------------- owners and affiliates


def _affiliations_page(request, owners, *, template_title, back):
    form = AffiliationForm(request.POST if request.method == "POST" else None, owners=owners)
    by_pk = {o.pk: o for o in owners}
    if request.method == "POST":
        if request.POST.get("action") == "withdraw":
            owner = by_pk.get(parse_id(request.POST.get("owner")))
            if owner is None:
                raise Http404
            affiliation_withdraw(
                affiliation_id=parse_id(request.POST.get("affiliation")) or 0, owner=owner, by=request.user
            )
            messages.success(request, _("The declaration is withdrawn."))
            return redirect(back)
        if form.is_valid():
            d = form.cleaned_data
            try:
                affiliation_declare(
                    owner=by_pk[d["owner"]],
                    relation=d["relation"],
                    party_kind=d["party_kind"],
                    number=d["number"],
                    name=d["name"],
                    share_percent=d["share_percent"],
                    by=request.user,
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Declared. Listings this makes a conflict of interest are suspended."))
                return redirect(back)
    declared = {
        o.pk: list(o.affiliations.select_related("declared_by").order_by("withdrawn_at", "declared_at")) for o in owners
    }
    rows = [(o, declared[o.pk]) for o in owners]
    return render(request, "catalog/affiliations.html", {"form": form, "rows": rows, "page_title": template_title})


@never_cache
@institution_staff_required
@require_http_methods(["GET", "POST"])
def institution_affiliations(request, institutions):
    return _affiliations_page(
        request, institutions, template_title=_("Owners and affiliates"), back="catalog:institution_affiliations"
    )


@never_cache
@platform_staff_required
@require_http_methods(["GET", "POST"])
def platform_affiliations(request, platforms):
    return _affiliations_page(
        request, platforms, template_title=_("Owners and affiliates"), back="catalog:platform_affiliations"
    )
