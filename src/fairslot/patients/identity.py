"""Resident identity: validation and what follows from the ID number. Pure: no I/O."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date

import phonenumbers
from stdnum.cn import ric
from stdnum.exceptions import ValidationError


class Sex(enum.StrEnum):
    FEMALE = "female"
    MALE = "male"


@dataclass(frozen=True)
class ResidentId:
    number: str
    sex: Sex
    birth_date: date

    @property
    def masked(self) -> str:
        return mask_id(self.number)


class IdentityError(ValueError):
    """A resident ID or phone number that cannot be accepted; message is for the patient."""


def parse_resident_id(raw: str) -> ResidentId:
    """Validate an 18-digit resident ID (check digit, region, birth date) with python-stdnum.

    The 17th digit is odd for men and even for women.
    """
    try:
        number = ric.validate(raw)
    except ValidationError as exc:
        raise IdentityError(
            "The resident ID number is not valid; check the 18 digits and the final check "
            "character (0-9 or X)."
        ) from exc
    if len(number) != 18:
        raise IdentityError("Only 18-digit resident ID numbers are accepted.")
    birth = ric.get_birth_date(number)
    sex = Sex.MALE if int(number[16]) % 2 == 1 else Sex.FEMALE
    return ResidentId(number=number, sex=sex, birth_date=birth)


def normalise_phone(raw: str, *, region: str = "CN") -> str:
    """Return the phone number in E.164 form, or raise IdentityError."""
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise IdentityError("The phone number could not be read; use digits only.") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise IdentityError("The phone number is not a valid number.")
    # Accounts are verified by SMS: only mobile numbers of the platform's region qualify.
    if phonenumbers.region_code_for_number(parsed) != region or phonenumbers.number_type(
        parsed
    ) not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        raise IdentityError(f"Use a mobile phone number of region {region} (11 digits).")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def mask_id(number: str) -> str:
    return number[:3] + "*" * (len(number) - 7) + number[-4:]


def mask_phone(e164: str) -> str:
    return e164[:-8] + "****" + e164[-4:] if len(e164) > 8 else "****"


def mask_identifier(value: str) -> str:
    """First three and last two characters: a label that lets a reviewer tell identifiers
    apart without spelling them out (blacklist labels, case candidates, alert entities)."""
    return value[:3] + "***" + value[-2:] if len(value) > 6 else "***"


def mask_name(name: str) -> str:
    return name[0] + "*" * (len(name) - 1) if len(name) > 1 else name


def age_on(birth_date: date, day: date) -> int:
    years = day.year - birth_date.year
    if (day.month, day.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years
