import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from accounts.nik import clean_kk, compose_nik, parse_nik, province_name, regency_name


def codes(fn, value):
    with pytest.raises(ValidationError) as exc:
        fn(value)
    return [e.code for e in exc.value.error_list]


def test_a_valid_nik_tells_region_birth_date_and_gender():
    info = parse_nik("3273015708950001")
    assert (info.province_code, info.regency_code) == ("32", "3273")
    assert info.gender == "F"
    assert info.matches_birth_date(datetime.date(1995, 8, 17))
    assert not info.matches_birth_date(datetime.date(1995, 8, 18))
    assert province_name("32") == "Jawa Barat"
    assert regency_name("3273") == "Bandung"


def test_man_nik_has_plain_day():
    info = parse_nik("3171011708450001")
    assert info.gender == "M"
    assert info.matches_birth_date(datetime.date(1945, 8, 17))


def test_a_regency_newer_than_the_region_table_is_accepted_and_shown_by_code():
    info = parse_nik("3218015708950001")  # Pangandaran, formed in 2012
    assert info.regency_code == "3218"
    assert regency_name("3218") == "3218"


def test_separators_are_tolerated():
    assert parse_nik(" 3273 0157 0895 0001 ").number == "3273015708950001"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("", "required"),
        ("327301570895", "nik_length"),
        ("32730157089500011", "nik_length"),
        ("3273O15708950001", "nik_not_digits"),
        ("32730157089500a1", "nik_not_digits"),
        ("9973015708950001", "nik_region"),  # no province 99
        ("0073015708950001", "nik_region"),  # no province 00
        ("3273013102950001", "nik_date"),  # 31 February
        ("3273013513950001", "nik_date"),  # month 13
        ("3273018108950001", "nik_date"),  # day 81 is neither a man's nor a woman's day
        ("3273010008950001", "nik_date"),  # day 00
    ],
)
def test_bad_niks_are_refused_with_the_reason(value, code):
    assert codes(parse_nik, value) == [code]


def test_the_reason_reads_in_indonesian_by_default_and_english_on_request():
    with pytest.raises(ValidationError) as exc:
        parse_nik("327301570895")
    assert exc.value.messages == ["NIK terdiri dari tepat 16 digit; yang ini 12 digit."]
    with translation.override("en"):
        assert exc.value.messages == ["A NIK has exactly 16 digits; this one has 12."]


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("", "required"),
        ("32730101", "kk_length"),
        ("3273010101A60001", "kk_not_digits"),
        ("9973010101960001", "kk_region"),
    ],
)
def test_bad_kk_numbers_are_refused(value, code):
    assert codes(clean_kk, value) == [code]


def test_compose_nik_builds_what_parse_reads():
    nik = compose_nik(region="350101", birth_date=datetime.date(2001, 2, 3), gender="F", serial=42)
    assert nik == "3501014302010042"
    info = parse_nik(nik)
    assert info.gender == "F" and info.matches_birth_date(datetime.date(2001, 2, 3))
