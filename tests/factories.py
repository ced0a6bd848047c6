"""Builders of test state. Participants are made through the registration
services, the way a person gets there."""

import datetime
import itertools

import factory
from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group

from accounts import roles
from accounts.models import DinasOperator, User
from accounts.nik import compose_nik
from accounts.services.registration import ProfileInput, participant_register

_serial = itertools.count(1)

# Region codes (PPRRSS) of a few districts, by province.
REGIONS = {"32": "327301", "31": "317101", "35": "350101", "11": "110101"}


def next_serial() -> int:
    return next(_serial)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "s3cret-Passw0rd")

    @factory.post_generation
    def verified(self, create, extracted, **kwargs):
        self.save()
        if create and extracted is not False:
            EmailAddress.objects.create(user=self, email=self.email, primary=True, verified=True)


def make_profile(
    *,
    province: str = "32",
    birth_date: datetime.date = datetime.date(1995, 8, 17),
    gender: str = "F",
    serial: int | None = None,
    kk_number: str | None = None,
    **overrides,
) -> ProfileInput:
    """A valid registration whose NIK, KK and phone no other test uses."""
    serial = next_serial() if serial is None else serial
    nik_birth_date = birth_date or datetime.date(1995, 8, 17)
    values = {
        "full_name": "Siti Aminah",
        "nik": compose_nik(region=REGIONS[province], birth_date=nik_birth_date, gender=gender, serial=serial % 10000),
        "kk_number": kk_number or f"{REGIONS[province][:4]}01{serial:010d}",
        "birth_place": "Bandung",
        "birth_date": birth_date,
        "gender": gender,
        "phone": f"0812{serial:08d}",
        "address": "Jl. Merdeka No. 1, Bandung",
        "education": "sma",
        "employment_status": "unemployed",
    }
    values.update(overrides)
    return ProfileInput(**values)


def profile_post_data(profile: ProfileInput) -> dict[str, str]:
    """The same profile as a browser would post it."""
    return {
        "full_name": profile.full_name,
        "nik": profile.nik,
        "kk_number": profile.kk_number,
        "birth_place": profile.birth_place,
        "birth_date": profile.birth_date.isoformat() if profile.birth_date else "",
        "gender": profile.gender,
        "phone": profile.phone,
        "address": profile.address,
        "education": profile.education,
        "employment_status": profile.employment_status,
    }


def make_participant(**profile_overrides):
    user = UserFactory()
    return participant_register(user=user, profile=make_profile(**profile_overrides))


def make_operator(province: str = "32") -> User:
    user = UserFactory()
    user.groups.add(Group.objects.get(name=roles.DINAS_OPERATOR))
    DinasOperator.objects.create(user=user, province_code=province, office_name=f"Disnaker {province}")
    return User.objects.get(pk=user.pk)  # fresh permission cache


def make_staff(role: str) -> User:
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return User.objects.get(pk=user.pk)


def give_second_factor(user) -> str:
    """The user's TOTP secret, setting up an authenticator app for them (as
    a staff member does on first reaching admin) if they have none."""
    from allauth.mfa.adapter import get_adapter
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    authenticator = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    if authenticator is None:
        secret = generate_totp_secret()
        TOTP.activate(user, secret)
        return secret
    return get_adapter().decrypt(authenticator.data["secret"])


def totp_code(secret: str, *, later: int = 0) -> str:
    """The code an authenticator app shows now (or ``later`` periods on)."""
    import time

    from allauth.mfa import app_settings
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    # The current period's code, in the middle of the accepted window (the
    # first counter allauth yields is the oldest one it still accepts, which
    # a period boundary between typing and checking would make too old).
    counter = int(time.time()) // app_settings.TOTP_PERIOD
    return format_hotp_value(hotp_value(secret, counter + later))
