"""Resident IDs, phone numbers and masking: pure rules, no database."""

from __future__ import annotations

import random
from datetime import date

import pytest
from stdnum.cn import ric

from fairslot.patients.identity import (
    IdentityError,
    Sex,
    age_on,
    mask_id,
    mask_name,
    mask_phone,
    normalise_phone,
    parse_resident_id,
)
from fairslot.patients.idgen import REGION_CODES, check_character, make_resident_id

# The example from python-stdnum's documentation.
KNOWN_VALID = "360426199101010071"

# Literal IDs whose check characters were worked out by hand from GB 11643-1999 (ISO 7064
# MOD 11-2): the 17 digits weighted 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2, the sum modulo
# 11 indexing "10X98765432". The standard's own example, 11010519491231002:
# 7+9+0+5+0+20+2+9+24+27+7+18+30+5+0+0+4 = 167 = 15 * 11 + 2 -> "X".
# The 17th digit: odd for a man, even for a woman.
GB_11643 = [
    ("11010519491231002X", Sex.FEMALE, date(1949, 12, 31)),  # sum 167, rest 2
    ("360426199101010071", Sex.MALE, date(1991, 1, 1)),
    ("440305199503151232", Sex.MALE, date(1995, 3, 15)),
    ("310115200002294567", Sex.FEMALE, date(2000, 2, 29)),
    ("51010719980704361X", Sex.MALE, date(1998, 7, 4)),
    ("110108202401010080", Sex.FEMALE, date(2024, 1, 1)),
]


def _with_wrong_check(number: str) -> str:
    wrong = "0" if number[-1] != "0" else "1"
    return number[:-1] + wrong


def test_a_known_valid_id_parses_with_its_sex_and_birth_date() -> None:
    resident = parse_resident_id(KNOWN_VALID)

    assert resident.number == KNOWN_VALID
    assert resident.birth_date == date(1991, 1, 1)
    assert resident.sex is Sex.MALE  # 17th digit 7 is odd


@pytest.mark.parametrize(("number", "sex", "born"), GB_11643)
def test_a_literal_id_parses_with_the_sex_of_its_17th_digit_and_its_birth_date(
    number: str, sex: Sex, born: date
) -> None:
    resident = parse_resident_id(number)

    assert (resident.number, resident.sex, resident.birth_date) == (number, sex, born)


@pytest.mark.parametrize(("number", "sex", "born"), GB_11643)
def test_every_check_character_but_the_standards_is_refused(
    number: str, sex: Sex, born: date
) -> None:
    for wrong in (c for c in "0123456789X" if c != number[-1]):
        with pytest.raises(IdentityError, match="check"):
            parse_resident_id(number[:-1] + wrong)


def test_a_wrong_check_digit_is_refused() -> None:
    with pytest.raises(IdentityError, match="check"):
        parse_resident_id(_with_wrong_check(KNOWN_VALID))


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "36042619910101007",  # 17 digits
        "3604261991010100711",  # 19 digits
        "36042619910101A071",  # a letter inside
        "１１０１０５１９９００６１５００２Ｘ",  # full-width digits
    ],
)
def test_malformed_ids_are_refused(raw: str) -> None:
    with pytest.raises(IdentityError):
        parse_resident_id(raw)


@pytest.mark.parametrize(
    "first17",
    [
        "36042619911301007",  # month 13
        "36042619910230007",  # 30 February
        "99999919910101007",  # no such region
        "44030519700101007",  # Nanshan district did not exist in 1970
    ],
)
def test_ids_with_a_good_check_digit_but_impossible_content_are_refused(first17: str) -> None:
    with pytest.raises(IdentityError):
        parse_resident_id(first17 + check_character(first17))


def test_15_digit_first_generation_ids_are_refused() -> None:
    with pytest.raises(IdentityError):
        parse_resident_id("110105900615002")


def test_a_lower_case_x_check_character_is_accepted() -> None:
    assert parse_resident_id("11010519491231002x").number == "11010519491231002X"


def test_generated_ids_are_valid_for_every_pooled_region_and_any_birth_year() -> None:
    rng = random.Random(7)
    for region in REGION_CODES:
        for born in (date(1920, 2, 29), date(1950, 12, 31), date(2024, 1, 1)):
            for sex in Sex:
                number = make_resident_id(rng=rng, sex=sex, birth_date=born, region=region)
                assert ric.validate(number) == number
                resident = parse_resident_id(number)
                assert (resident.sex, resident.birth_date) == (sex, born)
                assert number.startswith(region)


def test_generated_ids_follow_the_seeded_generator() -> None:
    def draw(seed: int) -> list[str]:
        rng = random.Random(seed)
        return [
            make_resident_id(rng=rng, sex=Sex.MALE, birth_date=date(1970, 5, 5)) for _ in range(5)
        ]

    # Each ends in its GB 11643 check character (checked by hand as above).
    assert draw(3) == [
        "110105197005052438",
        "110105197005056076",
        "110105197005055575",
        "110105197005051339",
        "110105197005053799",
    ]
    assert draw(3) != draw(4)


@pytest.mark.parametrize(("number", "sex", "born"), GB_11643)
def test_the_generators_check_character_follows_gb_11643(number: str, sex: Sex, born: date) -> None:
    assert check_character(number[:17]) == number[-1]


def test_a_malformed_region_is_refused_by_the_generator() -> None:
    with pytest.raises(ValueError, match="region"):
        make_resident_id(
            rng=random.Random(0), sex=Sex.MALE, birth_date=date(1990, 1, 1), region="11"
        )


def test_an_id_is_masked_to_its_first_three_and_last_four_characters() -> None:
    assert mask_id(KNOWN_VALID) == "360***********0071"
    assert len(mask_id(KNOWN_VALID)) == 18


def test_a_name_keeps_its_first_and_last_characters_and_a_two_character_name_its_first() -> None:
    assert mask_name("王小明") == "王*明"
    assert mask_name("王明") == "王*"
    assert mask_name("李") == "*"  # not a valid name; nothing of it is shown


def test_a_phone_is_masked_around_its_middle_digits() -> None:
    assert mask_phone("+8613812345678") == "+86138****5678"


@pytest.mark.parametrize(
    "raw", ["13812345678", "138 1234 5678", "+86 138-1234-5678", "008613812345678"]
)
def test_mainland_mobile_numbers_are_normalised_to_e164(raw: str) -> None:
    assert normalise_phone(raw) == "+8613812345678"


@pytest.mark.parametrize("raw", ["", "12345", "not a phone", "1381234567", "+86 999"])
def test_unusable_phone_numbers_are_refused(raw: str) -> None:
    with pytest.raises(IdentityError):
        normalise_phone(raw)


def test_age_counts_whole_years_up_to_the_birthday() -> None:
    born = date(1990, 6, 15)

    assert age_on(born, date(2026, 6, 14)) == 35
    assert age_on(born, date(2026, 6, 15)) == 36


def test_only_mainland_mobile_numbers_are_accepted() -> None:
    from fairslot.patients.identity import IdentityError, normalise_phone

    assert normalise_phone("13800138000") == "+8613800138000"
    for raw in ("+12025550123", "010-12345678", "+85291234567"):
        with pytest.raises(IdentityError):
            normalise_phone(raw)
