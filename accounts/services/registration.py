"""Registering participants, online or through a Dinas operator. The phone
check is in phone.py, the participant's status moves in status.py, the
exclusion lists' answers in eligibility.py."""

import datetime
import re
from dataclasses import dataclass

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from prakerja import ratelimit
from prakerja.lifecycle import record_created, record_created_many

from .. import crypto
from ..models import (
    DinasOperator,
    ExclusionEntry,
    ExclusionList,
    FamilyCard,
    Participant,
    RegistrationBatch,
    User,
)
from ..nik import NikInfo, clean_kk, parse_nik, province_name
from ..phone import clean_mobile
from ..roles import PARTICIPANT
from ..tasks import send_offline_welcome
from .eligibility import _exclusion_reason
from .powers import PARTICIPANT_REFUSED, has_staff_powers

_NAME_RE = re.compile(r"^[^\W\d_]+(?:[ .,'\-]+[^\W\d_]+)*[.]?$")


@dataclass(frozen=True)
class ProfileInput:
    """What a person (or an operator for them) enters to register."""

    full_name: str
    nik: str
    kk_number: str
    birth_place: str
    birth_date: datetime.date | None
    gender: str
    phone: str
    address: str
    education: str
    employment_status: str


@dataclass(frozen=True)
class _CleanProfile:
    profile: ProfileInput
    nik: NikInfo
    kk_number: str
    phone: str
    full_name: str


def _collapse(text: str) -> str:
    return " ".join((text or "").split())


def _age_on(birth_date: datetime.date, day: datetime.date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def _validate(profile: ProfileInput) -> _CleanProfile:
    """Checks every field and their agreement; raises one ValidationError
    with a message per field so the person sees all problems at once."""
    errors: dict[str, list] = {}

    def err(field, message, code):
        errors.setdefault(field, []).append(ValidationError(message, code=code))

    def capture(field, fn, value):
        try:
            return fn(value)
        except ValidationError as exc:
            errors.setdefault(field, []).extend(exc.error_list)
            return None

    full_name = _collapse(profile.full_name)
    if not full_name:
        err("full_name", _("Enter the full name as written on the KTP."), "required")
    elif len(full_name) > 100:
        err("full_name", _("A name can be at most 100 characters long."), "too_long")
    elif not _NAME_RE.match(full_name):
        err(
            "full_name",
            _("A name contains letters, spaces and . , ' - only."),
            "name_invalid",
        )

    nik = capture("nik", parse_nik, profile.nik)
    kk_number = capture("kk_number", clean_kk, profile.kk_number)
    phone = capture("phone", clean_mobile, profile.phone)

    birth_place = _collapse(profile.birth_place)
    if not birth_place:
        err("birth_place", _("Enter the place of birth."), "required")
    elif len(birth_place) > 60:
        err(
            "birth_place",
            _("A place of birth can be at most 60 characters long."),
            "too_long",
        )

    today = timezone.localdate()
    birth_date = profile.birth_date
    if birth_date is None:
        err("birth_date", _("Enter the date of birth."), "required")
    elif birth_date >= today or birth_date.year < 1900:
        err("birth_date", _("Enter a real date of birth."), "birth_date_invalid")
    else:
        if nik and not nik.matches_birth_date(birth_date):
            err(
                "birth_date",
                _("This date of birth does not match the one in the NIK (digits 7 to 12)."),
                "birth_date_mismatch",
            )
        if _age_on(birth_date, today) < settings.PRAKERJA_MIN_AGE:
            err(
                "birth_date",
                _("A participant must be at least %(age)d years old to join Prakerja.")
                % {"age": settings.PRAKERJA_MIN_AGE},
                "too_young",
            )

    if profile.gender not in Participant.Gender.values:
        err("gender", _("Choose the gender."), "required")
    elif nik and nik.gender != profile.gender:
        err(
            "gender",
            _("This gender does not match the NIK: for women the birth day in the NIK has 40 added to it."),
            "gender_mismatch",
        )

    address = _collapse(profile.address)
    if not address:
        err("address", _("Enter the domicile address."), "required")
    elif len(address) > 255:
        err("address", _("An address can be at most 255 characters long."), "too_long")

    if profile.education not in Participant.Education.values:
        err("education", _("Choose the last education."), "required")
    if profile.employment_status not in Participant.Employment.values:
        err("employment_status", _("Choose the employment status."), "required")

    if errors:
        raise ValidationError(errors)
    return _CleanProfile(
        profile=ProfileInput(
            full_name=full_name,
            nik=nik.number,
            kk_number=kk_number,
            birth_place=birth_place,
            birth_date=birth_date,
            gender=profile.gender,
            phone=phone,
            address=address,
            education=profile.education,
            employment_status=profile.employment_status,
        ),
        nik=nik,
        kk_number=kk_number,
        phone=phone,
        full_name=full_name,
    )


def _duplicate_nik_error() -> ValidationError:
    return ValidationError(
        {
            "nik": ValidationError(
                _(
                    "This NIK is already registered. If you did not register it yourself, "
                    "contact the Prakerja help desk."
                ),
                code="nik_taken",
            )
        }
    )


def _duplicate_phone_error() -> ValidationError:
    return ValidationError(
        {
            "phone": ValidationError(
                _("This mobile number is already used by another participant. Enter your own number."),
                code="phone_taken",
            )
        }
    )


def _kk_full_error() -> ValidationError:
    return ValidationError(
        {
            "kk_number": ValidationError(
                _("%(limit)d people on this family card (KK) are already registered, the most allowed.")
                % {"limit": settings.PRAKERJA_MAX_PARTICIPANTS_PER_KK},
                code="kk_full",
            )
        }
    )


def _not_operator_error() -> ValidationError:
    return ValidationError(_("Only Dinas operators can register people on their behalf."), code="not_operator")


def _operator_office(operator: User) -> DinasOperator | None:
    """The operator's office, if they may register people for it."""
    try:
        office = operator.dinas_operator  # cached on the instance, once per batch
    except DinasOperator.DoesNotExist:
        return None
    return office if operator.has_perm("accounts.register_offline") else None


def _other_province_error(nik: NikInfo, office: DinasOperator) -> ValidationError:
    return ValidationError(
        {
            "nik": ValidationError(
                _("This NIK belongs to %(nik_province)s; you can register people of %(own_province)s only.")
                % {"nik_province": province_name(nik.province_code), "own_province": office.province_name},
                code="other_province",
            )
        }
    )


def _excluded_error(reason: str) -> ValidationError:
    return ValidationError(
        {
            "nik": ValidationError(
                _("This NIK is on the PMO's exclusion list (%(list)s): members of this group cannot join Prakerja.")
                % {"list": reason},
                code="nik_excluded",
            )
        }
    )


def _participant_row(*, user, clean: _CleanProfile, nik_idx, card, operator, batch) -> Participant:
    p = clean.profile
    return Participant(
        user=user,
        full_name=clean.full_name,
        nik=clean.nik.number,
        nik_index=nik_idx,
        family_card=card,
        birth_place=p.birth_place,
        birth_date=p.birth_date,
        gender=p.gender,
        phone=clean.phone,
        address=p.address,
        province_code=clean.nik.province_code,
        regency_code=clean.nik.regency_code,
        education=p.education,
        employment_status=p.employment_status,
        status=Participant.Status.REGISTERED,
        channel=Participant.Channel.ONLINE if operator is None else Participant.Channel.OFFLINE,
        registered_by=operator,
        registration_batch=batch[0] if batch else None,
        registration_batch_line=batch[1] if batch else None,
    )


def _create_participant(*, user, clean: _CleanProfile, operator, nik_idx, batch) -> Participant:
    if operator is None:
        # A double tap on a slow connection sends the form twice: the second
        # waits here for the first, then finds its participant.
        User.objects.select_for_update().only("pk").get(pk=user.pk)
    if operator is None and Participant.objects.filter(user=user).exists():
        raise ValidationError(
            _("This account already has a participant profile."),
            code="already_registered",
        )
    # A number counts as taken once someone verified it: an unverified one
    # may be a typo, and must not lock its real owner out.
    taken = Participant.objects.filter(
        Q(nik_index=nik_idx) | Q(phone=clean.phone, phone_verified_at__isnull=False)
    ).values_list("nik_index", flat=True)
    for taken_nik in taken:
        raise _duplicate_nik_error() if taken_nik == nik_idx else _duplicate_phone_error()

    kk_idx = crypto.kk_index(clean.kk_number)
    FamilyCard.objects.bulk_create([FamilyCard(number=clean.kk_number, number_index=kk_idx)], ignore_conflicts=True)
    # The row lock makes concurrent registrations on one KK count one at a
    # time. The count is its own statement after the lock: counted in the
    # locking query it would read the snapshot from before the wait.
    card = FamilyCard.objects.select_for_update().only("pk").get(number_index=kk_idx)
    member_count = Participant.objects.filter(family_card=card).count()
    if member_count >= settings.PRAKERJA_MAX_PARTICIPANTS_PER_KK:
        raise _kk_full_error()

    participant = _participant_row(user=user, clean=clean, nik_idx=nik_idx, card=card, operator=operator, batch=batch)
    participant.save()
    record_created(
        participant,
        Participant.Status.REGISTERED,
        by=operator or user,
        reason="registered online" if operator is None else "registered by Dinas operator",
    )
    User.groups.through.objects.create(user_id=user.pk, group_id=Group.objects.only("pk").get(name=PARTICIPANT).pk)
    return participant


def _register(*, user_factory, clean: _CleanProfile, operator, batch=None) -> Participant:
    nik_idx = crypto.nik_index(clean.nik.number)

    if operator is not None:
        office = _operator_office(operator)
        if office is None:
            raise _not_operator_error()
        if clean.nik.province_code != office.province_code:
            raise _other_province_error(clean.nik, office)

    reason = _exclusion_reason(nik_idx)
    if reason:
        raise _excluded_error(reason)

    user = None
    try:
        with transaction.atomic():
            user = user_factory()
            return _create_participant(
                user=user,
                clean=clean,
                operator=operator,
                nik_idx=nik_idx,
                batch=batch,
            )
    except IntegrityError:
        # A concurrent registration won the race for a unique value.
        if Participant.objects.filter(nik_index=nik_idx).exists():
            raise _duplicate_nik_error() from None
        if operator is None and user is not None and Participant.objects.filter(user=user).exists():
            raise ValidationError(
                _("This account already has a participant profile."), code="already_registered"
            ) from None
        if User.objects.with_email(getattr(user_factory, "email", "")).exists():
            raise _duplicate_email_error() from None
        raise


# Registration attempts allowed per account per hour: each refusal says
# whether a NIK is registered, so the asking is limited. An operator
# registers many people at the counter and gets more; CSV batches are
# bounded by their upload and leave a per-row record.
REGISTER_ATTEMPTS_PER_HOUR = 20
OPERATOR_ATTEMPTS_PER_HOUR = 300


def _limit_attempts(key: str, limit: int) -> None:
    if not ratelimit.hit(key, limit=limit, window_seconds=3600):
        raise ValidationError(_("Too many attempts. Try again in an hour."), code="too_many_attempts")


def participant_register(*, user: User, profile: ProfileInput) -> Participant:
    """A person registers themself online (pendaftaran daring)."""
    if has_staff_powers(user):
        raise ValidationError(PARTICIPANT_REFUSED, code="staff_account")
    _limit_attempts(f"register:{user.pk}", REGISTER_ATTEMPTS_PER_HOUR)
    return _register(
        user_factory=lambda: user,
        clean=_validate(profile),
        operator=None,
    )


def _duplicate_email_error() -> ValidationError:
    return ValidationError(
        {
            "email": ValidationError(
                _(
                    "This email address already has an account. The person can log in with it "
                    "and complete the profile themself."
                ),
                code="email_taken",
            )
        }
    )


class _OfflineUserFactory:
    def __init__(self, email: str):
        self.email = email

    def __call__(self) -> User:
        if User.objects.with_email(self.email).exists():
            raise _duplicate_email_error()
        user = User.objects.create_user(email=self.email, password=None)
        EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=False)
        return user


def clean_email(value: str) -> str:
    email = (value or "").strip().lower()
    if not email:
        raise ValidationError({"email": ValidationError(_("Enter an email address."), code="required")})
    if len(email) > 254:
        raise ValidationError({"email": ValidationError(_("That email address is too long."), code="too_long")})
    try:
        EmailValidator()(email)
    except ValidationError:
        raise ValidationError(
            {"email": ValidationError(_("Enter a valid email address."), code="email_invalid")}
        ) from None
    return email


def _validate_offline(email: str, profile: ProfileInput) -> tuple[str, _CleanProfile]:
    """The email and the profile checked together: one ValidationError
    with every field's problems."""
    errors: dict[str, list] = {}
    try:
        email = clean_email(email)
    except ValidationError as exc:
        errors.update(exc.error_dict)
    try:
        clean = _validate(profile)
    except ValidationError as exc:
        errors.update(exc.error_dict)
    if errors:
        raise ValidationError(errors)
    return email, clean


def participant_register_offline(
    *,
    operator: User,
    email: str,
    profile: ProfileInput,
    batch: tuple[RegistrationBatch, int] | None = None,
) -> Participant:
    """A Dinas operator registers a person on their behalf (pendaftaran luring).

    The person gets an account without a password and an email with a link to
    choose one; they verify their phone themselves when they first log in.
    ``batch`` is the CSV batch and line the person came from, if any.
    """
    if batch is None:
        _limit_attempts(f"operator-register:{operator.pk}", OPERATOR_ATTEMPTS_PER_HOUR)
    email, clean = _validate_offline(email, profile)
    participant = _register(
        user_factory=_OfflineUserFactory(email),
        clean=clean,
        operator=operator,
        batch=batch,
    )

    transaction.on_commit(lambda: send_offline_welcome.delay(participant.pk))
    return participant


def email_confirm_by_password_reset(*, user: User) -> None:
    """Setting a password from an emailed link proves the address, as the
    confirmation link would: a person registered at a Dinas office, whose
    first email is that link, is not asked to confirm the same address again.
    Only an account with one address, so the link can have gone nowhere else."""
    addresses = list(EmailAddress.objects.filter(user=user))
    if len(addresses) == 1 and addresses[0].email.lower() == user.email.lower() and not addresses[0].verified:
        addresses[0].verified = True
        addresses[0].primary = True
        addresses[0].save(update_fields=["verified", "primary"])


class BulkConflict(Exception):
    """Raised inside the bulk registration's transaction when a concurrent
    registration touched the same family card: the caller registers the
    rows one at a time instead, which settles it row by row."""


def _exclusion_reasons(nik_indexes) -> dict[str, str]:
    """``_exclusion_reason`` for many NIKs in one query: {NIK index: the
    first active list's kind, by name}."""
    reasons: dict[str, str] = {}
    entries = (
        ExclusionEntry.objects.filter(
            nik_index__any=list(nik_indexes),
            exclusion_list__is_active=True,
            exclusion_list__status=ExclusionList.Status.READY,
        )
        .select_related("exclusion_list")
        .order_by("pk")
    )
    for entry in entries:
        reasons.setdefault(entry.nik_index, entry.exclusion_list.get_kind_display())
    return reasons


def participants_register_offline_many(
    *, operator: User, batch: RegistrationBatch, rows: list[tuple[int, str, ProfileInput]]
) -> dict[int, Participant | ValidationError]:
    """``participant_register_offline`` for many rows of a CSV batch at once:
    {line: the participant, or the refusal the row would get if registered
    on its own, in file order}. The checks are a few queries for all rows
    together and the rows are written in one transaction, all or none.

    Raises IntegrityError (a concurrent registration took a NIK or an email)
    or BulkConflict; nothing is written then, and the caller registers the
    rows one by one."""
    outcome: dict[int, Participant | ValidationError] = {}
    office = _operator_office(operator)
    candidates = []
    for line, raw_email, profile in rows:
        try:
            email, clean = _validate_offline(raw_email, profile)
        except ValidationError as exc:
            outcome[line] = exc
            continue
        if office is None:
            outcome[line] = _not_operator_error()
        elif clean.nik.province_code != office.province_code:
            outcome[line] = _other_province_error(clean.nik, office)
        else:
            nik_idx = crypto.nik_index(clean.nik.number)
            candidates.append((line, email, clean, nik_idx, crypto.kk_index(clean.kk_number)))
    if not candidates:
        return outcome

    excluded = _exclusion_reasons(c[3] for c in candidates)
    emails_taken = set(
        User.objects.annotate(email_lower=Lower("email"))
        .filter(email_lower__any=[c[1] for c in candidates])
        .values_list("email_lower", flat=True)
    )
    niks_taken = set(
        Participant.objects.filter(nik_index__any=[c[3] for c in candidates]).values_list("nik_index", flat=True)
    )
    phones_taken = set(
        Participant.objects.filter(
            phone__any=list({c[2].phone for c in candidates}), phone_verified_at__isnull=False
        ).values_list("phone", flat=True)
    )
    limit = settings.PRAKERJA_MAX_PARTICIPANTS_PER_KK
    with transaction.atomic():
        # As one at a time: lock the family cards (in one order, so two
        # chunks cannot deadlock), then count their members.
        cards = dict(
            FamilyCard.objects.select_for_update()
            .filter(number_index__any=list({c[4] for c in candidates}))
            .order_by("pk")
            .values_list("number_index", "pk")
        )
        members = dict(
            Participant.objects.filter(family_card__in=list(cards.values()))
            .values("family_card_id")
            .annotate(n=Count("pk"))
            .values_list("family_card_id", "n")
        )
        members = {kk_idx: members.get(pk, 0) for kk_idx, pk in cards.items()}
        accepted = []
        for line, email, clean, nik_idx, kk_idx in candidates:
            if nik_idx in excluded:
                outcome[line] = _excluded_error(excluded[nik_idx])
            elif email in emails_taken:
                outcome[line] = _duplicate_email_error()
            elif nik_idx in niks_taken:
                outcome[line] = _duplicate_nik_error()
            elif clean.phone in phones_taken:
                outcome[line] = _duplicate_phone_error()
            elif members.get(kk_idx, 0) >= limit:
                outcome[line] = _kk_full_error()
            else:
                emails_taken.add(email)
                niks_taken.add(nik_idx)
                members[kk_idx] = members.get(kk_idx, 0) + 1
                accepted.append((line, email, clean, nik_idx, kk_idx))
        if not accepted:
            return outcome

        new_cards = {kk_idx: clean.kk_number for _l, _e, clean, _n, kk_idx in accepted if kk_idx not in cards}
        if new_cards:
            try:
                with transaction.atomic():
                    created = FamilyCard.objects.bulk_create(
                        [FamilyCard(number=number, number_index=kk_idx) for kk_idx, number in new_cards.items()]
                    )
            except IntegrityError:
                raise BulkConflict("a family card was created meanwhile") from None
            cards.update({card.number_index: card.pk for card in created})

        users = User.objects.bulk_create(
            [User(email=email, password=make_password(None)) for _l, email, *_rest in accepted]
        )
        EmailAddress.objects.bulk_create(
            [EmailAddress(user=user, email=user.email, primary=True, verified=False) for user in users]
        )
        participants = []
        for user, (line, _e, clean, nik_idx, kk_idx) in zip(users, accepted, strict=True):
            participant = _participant_row(
                user=user, clean=clean, nik_idx=nik_idx, card=None, operator=operator, batch=(batch, line)
            )
            participant.family_card_id = cards[kk_idx]
            participants.append(participant)
        Participant.objects.bulk_create(participants)
        record_created_many(
            Participant,
            [p.pk for p in participants],
            Participant.Status.REGISTERED,
            by=operator,
            reason="registered by Dinas operator",
        )
        group_id = Group.objects.only("pk").get(name=PARTICIPANT).pk
        User.groups.through.objects.bulk_create(
            [User.groups.through(user_id=user.pk, group_id=group_id) for user in users]
        )
        ids = [p.pk for p in participants]
        transaction.on_commit(lambda: [send_offline_welcome.delay(pk) for pk in ids])
    for participant, (line, *_rest) in zip(participants, accepted, strict=True):
        outcome[line] = participant
    return outcome
