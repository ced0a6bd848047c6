"""Reading the NIK (Nomor Induk Kependudukan) and KK (Kartu Keluarga) numbers.

A NIK is PPRRSS DDMMYY NNNN: province, regency or city, district, the birth
date with 40 added to the day for women, and a serial. python-stdnum checks
length, digits, the province and the date; this module adds that the day
field must be 01-31 or 41-71. The regency is not checked against stdnum's
table: it lacks regencies formed since (3218 Pangandaran, for one), and
refusing a real person's NIK for that would be wrong; such a regency is
shown by its code.
"""

import datetime
from dataclasses import dataclass
from functools import lru_cache

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum import numdb
from stdnum.exceptions import (
    InvalidComponent,
    InvalidFormat,
    InvalidLength,
)
from stdnum.exceptions import (
    ValidationError as StdnumError,
)
from stdnum.id import nik as stdnum_nik


class Gender:
    MALE = "M"
    FEMALE = "F"


@dataclass(frozen=True)
class NikInfo:
    number: str
    province_code: str
    regency_code: str
    birth_day: int
    birth_month: int
    birth_year_2: int
    gender: str

    def matches_birth_date(self, birth_date: datetime.date) -> bool:
        return (birth_date.day, birth_date.month, birth_date.year % 100) == (
            self.birth_day,
            self.birth_month,
            self.birth_year_2,
        )


@lru_cache(maxsize=4096)
def _region(code4: str) -> tuple[dict, dict]:
    parts = numdb.get("id/loc").info(code4)
    province = parts[0][1] if parts else {}
    regency = parts[1][1] if len(parts) > 1 else {}
    return province, regency


def parse_nik(value: str) -> NikInfo:
    """Validates a NIK and returns what it says, or raises ValidationError."""
    number = stdnum_nik.compact(value or "")
    if not number:
        raise ValidationError(_("Enter your NIK."), code="required")
    try:
        stdnum_nik.validate(number)
    except InvalidLength:
        raise ValidationError(
            _("A NIK has exactly 16 digits; this one has %(count)d."),
            code="nik_length",
            params={"count": len(number)},
        ) from None
    except InvalidFormat:
        raise ValidationError(_("A NIK contains digits only."), code="nik_not_digits") from None
    except InvalidComponent:
        if not _region(number[:4])[0]:
            raise ValidationError(
                _("The region code %(code)s at the start of this NIK does not exist."),
                code="nik_region",
                params={"code": number[:4]},
            ) from None
        raise ValidationError(
            _("The birth date in this NIK (digits 7 to 12) is not a real date."),
            code="nik_date",
        ) from None
    except StdnumError:
        raise ValidationError(_("This is not a valid NIK."), code="nik_invalid") from None

    day_field = int(number[6:8])
    if not (1 <= day_field <= 31 or 41 <= day_field <= 71):
        raise ValidationError(
            _("The birth date in this NIK (digits 7 to 12) is not a real date."),
            code="nik_date",
        )
    return NikInfo(
        number=number,
        province_code=number[:2],
        regency_code=number[:4],
        birth_day=day_field % 40,
        birth_month=int(number[8:10]),
        birth_year_2=int(number[10:12]),
        gender=Gender.FEMALE if day_field > 40 else Gender.MALE,
    )


def is_sixteen_digits(number: str) -> bool:
    """Exactly 16 ASCII digits. str.isdigit() alone would take other scripts'
    digits, which would hash to a different blind index for the same number."""
    return len(number) == 16 and number.isascii() and number.isdigit()


def compact_number(value: str) -> str:
    """A NIK or KK without the spaces, dashes and dots people type in it."""
    return stdnum_nik.compact(value or "")


def clean_kk(value: str) -> str:
    """A KK number: 16 digits starting with a known region code."""
    number = stdnum_nik.compact(value or "")
    if not number:
        raise ValidationError(_("Enter your family card (KK) number."), code="required")
    if not (number.isascii() and number.isdigit()):
        raise ValidationError(_("A KK number contains digits only."), code="kk_not_digits")
    if len(number) != 16:
        raise ValidationError(
            _("A KK number has exactly 16 digits; this one has %(count)d."),
            code="kk_length",
            params={"count": len(number)},
        )
    if not _region(number[:4])[0]:
        raise ValidationError(
            _("The region code %(code)s at the start of this KK number does not exist."),
            code="kk_region",
            params={"code": number[:4]},
        )
    return number


def province_name(code: str) -> str:
    return _region(code[:2].ljust(4, "0"))[0].get("name_id", code)


def regency_name(code: str) -> str:
    name = _region(code)[1].get("name_id")
    return name.title() if name else code


@lru_cache(maxsize=1)
def province_choices() -> list[tuple[str, str]]:
    """(code, name) of every province python-stdnum knows, by code."""
    codes = [f"{n:02d}" for n in range(11, 100)]
    return [(c, province_name(c)) for c in codes if _region(c + "00")[0]]


def compose_nik(*, region: str, birth_date: datetime.date, gender: str, serial: int) -> str:
    """Builds the NIK a person with these details would have (demo data and
    tests). ``region`` is the 6-digit PPRRSS code."""
    day = birth_date.day + (40 if gender == Gender.FEMALE else 0)
    return f"{region}{day:02d}{birth_date.month:02d}{birth_date.year % 100:02d}{serial:04d}"
