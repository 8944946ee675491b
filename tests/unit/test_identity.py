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


def _with_wrong_check(number: str) -> str:
    wrong = "0" if number[-1] != "0" else "1"
    return number[:-1] + wrong


def test_a_known_valid_id_parses_with_its_sex_and_birth_date() -> None:
    resident = parse_resident_id(KNOWN_VALID)

    assert resident.number == KNOWN_VALID
    assert resident.birth_date == date(1991, 1, 1)
    assert resident.sex is Sex.MALE  # 17th digit 7 is odd


def test_the_17th_digit_decides_the_sex() -> None:
    rng = random.Random(1)
    born = date(1990, 6, 15)

    woman = parse_resident_id(make_resident_id(rng=rng, sex=Sex.FEMALE, birth_date=born))
    man = parse_resident_id(make_resident_id(rng=rng, sex=Sex.MALE, birth_date=born))

    assert woman.sex is Sex.FEMALE and int(woman.number[16]) % 2 == 0
    assert man.sex is Sex.MALE and int(man.number[16]) % 2 == 1
    assert woman.birth_date == man.birth_date == born


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
    rng = random.Random(0)
    number = next(
        n
        for n in (
            make_resident_id(rng=rng, sex=Sex.FEMALE, birth_date=date(1980, 1, 2))
            for _ in range(2000)
        )
        if n.endswith("X")
    )

    assert parse_resident_id(number.lower()).number == number


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

    assert draw(3) == draw(3)
    assert draw(3) != draw(4)


def test_the_check_character_follows_gb_11643() -> None:
    # 11010519491231002X is the standard's own worked example.
    assert check_character("11010519491231002") == "X"
    assert check_character(KNOWN_VALID[:17]) == KNOWN_VALID[-1]


def test_a_malformed_region_is_refused_by_the_generator() -> None:
    with pytest.raises(ValueError, match="region"):
        make_resident_id(
            rng=random.Random(0), sex=Sex.MALE, birth_date=date(1990, 1, 1), region="11"
        )


def test_an_id_is_masked_to_its_first_three_and_last_four_characters() -> None:
    assert mask_id(KNOWN_VALID) == "360***********0071"
    assert len(mask_id(KNOWN_VALID)) == 18


def test_a_name_keeps_only_its_first_character() -> None:
    assert mask_name("王小明") == "王**"
    assert mask_name("李") == "李"


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
