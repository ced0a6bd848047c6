"""Every write of the catalog: institutions' course versions, the two-stage
curation, suspensions."""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.contrib.postgres.search import SearchVector
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from prakerja.lifecycle import record_change, record_created, record_move
from webhooks.services import webhook_emit

from .models import (
    CONTENT_FIELDS,
    INSTITUTION_PAYEE_FIELDS,
    PAYEE_CHANGE_TRANSITIONS,
    PLATFORM_PAYEE_FIELDS,
    REVISION_TRANSITIONS,
    Affiliation,
    Category,
    Course,
    CourseRevision,
    CourseSession,
    CurationDecision,
    DeliveryMode,
    Institution,
    PayeeChange,
    Platform,
    RevisionStatus,
)
from .selectors import affiliation_shared, company_key

STAGE1_CRITERIA = {
    "remote_teachable": gettext_lazy("Can be taught without meeting face to face"),
    "outcomes_clear": gettext_lazy("Learning outcomes are clear and can be assessed"),
    "competency_based": gettext_lazy("Follows a competency standard or a clear job need"),
    "trainers_qualified": gettext_lazy("Trainers are qualified for the subject"),
}
STAGE2_CRITERIA = {
    "price_fair": gettext_lazy("The price fits the content and duration"),
    "information_complete": gettext_lazy("Information for participants is complete and accurate"),
    "content_quality": gettext_lazy("Materials are of good quality"),
}
CRITERIA = {1: STAGE1_CRITERIA, 2: STAGE2_CRITERIA}


@dataclass(frozen=True)
class CourseInput:
    title: str
    summary: str
    description: str
    learning_outcomes: str
    category: str
    delivery_mode: str
    duration_hours: int | None
    price: int | None
    starts_at: datetime.datetime | None = None
    ends_at: datetime.datetime | None = None
    capacity: int | None = None


def course_validate(data: CourseInput) -> dict:
    """The rules a course's content must meet, and the content cleaned; a
    ValidationError per field otherwise (the pages show them all at once)."""
    errors: dict[str, list] = {}

    def err(field, message):
        errors.setdefault(field, []).append(ValidationError(message))

    text_limits = {"title": (5, 150), "summary": (10, 300), "description": (20, 5000), "learning_outcomes": (10, 2000)}
    clean = {}
    for name, (low, high) in text_limits.items():
        value = (
            " ".join((getattr(data, name) or "").split())
            if name in ("title", "summary")
            else (getattr(data, name) or "").strip()
        )
        if len(value) < low:
            err(name, _("Write at least %(n)d characters.") % {"n": low})
        elif len(value) > high:
            err(name, _("Write at most %(n)d characters.") % {"n": high})
        clean[name] = value
    if data.category not in Category.values:
        err("category", _("Choose a category."))
    if data.delivery_mode not in DeliveryMode.values:
        err("delivery_mode", _("Choose how the course is given."))
    if data.duration_hours is None or not 1 <= data.duration_hours <= 1000:
        err("duration_hours", _("Give the duration in whole hours, 1 to 1000."))
    low, high = settings.CATALOG_MIN_PRICE, settings.CATALOG_MAX_PRICE
    if data.price is None or not low <= data.price <= high:
        err(
            "price",
            _("The price must be between Rp %(low)s and Rp %(high)s.")
            % {"low": f"{low:,}".replace(",", "."), "high": f"{high:,}".replace(",", ".")},
        )
    if data.delivery_mode in (DeliveryMode.WEBINAR, DeliveryMode.OFFLINE):
        if data.starts_at is None or data.ends_at is None:
            err("starts_at", _("A webinar or offline course needs its start and end."))
        elif data.ends_at <= data.starts_at:
            err("ends_at", _("The course must end after it starts."))
        elif data.starts_at <= timezone.now():
            err("starts_at", _("The start must be in the future."))
    elif data.starts_at and data.ends_at and data.ends_at <= data.starts_at:
        err("ends_at", _("The course must end after it starts."))
    if data.capacity is not None and data.capacity < 1:
        err("capacity", _("The capacity must be at least 1."))
    if errors:
        raise ValidationError(errors)
    self_paced = data.delivery_mode == DeliveryMode.SELF_PACED
    return {
        **clean,
        "category": data.category,
        "delivery_mode": data.delivery_mode,
        "duration_hours": data.duration_hours,
        "price": data.price,
        "starts_at": data.starts_at,
        "ends_at": data.ends_at,
        "capacity": None if self_paced and data.capacity is None else data.capacity,
    }


def _staff_of(institution: Institution, user: User | None, via=None) -> None:
    """The institution's staff on the pages, or (``via``) the API client of
    a platform the institution sells through."""
    if via is not None:
        if user is not None or not via.platform_id or not institution.platforms.filter(pk=via.platform_id).exists():
            raise PermissionDenied
        return
    if user is None or not institution.staff.filter(pk=user.pk).exists():
        raise PermissionDenied


def _sold_by(course: Course, via) -> None:
    if via is not None and course.platform_id != via.platform_id:
        raise PermissionDenied


def _drafted(by: User | None, via) -> dict:
    return {"created_by": by, "created_via": via}


def _reason(via, reason: str = "") -> str:
    return f"{reason} (through the API, {via.code})".strip() if via is not None else reason


DECISION_REASON_MAX = CurationDecision._meta.get_field("reason").max_length
SUSPENSION_REASON_MAX = Course._meta.get_field("suspended_reason").max_length


def _check_length(reason: str, limit: int, field: str = "reason") -> None:
    if len(reason) > limit:
        message = _("Keep the reason to %(limit)d characters; this one has %(count)d.")
        too_long = ValidationError(message, code="too_long", params={"limit": limit, "count": len(reason)})
        raise ValidationError({field: too_long})


def _move(revision: CourseRevision, to: str, *, by: User | None, reason: str = "") -> None:
    record_move(revision, to, table=REVISION_TRANSITIONS, by=by, reason=reason)


def course_create(
    *, institution: Institution, platform: Platform, data: CourseInput, by: User | None = None, via=None
) -> CourseRevision:
    """An institution drafts a new course, to be sold through ``platform``
    (or that platform drafts it for the institution, ``via`` its API client)."""
    _staff_of(institution, by, via)
    if via is not None and platform.pk != via.platform_id:
        raise PermissionDenied
    fields = course_validate(data)
    if not platform.is_active or not institution.platforms.filter(pk=platform.pk).exists():
        raise ValidationError({"platform": _("Your institution does not sell through this platform.")})
    shared = affiliation_shared(institution.pk, platform.pk)
    if shared:
        message = _(
            "Your institution is affiliated with this platform (shared: %(parties)s): a platform may not sell its "
            "own institution's course. Choose another platform."
        ) % {"parties": ", ".join(sorted(shared.values()))}
        raise ValidationError({"platform": ValidationError(message, code="conflict_of_interest")})
    with transaction.atomic():
        course = Course.objects.create(institution=institution, platform=platform)
        revision = CourseRevision.objects.create(course=course, number=1, **_drafted(by, via), **fields)
        record_created(revision, RevisionStatus.DRAFT, by=by, reason=_reason(via))
    return revision


def revision_update(*, revision: CourseRevision, data: CourseInput, by: User | None = None, via=None) -> CourseRevision:
    """Changes a draft. A version under curation or on sale cannot change."""
    _staff_of(revision.course.institution, by, via)
    _sold_by(revision.course, via)
    fields = course_validate(data)
    with transaction.atomic():
        locked = CourseRevision.objects.select_for_update().get(pk=revision.pk)
        if locked.status != RevisionStatus.DRAFT:
            raise ValidationError(
                _("This version is %(status)s and cannot be changed. Start a new version instead.")
                % {"status": locked.get_status_display()},
                code="not_draft",
            )
        for name, value in fields.items():
            setattr(locked, name, value)
        locked.save(update_fields=[*fields])
    return locked


def revision_start(*, course: Course, by: User | None = None, via=None) -> CourseRevision:
    """A new draft version of a published course, copied from the version on
    sale, which stays on sale until the new one is published."""
    _staff_of(course.institution, by, via)
    _sold_by(course, via)
    with transaction.atomic():
        locked = Course.objects.select_for_update().get(pk=course.pk)
        open_revision = locked.revisions.filter(
            status__in=(RevisionStatus.DRAFT, RevisionStatus.SUBMITTED, RevisionStatus.STAGE1_APPROVED)
        ).first()
        if open_revision is not None:
            return open_revision
        source = locked.published_revision
        if source is None:
            raise ValidationError(_("This course has no published version to start from."), code="nothing_published")
        number = (locked.revisions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
        copied = {f: getattr(source, f) for f in CONTENT_FIELDS}
        revision = CourseRevision.objects.create(course=locked, number=number, **_drafted(by, via), **copied)
        CourseSession.objects.bulk_create(
            CourseSession(
                revision=revision,
                sequence=x.sequence,
                kind=x.kind,
                title=x.title,
                starts_at=x.starts_at,
                ends_at=x.ends_at,
            )
            for x in source.sessions.all()
        )
        record_created(revision, RevisionStatus.DRAFT, by=by, reason=_reason(via, "new version"))
    return revision


def _conflict_cleared(course_id: int, shared: dict) -> bool:
    """The PMO cleared this very conflict for this listing (the same shared
    parties): its new versions may go on."""
    from integrity.services.conflicts import conflict_cleared

    return conflict_cleared(course_id, set(shared))


def _publishing_problem(institution: Institution, revision: CourseRevision) -> tuple[str, str]:
    """Why this version may not go (further) towards sale now, if at all:
    (code, message), or ("", "")."""
    if institution.is_suspended:
        return "institution_suspended", _("The institution is suspended; its courses cannot go on sale.")
    shared = affiliation_shared(institution.pk, revision.course.platform_id)
    if shared and not _conflict_cleared(revision.course_id, shared):
        return "conflict_of_interest", _(
            "Your institution is affiliated with this platform (shared: %(parties)s): a platform may not sell its "
            "own institution's course. Sell this course through another platform."
        ) % {"parties": ", ".join(sorted(shared.values()))}
    if institution.kind == Institution.Kind.LPK_SWASTA and not institution.accreditation_valid():
        return "accreditation", _("A private LPK needs a valid LA-LPK accreditation to publish courses.")
    if revision.starts_at is not None and revision.starts_at <= timezone.now():
        return "schedule_passed", _("The course's start has passed; change the schedule in a new version.")
    if revision.sessions.filter(kind=CourseSession.Kind.WEBINAR, starts_at__lte=timezone.now()).exists():
        return "schedule_passed", _("A webinar session's start has passed; change the sessions before sending it.")
    return "", ""


def revision_submit(*, revision: CourseRevision, by: User | None = None, via=None) -> CourseRevision:
    """The institution (or the platform selling it, ``via`` its API client)
    sends a draft to curation."""
    institution = Institution.objects.get(pk=revision.course.institution_id)  # fresh: accreditation may change
    _staff_of(institution, by, via)
    _sold_by(revision.course, via)
    code, problem = _publishing_problem(institution, revision)
    if problem:
        raise ValidationError(problem, code=code)
    with transaction.atomic():
        locked = CourseRevision.objects.select_for_update().get(pk=revision.pk)
        if locked.status != RevisionStatus.DRAFT:
            raise ValidationError(
                _("This version was already submitted (it is %(status)s).") % {"status": locked.get_status_display()},
                code="not_draft",
            )
        _move(locked, RevisionStatus.SUBMITTED, by=by, reason=_reason(via))
        locked.submitted_at = timezone.now()
        locked.save(update_fields=["status", "submitted_at"])
    return locked


def _update_search_vector(revision_id: int) -> None:
    if connection.vendor != "postgresql":
        return
    config = settings.CATALOG_SEARCH_CONFIG
    CourseRevision.objects.filter(pk=revision_id).update(
        search_vector=SearchVector("title", weight="A", config=config)
        + SearchVector("summary", weight="B", config=config)
        + SearchVector("description", weight="C", config=config)
    )


def revision_decide(
    *, revision: CourseRevision, stage: int, approve: bool, checklist: dict, reason: str, by: User
) -> CourseRevision:
    """A curator's decision. Stage 1 (Ditjen Binalattas) on a submitted
    version, stage 2 (PMO) on one stage 1 approved: approval at stage 2
    publishes it. A rejection at either stage sends it back to draft with
    the reasons. Each decision is recorded with its checklist."""
    permission = {1: "catalog.curate_stage1", 2: "catalog.curate_stage2"}.get(stage)
    if permission is None or not by.has_perm(permission):
        raise PermissionDenied
    criteria = CRITERIA[stage]
    answers = {key: bool(checklist.get(key)) for key in criteria}
    reason = (reason or "").strip()
    if approve and not all(answers.values()):
        raise ValidationError(_("Approve only when every criterion is met."), code="criteria")
    if not approve and len(reason) < 5:
        raise ValidationError({"reason": _("Write the reason; the institution reads it.")}, code="reason")
    _check_length(reason, DECISION_REASON_MAX)
    expected = RevisionStatus.SUBMITTED if stage == 1 else RevisionStatus.STAGE1_APPROVED
    with transaction.atomic():
        locked = CourseRevision.objects.select_for_update().select_related("course__institution").get(pk=revision.pk)
        if locked.status != expected:
            raise ValidationError(
                _("This version is not waiting for curation stage %(stage)d (it is %(status)s).")
                % {"stage": stage, "status": locked.get_status_display()},
                code="wrong_stage",
            )
        CurationDecision.objects.create(
            revision=locked, stage=stage, approved=approve, checklist=answers, reason=reason, decided_by=by
        )
        course = locked.course
        webhook_emit(
            event_type="course.curation_decided",
            key=f"curation:{locked.pk}:{stage}:{CurationDecision.objects.filter(revision=locked).count()}",
            platform_id=course.platform_id,
            institution_id=course.institution_id,
            data={
                "course_id": course.pk,
                "version": locked.number,
                "stage": stage,
                "approved": approve,
                "reason": reason,
            },
        )
        if not approve:
            _move(locked, RevisionStatus.DRAFT, by=by, reason=f"rejected at stage {stage}: {reason}")
            locked.save(update_fields=["status"])
            return locked
        if stage == 1:
            _move(locked, RevisionStatus.STAGE1_APPROVED, by=by, reason=reason)
            locked.stage1_at = timezone.now()
            locked.save(update_fields=["status", "stage1_at"])
            return locked
        code, problem = _publishing_problem(Institution.objects.get(pk=locked.course.institution_id), locked)
        if problem:
            raise ValidationError(problem, code=code)
        course = Course.objects.select_for_update().get(pk=locked.course_id)
        previous = course.published_revision
        if previous is not None:
            _move(previous, RevisionStatus.SUPERSEDED, by=by, reason=f"replaced by version {locked.number}")
            previous.save(update_fields=["status"])
        _move(locked, RevisionStatus.PUBLISHED, by=by, reason=reason)
        locked.save(update_fields=["status"])
        course.published_revision = locked
        course.published_at = course.published_at or timezone.now()
        course.sale_ends_at = locked.starts_at
        course.save(update_fields=["published_revision", "published_at", "sale_ends_at"])
        _update_search_vector(locked.pk)
    return locked


def course_set_suspended(*, course: Course, suspended: bool, reason: str, by: User) -> Course:
    """The PMO takes a published course off sale, or puts it back."""
    if not by.has_perm("catalog.suspend_course"):
        raise PermissionDenied
    reason = (reason or "").strip()
    if suspended and len(reason) < 5:
        raise ValidationError({"reason": _("Write the reason for the suspension.")})
    _check_length(reason, SUSPENSION_REASON_MAX)
    with transaction.atomic():
        locked = Course.objects.select_for_update().get(pk=course.pk)
        if suspended and locked.published_revision_id is None:
            raise ValidationError(_("Only a published course can be suspended."), code="not_published")
        course_suspension_write(locked, suspended=suspended, reason=reason, by=by)
    return locked


def course_suspension_write(course: Course, *, suspended: bool, reason: str, by: User | None, note: str = "") -> None:
    """Writes a listing's suspension and its history. The caller holds the
    course's row lock and has decided who may (a PMO curator, or a control
    of the integrity app); ``note``: why it was lifted, for the history."""
    before = {"suspended": course.is_suspended, "reason": course.suspended_reason}
    course.is_suspended = suspended
    course.suspended_reason = reason[:SUSPENSION_REASON_MAX] if suspended else ""
    course.save(update_fields=["is_suspended", "suspended_reason"])
    record_change(
        course,
        "suspension",
        by=by,
        before=before,
        after={"suspended": suspended, "reason": course.suspended_reason},
        reason=course.suspended_reason if suspended else (note or "suspension lifted"),
    )


def institution_set_suspended(*, institution: Institution, suspended: bool, reason: str, by: User) -> Institution:
    """The PMO suspends an institution: its courses go off sale and it can
    bring none on sale until the suspension is lifted."""
    if not by.has_perm("catalog.suspend_course"):
        raise PermissionDenied
    reason = (reason or "").strip()
    if suspended and len(reason) < 5:
        raise ValidationError({"reason": _("Write the reason for the suspension.")})
    _check_length(reason, SUSPENSION_REASON_MAX)
    with transaction.atomic():
        locked = Institution.objects.select_for_update().get(pk=institution.pk)
        locked.is_suspended = suspended
        locked.suspended_reason = reason if suspended else ""
        locked.suspension_changed_by = by
        locked.suspension_changed_at = timezone.now()
        locked.save(
            update_fields=["is_suspended", "suspended_reason", "suspension_changed_by", "suspension_changed_at"]
        )
    return locked


def course_add_rating(*, course_id: int, rating: int) -> None:
    """Counts one participant's rating (1-5) in the course's average."""
    Course.objects.filter(pk=course_id).update(rating_sum=F("rating_sum") + rating, rating_count=F("rating_count") + 1)


# ------------------------------------------------------------ payee details


def _payee_fields(payee) -> tuple[str, ...]:
    return INSTITUTION_PAYEE_FIELDS if isinstance(payee, Institution) else PLATFORM_PAYEE_FIELDS


def payee_details(payee) -> dict:
    return {name: getattr(payee, name) for name in _payee_fields(payee)}


def _clean_payee_details(payee, details: dict) -> dict:
    """The asked-for details in the form they are stored, or a refusal per
    field: the bank or e-wallet must be one the gateway knows, the number of
    its shape, the holder named; a platform that forwards the money names
    its settlement account, one paid directly has none."""
    from payments.channels import PayoutChannel, account_number_clean

    errors: dict[str, list] = {}
    clean = {name: str(details.get(name) or "").strip() for name in _payee_fields(payee)}

    def account(channel_field, number_field, holder_field):
        channel = clean[channel_field]
        if channel not in PayoutChannel.values:
            errors[channel_field] = [_("Choose a bank or e-wallet from the list.")]
            return
        try:
            clean[number_field] = account_number_clean(channel, clean[number_field])
        except ValidationError as exc:
            errors[number_field] = exc.messages
        holder = " ".join(clean[holder_field].split())
        if not 3 <= len(holder) <= 100:
            errors[holder_field] = [_("Enter the account holder's name as the bank has it (3 to 100 characters).")]
        clean[holder_field] = holder

    if isinstance(payee, Institution):
        account("bank_name", "bank_account_number", "bank_account_holder")
    else:
        route = clean["payout_route"]
        if route not in Platform.PayoutRoute.values:
            errors["payout_route"] = [_("Choose how the platform's sales are paid.")]
        elif route == Platform.PayoutRoute.VIA_PLATFORM:
            account("settlement_bank", "settlement_account_number", "settlement_account_holder")
        else:
            clean.update(settlement_bank="", settlement_account_number="", settlement_account_holder="")
    if errors:
        raise ValidationError(errors)
    return clean


def _notify_payee_staff(change: PayeeChange, *, what: str) -> None:
    """Tells the payee's own staff by email: a change they did not ask for
    is then noticed by the people whose money it is."""
    from notifications.services import notify_email

    payee = change.payee
    emails = sorted(payee.staff.values_list("email", flat=True))
    if isinstance(payee, Platform) and payee.contact_email:
        emails = sorted({*emails, payee.contact_email})
    if not emails:
        return
    shown = {k: _mask_account(k, v) for k, v in change.after.items()}
    lines = "\n".join(f"- {k}: {v}" for k, v in shown.items() if v)
    if what == "requested":
        subject = _("A change of your bank details was requested")
        intro = _(
            "The PMO received a request to change where the payments of %(payee)s go. It takes effect only once "
            "a second PMO officer approves it. If you did not ask for it, contact the PMO at once."
        )
    else:
        subject = _("Your bank details were changed")
        intro = _("The payments of %(payee)s now go to the details below. If you did not ask for it, contact the PMO.")
    notify_email(
        key=f"payee-change-{change.pk}-{what}",
        to=emails,
        subject=subject,
        body=intro % {"payee": payee.name} + "\n\n" + lines,
    )


def _mask_account(field: str, value: str) -> str:
    if field.endswith("account_number") and len(value) > 4:
        return "•" * (len(value) - 4) + value[-4:]
    return value


def payee_change_request(*, payee, details: dict, note: str, by: User) -> PayeeChange:
    """A finance maker asks to change where a payee's money goes. Nothing
    about the payee changes until a checker approves."""
    if not by.has_perm("catalog.add_payeechange"):
        raise PermissionDenied
    note = " ".join((note or "").split())
    if len(note) < 5:
        raise ValidationError({"note": _("Say why the details change and who asked for it (at least 5 characters).")})
    _check_length(note, PayeeChange._meta.get_field("note").max_length, field="note")
    clean = _clean_payee_details(payee, details)
    model = type(payee)
    with transaction.atomic():
        locked = model.objects.select_for_update().get(pk=payee.pk)
        before = payee_details(locked)
        if clean == before:
            raise ValidationError(_("These are the details in use now: nothing would change."), code="no_change")
        if PayeeChange.objects.filter(**{model._meta.model_name: locked}, status=PayeeChange.Status.PENDING).exists():
            raise ValidationError(
                _("A change of these details already waits for approval. Decide or withdraw it first."),
                code="pending",
            )
        change = PayeeChange.objects.create(
            **{model._meta.model_name: locked}, before=before, after=clean, note=note, requested_by=by
        )
        record_created(change, PayeeChange.Status.PENDING, by=by, reason=note)
        _notify_payee_staff(change, what="requested")
    return change


def payee_change_decide(*, change_id: int, approve: bool, reason: str, by: User) -> PayeeChange:
    """A second finance officer approves (the payee's details change now, in
    the same transaction) or rejects a pending change. The requester cannot
    decide their own."""
    if not by.has_perm("catalog.approve_payeechange"):
        raise PermissionDenied
    reason = " ".join((reason or "").split())
    if not approve and len(reason) < 5:
        raise ValidationError({"reason": _("Say why the change is rejected (at least 5 characters).")})
    _check_length(reason, PayeeChange._meta.get_field("decision_reason").max_length)
    with transaction.atomic():
        change = PayeeChange.objects.select_for_update().get(pk=change_id)
        if change.requested_by_id == by.pk:
            raise ValidationError(
                _("You asked for this change: another PMO finance checker approves or rejects it."), code="own"
            )
        to = PayeeChange.Status.APPROVED if approve else PayeeChange.Status.REJECTED
        record_move(change, to, table=PAYEE_CHANGE_TRANSITIONS, by=by, reason=reason)
        change.decided_by, change.decided_at, change.decision_reason = by, timezone.now(), reason
        change.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
        if approve:
            payee = type(change.payee).objects.select_for_update().get(pk=change.payee.pk)
            before = payee_details(payee)
            changed = [name for name, value in change.after.items() if before.get(name) != value]
            for name in changed:
                setattr(payee, name, change.after[name])
            payee.save(update_fields=changed)
            record_change(
                payee,
                "payee_details",
                by=by,
                before={name: before[name] for name in changed},
                after={name: change.after[name] for name in changed},
                reason=_("change of bank details %(id)s, requested by %(who)s")
                % {"id": change.pk, "who": change.requested_by},
            )
            _notify_payee_staff(change, what="approved")
    return change


def payee_change_withdraw(*, change_id: int, by: User) -> PayeeChange:
    """The requester (or another maker) withdraws a pending change."""
    if not by.has_perm("catalog.add_payeechange"):
        raise PermissionDenied
    with transaction.atomic():
        change = PayeeChange.objects.select_for_update().get(pk=change_id)
        record_move(change, PayeeChange.Status.WITHDRAWN, table=PAYEE_CHANGE_TRANSITIONS, by=by)
        change.decided_by, change.decided_at = by, timezone.now()
        change.save(update_fields=["status", "decided_by", "decided_at"])
    return change


def course_propose(
    *, institution: Institution, platform: Platform, data: CourseInput, via, sessions=None, post_test: bool = False
) -> CourseRevision:
    """A platform (``via`` its API client) drafts a course of an institution
    it sells for, with its sessions, and sends it to curation, in one step."""
    with transaction.atomic():
        revision = course_create(institution=institution, platform=platform, data=data, via=via)
        if sessions is not None:
            revision_set_sessions(revision=revision, sessions=sessions, post_test=post_test, via=via)
        return revision_submit(revision=revision, via=via)


def revision_propose(
    *, course: Course, data: CourseInput, via, sessions=None, post_test: bool = False
) -> CourseRevision:
    """A platform (``via`` its API client) sends a new version of a course it
    sells to curation; refused while another version is drafted or curated
    (it may be the institution's own draft)."""
    open_statuses = (RevisionStatus.DRAFT, RevisionStatus.SUBMITTED, RevisionStatus.STAGE1_APPROVED)
    if course.revisions.filter(status__in=open_statuses).exists():
        raise ValidationError(
            _("A version of this course is being drafted or curated; wait for its decision."), code="version_open"
        )
    with transaction.atomic():
        draft = revision_start(course=course, via=via)
        draft = revision_update(revision=draft, data=data, via=via)
        if sessions is not None:
            revision_set_sessions(revision=draft, sessions=sessions, post_test=post_test, via=via)
        return revision_submit(revision=draft, via=via)


SESSION_FIELDS = ("sequence", "kind", "title", "starts_at", "ends_at")


@dataclass(frozen=True)
class SessionInput:
    kind: str
    title: str
    starts_at: datetime.datetime | None = None
    ends_at: datetime.datetime | None = None


def sessions_validate(sessions: list[SessionInput], *, post_test: bool) -> list[dict]:
    """A version's sessions in order (numbered 1 to 10), and the post-test
    (999) last if it has one; refused with the first problem."""
    if len(sessions) > CourseSession.MAX_SESSIONS:
        raise ValidationError(
            {"sessions": _("A course has at most %(n)d sessions.") % {"n": CourseSession.MAX_SESSIONS}},
            code="too_many",
        )
    now = timezone.now()
    rows = []
    for number, item in enumerate(sessions, start=1):
        title = " ".join((item.title or "").split())
        where = _("Session %(n)d: ") % {"n": number}
        if item.kind not in (CourseSession.Kind.WEBINAR, CourseSession.Kind.SELF_PACED):
            raise ValidationError({"sessions": where + _("choose webinar or self-paced module.")}, code="kind")
        if not 3 <= len(title) <= 150:
            raise ValidationError({"sessions": where + _("give a title of 3 to 150 characters.")}, code="title")
        if item.kind == CourseSession.Kind.WEBINAR:
            if item.starts_at is None or item.ends_at is None:
                raise ValidationError({"sessions": where + _("a webinar needs its start and end.")}, code="times")
            if item.ends_at <= item.starts_at or item.starts_at <= now:
                raise ValidationError(
                    {"sessions": where + _("a webinar must start in the future and end after it starts.")},
                    code="times",
                )
        rows.append(
            {
                "sequence": number,
                "kind": item.kind,
                "title": title,
                "starts_at": item.starts_at if item.kind == CourseSession.Kind.WEBINAR else None,
                "ends_at": item.ends_at if item.kind == CourseSession.Kind.WEBINAR else None,
            }
        )
    if post_test:
        rows.append(
            {
                "sequence": CourseSession.POST_TEST_SEQUENCE,
                "kind": CourseSession.Kind.POST_TEST,
                "title": "Post-test",
                "starts_at": None,
                "ends_at": None,
            }
        )
    return rows


def revision_set_sessions(
    *, revision: CourseRevision, sessions: list[SessionInput], post_test: bool, by: User | None = None, via=None
) -> CourseRevision:
    """Sets a draft's sessions and post-test, all at once; curated with the
    rest of the version. A version under curation or on sale cannot change."""
    _staff_of(revision.course.institution, by, via)
    _sold_by(revision.course, via)
    rows = sessions_validate(sessions, post_test=post_test)
    with transaction.atomic():
        locked = CourseRevision.objects.select_for_update().get(pk=revision.pk)
        if locked.status != RevisionStatus.DRAFT:
            raise ValidationError(
                _("This version is %(status)s and cannot be changed. Start a new version instead.")
                % {"status": locked.get_status_display()},
                code="not_draft",
            )
        locked.sessions.all().delete()
        CourseSession.objects.bulk_create(CourseSession(revision=locked, **row) for row in rows)
    return locked


# ---------------------------------------------------------------- owners and affiliates

AFFILIATION_NAME_MAX = Affiliation._meta.get_field("name").max_length


def _declarer(owner) -> dict:
    return {"institution": owner} if isinstance(owner, Institution) else {"platform": owner}


def _party(party_kind: str, number: str) -> tuple[str, str]:
    """The key a party is matched on and what is shown of it."""
    from accounts.crypto import mask, nik_index
    from accounts.nik import parse_nik

    number = "".join((number or "").split())
    if party_kind == Affiliation.PartyKind.PERSON:
        try:
            nik = parse_nik(number).number
        except ValidationError as error:
            raise ValidationError({"number": error.messages[0]}) from None
        return f"nik:{nik_index(nik)}", mask(nik)
    if party_kind == Affiliation.PartyKind.COMPANY:
        if not (len(number) == 13 and number.isdigit()):
            raise ValidationError({"number": _("An NIB has 13 digits.")}, code="nib")
        return company_key(number), number
    raise ValidationError({"party_kind": _("Choose a person or a company.")})


def _may_declare(owner, by: User) -> None:
    if not (owner.staff.filter(pk=by.pk).exists() or by.has_perm("catalog.change_institution")):
        raise PermissionDenied


def affiliation_declare(
    *, owner, relation: str, party_kind: str, number: str, name: str, share_percent=None, by: User
) -> Affiliation:
    """An institution or platform declares an owner, officer or affiliated
    company. Listings that this makes a conflict of interest are suspended,
    each with a case for the PMO."""
    from integrity.services.conflicts import conflicts_scan

    _may_declare(owner, by)
    if relation not in Affiliation.Relation.values:
        raise ValidationError({"relation": _("Choose the relation.")})
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError({"name": _("Write the name.")})
    _check_length(name, AFFILIATION_NAME_MAX, "name")
    key, masked = _party(party_kind, number)
    if share_percent is not None and not (0 <= share_percent <= 100):
        raise ValidationError({"share_percent": _("A share is between 0 and 100 percent.")})
    with transaction.atomic():
        type(owner).objects.select_for_update().get(pk=owner.pk)  # one declaration at a time per declarer
        if owner.affiliations.filter(party_key=key, withdrawn_at__isnull=True).exists():
            raise ValidationError({"number": _("This person or company is already declared.")}, code="duplicate")
        affiliation = Affiliation.objects.create(
            **_declarer(owner),
            relation=relation,
            party_kind=party_kind,
            name=name,
            party_key=key,
            party_masked=masked,
            share_percent=share_percent,
            declared_by=by,
        )
        record_change(
            owner,
            "affiliation declared",
            by=by,
            before={},
            after={"name": name, "relation": relation, "party": masked},
            reason="declaration",
        )
        scope = {"institution_ids": [owner.pk]} if isinstance(owner, Institution) else {"platform_ids": [owner.pk]}
        conflicts_scan(**scope, stage="declaration")
    return affiliation


def affiliation_withdraw(*, affiliation_id: int, owner, by: User) -> Affiliation:
    """Withdraws a declaration (kept, with who and when). A listing already
    suspended for it stays so until the PMO decides its case."""
    _may_declare(owner, by)
    with transaction.atomic():
        affiliation = owner.affiliations.select_for_update().filter(pk=affiliation_id).first()
        if affiliation is None:
            raise ValidationError(_("There is no such declaration."), code="not_found")
        if affiliation.withdrawn_at is not None:
            raise ValidationError(_("This declaration was already withdrawn."), code="already_withdrawn")
        affiliation.withdrawn_at = timezone.now()
        affiliation.withdrawn_by = by
        affiliation.save(update_fields=["withdrawn_at", "withdrawn_by"])
        record_change(
            owner,
            "affiliation withdrawn",
            by=by,
            before={"name": affiliation.name, "party": affiliation.party_masked},
            after={},
            reason="withdrawal",
        )
    return affiliation
