"""Valid resident ID numbers for tests, demo data and the red-team simulator. Pure: no I/O.

A resident ID (GB 11643-1999) is a 6-digit region code, the birth date as YYYYMMDD, a
3-digit sequence code (odd for men, even for women) and a check character.
"""

from __future__ import annotations

import random
from datetime import date

from fairslot.patients.identity import Sex

# District and county codes that python-stdnum accepts for any birth year: many codes were
# only created in the 1980s or 1990s, and an ID is rejected if its region did not yet
# exist when the person was born.
REGION_CODES: tuple[str, ...] = (
    "110101",  # 北京市 东城区
    "110102",  # 北京市 西城区
    "110105",  # 北京市 朝阳区
    "110106",  # 北京市 丰台区
    "110108",  # 北京市 海淀区
    "120101",  # 天津市 和平区
    "120104",  # 天津市 南开区
    "310101",  # 上海市 黄浦区
    "310104",  # 上海市 徐汇区
    "310105",  # 上海市 长宁区
    "310110",  # 上海市 杨浦区
    "350121",  # 福建省 闽侯县
    "360121",  # 江西省 南昌县
    "430121",  # 湖南省 长沙县
    "510121",  # 四川省 金堂县
    "620123",  # 甘肃省 榆中县
)

# Weight of position i is 2**(17 - i) mod 11 (GB 11643-1999, ISO 7064 MOD 11-2).
_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
_CHECK_CHARS = "10X98765432"


def check_character(first17: str) -> str:
    """The 18th character of a resident ID whose first 17 digits are ``first17``."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError("the first 17 characters of a resident ID must be ASCII digits")
    total = sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def make_resident_id(
    *, rng: random.Random, sex: Sex, birth_date: date, region: str = "110105"
) -> str:
    """A valid 18-digit resident ID for a person of ``sex`` born on ``birth_date``.

    Only the sequence code is random (drawn from ``rng``, so a seeded generator gives
    reproducible people). The region must exist in the birth year to pass validation;
    the codes in :data:`REGION_CODES` always do.
    """
    if len(region) != 6 or not region.isascii() or not region.isdigit():
        raise ValueError("region must be a 6-digit administrative division code")
    if not 1900 <= birth_date.year <= 9999:
        raise ValueError("birth year must be 1900 or later")
    # Sequence 001-999: odd for men, even (002-998) for women.
    sequence = 2 * rng.randrange(500) + 1 if sex is Sex.MALE else 2 * rng.randrange(1, 500)
    first17 = f"{region}{birth_date:%Y%m%d}{sequence:03d}"
    return first17 + check_character(first17)
