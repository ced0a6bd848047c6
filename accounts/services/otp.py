"""One-time codes sent by SMS: phone verification now, checkout and payout
accounts later. A code is 6 digits, stored only as a keyed hash, expires after
settings.OTP_TTL_SECONDS, works once, and allows settings.OTP_MAX_ATTEMPTS
guesses. Sending is rate-limited per user and per number, so guessing
through fresh codes is limited too."""

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from notifications.services import notify_sms
from prakerja.inputs import ascii_digits, is_ascii_number

from ..models import OneTimeCode, User

PHONE_VERIFICATION = OneTimeCode.Purpose.PHONE_VERIFICATION
CHECKOUT = OneTimeCode.Purpose.CHECKOUT


def _hash(otp_id_seed: str, code: str) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"otp:{otp_id_seed}:{code}".encode(), hashlib.sha256).hexdigest()


def _sms_body(code: str, what: str) -> str:
    minutes = max(1, settings.OTP_TTL_SECONDS // 60)
    if what:
        return _(
            "Your Prakerja code to confirm %(what)s is %(code)s. It is valid for %(minutes)d minutes. "
            "Never give this code to anyone, including people who claim to be Prakerja staff."
        ) % {"code": code, "minutes": minutes, "what": what}
    return _(
        "Your Prakerja code is %(code)s. It is valid for %(minutes)d minutes. "
        "Never give this code to anyone, including people who claim to be Prakerja staff."
    ) % {"code": code, "minutes": minutes}


def otp_send(*, user: User, phone: str, purpose: str, subject: str = "", what: str = "") -> OneTimeCode:
    """Creates a code for ``user`` and sends it to ``phone`` once committed.
    ``subject`` binds the code to one thing (a course to buy); ``what`` says
    in the SMS what the code confirms."""
    now = timezone.now()
    with transaction.atomic():
        # One send at a time per user, so the limits below hold under races.
        User.objects.select_for_update().only("pk").get(pk=user.pk)
        recent = OneTimeCode.objects.filter(created_at__gte=now - timedelta(hours=1))
        last = recent.filter(user=user, purpose=purpose).order_by("-created_at").first()
        if last and (now - last.created_at).total_seconds() < settings.OTP_RESEND_INTERVAL_SECONDS:
            wait = settings.OTP_RESEND_INTERVAL_SECONDS - int((now - last.created_at).total_seconds())
            raise ValidationError(
                _("A code was just sent. Wait %(seconds)d seconds before asking for a new one.") % {"seconds": wait},
                code="otp_wait",
            )
        limit = settings.OTP_MAX_SENDS_PER_HOUR
        if (
            recent.filter(user=user, purpose=purpose).count() >= limit
            or recent.filter(phone=phone, purpose=purpose).count() >= limit
        ):
            raise ValidationError(
                _("Too many codes were requested. Try again in an hour."),
                code="otp_send_limit",
            )
        # Only the newest code works.
        OneTimeCode.objects.filter(user=user, purpose=purpose, used_at__isnull=True).update(used_at=now)
        code = f"{secrets.randbelow(1_000_000):06d}"
        seed = secrets.token_hex(8)
        otp = OneTimeCode.objects.create(
            user=user,
            purpose=purpose,
            phone=phone,
            subject=subject,
            code_hash=f"{seed}${_hash(seed, code)}",
            expires_at=now + timedelta(seconds=settings.OTP_TTL_SECONDS),
        )
        body = _sms_body(code, what)

        # A row of the outbox, delivered by id after the commit: the code
        # never travels through the broker.
        notify_sms(key=f"otp:{otp.pk}", to=phone, body=body)
    return otp


def _matches(otp: OneTimeCode, code: str) -> bool:
    seed, digest = otp.code_hash.split("$", 1)
    return hmac.compare_digest(digest, _hash(seed, code))


def otp_verify(*, user: User, phone: str, purpose: str, code: str, subject: str = "") -> OneTimeCode:
    """Consumes the newest code if ``code`` is it. A wrong guess is counted
    (and committed) before the refusal is raised, so callers must not wrap
    this in their own transaction."""
    code = ascii_digits((code or "").strip().replace(" ", ""))
    if len(code) != 6 or not is_ascii_number(code):
        raise ValidationError(_("Enter the 6-digit code from the SMS."), code="otp_format")
    now = timezone.now()
    failure = None
    with transaction.atomic():
        otp = (
            OneTimeCode.objects.select_for_update()
            .filter(user=user, purpose=purpose, used_at__isnull=True)
            .order_by("-created_at")
            .first()
        )
        if otp is None or otp.phone != phone or otp.subject != subject:
            failure = ValidationError(_("No code is waiting. Ask for a new code."), code="otp_none")
        elif otp.expires_at <= now:
            failure = ValidationError(_("This code has expired. Ask for a new code."), code="otp_expired")
        elif otp.attempts >= settings.OTP_MAX_ATTEMPTS:
            failure = ValidationError(
                _("Too many wrong codes. Ask for a new code."),
                code="otp_too_many_attempts",
            )
        elif not _matches(otp, code):
            otp.attempts += 1
            otp.save(update_fields=["attempts"])
            left = settings.OTP_MAX_ATTEMPTS - otp.attempts
            failure = ValidationError(
                _("That code is wrong. %(left)d tries left.") % {"left": left}
                if left
                else _("That code is wrong, and no tries are left. Ask for a new code."),
                code="otp_wrong",
            )
        else:
            otp.used_at = now
            otp.save(update_fields=["used_at"])
    if failure is not None:
        raise failure
    return otp
