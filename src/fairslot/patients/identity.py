"""Resident identity: validation and what follows from the ID number. Pure: no I/O."""

from __future__ import annotations

import enum
import re
import unicodedata
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
    """A resident ID, phone number or name that cannot be accepted; the message is for the
    patient, ``zh`` the same in Chinese."""

    def __init__(self, message: str, *, zh: str = "") -> None:
        super().__init__(message)
        self.zh = zh


def parse_resident_id(raw: str) -> ResidentId:
    """Validate an 18-digit resident ID (check digit, region, birth date) with python-stdnum.

    The 17th digit is odd for men and even for women.
    """
    try:
        number = ric.validate(raw)
    except ValidationError as exc:
        raise IdentityError(
            "The resident ID number is not valid; check the 18 digits and the final check "
            "character (0-9 or X).",
            zh="身份证号码无效，请核对 18 位号码及最后一位校验码（0-9 或 X）。",
        ) from exc
    if len(number) != 18:
        raise IdentityError(
            "Only 18-digit resident ID numbers are accepted.", zh="仅接受 18 位居民身份证号码。"
        )
    birth = ric.get_birth_date(number)
    sex = Sex.MALE if int(number[16]) % 2 == 1 else Sex.FEMALE
    return ResidentId(number=number, sex=sex, birth_date=birth)


# Digits only, optionally after +86, with single spaces or hyphens between digits.
# Checked before phonenumbers, which reads letters as keypad digits ("139-FAIR-SLOT").
_PHONE_TEXT = re.compile(r"(?:\+86[ -]?)?[0-9](?:[ -]?[0-9])*")


def normalise_phone(raw: str, *, region: str = "CN") -> str:
    """Return the phone number in E.164 form, or raise IdentityError.

    Full-width digits (a Chinese keyboard's) are read as digits; anything but digits, a
    leading +86 and single spaces or hyphens between digits is refused.
    """
    text = unicodedata.normalize("NFKC", raw).strip()
    if not _PHONE_TEXT.fullmatch(text):
        raise IdentityError(
            "The phone number could not be read; use digits only (spaces or hyphens "
            "between them are fine).",
            zh="无法识别该手机号码，请只填写数字（数字之间可用空格或连字符）。",
        )
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise IdentityError(
            "The phone number could not be read; use digits only.",
            zh="无法识别该手机号码，请只填写数字。",
        ) from exc
    if not phonenumbers.is_valid_number(parsed):
        raise IdentityError(
            "The phone number is not a valid number.", zh="该手机号码不是有效号码。"
        )
    # Accounts are verified by SMS: only mobile numbers of the platform's region qualify.
    if phonenumbers.region_code_for_number(parsed) != region or phonenumbers.number_type(
        parsed
    ) not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        raise IdentityError(
            f"Use a mobile phone number of region {region} (11 digits).",
            zh="请使用中国大陆的手机号码（11 位）。",
        )
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


# The one middle dot of a stored name (U+00B7), and the look-alikes people type for it
# between the parts of a minority or transliterated name: Greek ano teleia, bullet,
# hyphenation point, bullet and dot operators, katakana middle dot (NFKC has already
# turned the half-width one into it), word separator middle dot.
MIDDLE_DOT = "\u00b7"
_DOT_VARIANTS = "\u0387\u2022\u2027\u2219\u22c5\u30fb\u2e31"
_FOLD = str.maketrans(
    {**dict.fromkeys(_DOT_VARIANTS, MIDDLE_DOT), "\u2019": "'", "\u02bc": "'", "\u2010": "-"}
)
# Han characters: CJK unified ideographs with extensions A to I (names use rare ones), the
# compatibility block, and 〇.
_HAN = (
    "\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
    "\U00020000-\U0002a6df\U0002a700-\U0002ee5f\U00030000-\U000323af"
)
_HAN_NAME = re.compile(f"[{_HAN}]+(?:{MIDDLE_DOT}[{_HAN}]+)*")
_HAN_CHAR = re.compile(f"[{_HAN}]")
# Latin letters: basic, Latin-1, Extended-A and -B, Extended Additional (Vietnamese).
_LATIN = "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u1e00-\u1eff"
_LATIN_NAME = re.compile(f"[{_LATIN}]+(?:[ '-][{_LATIN}]+)*")
HAN_NAME_MIN, HAN_NAME_MAX = 2, 20
LATIN_NAME_MAX = 50
_NAME_HELP = (
    "Enter the name as on the ID card: Chinese characters (with · between the parts of a "
    "name such as 阿依古丽·买买提), or a foreign name in Latin letters with spaces, "
    "hyphens or apostrophes. Digits, emoji and other symbols are not accepted."
)
_NAME_HELP_ZH = (
    "请按证件填写姓名：中文姓名为汉字（少数民族或译名各部分之间用“·”分隔，如 阿依古丽·买买提），"
    "外文姓名为拉丁字母，可含空格、连字符或撇号；不接受数字、表情符号或其他符号。"
)


def fold_name(raw: str) -> str:
    """The name with Unicode compatibility forms, middle-dot, apostrophe and hyphen
    look-alikes folded to one form and runs of spaces to one; nothing is refused."""
    return " ".join(unicodedata.normalize("NFKC", raw).translate(_FOLD).split())


def normalise_name(raw: str) -> str:
    """A real-name name as stored, or IdentityError.

    A Chinese name is 2-20 Han characters, its parts joined by ``·`` (any look-alike dot
    typed is stored as U+00B7, spaces are dropped); a foreign name is Latin letters with
    single spaces, hyphens or apostrophes between them, 2-50 characters.
    """
    name = fold_name(raw)
    if _HAN_CHAR.search(name):
        compact = name.replace(" ", "")
        han = len(compact) - compact.count(MIDDLE_DOT)
        if _HAN_NAME.fullmatch(compact) and HAN_NAME_MIN <= han <= HAN_NAME_MAX:
            return compact
        raise IdentityError(
            f"A Chinese name is {HAN_NAME_MIN}-{HAN_NAME_MAX} Chinese characters, with · "
            "only between its parts. " + _NAME_HELP,
            zh=f"中文姓名应为 {HAN_NAME_MIN}-{HAN_NAME_MAX} 个汉字，“·”只能用在各部分之间。"
            + _NAME_HELP_ZH,
        )
    if _LATIN_NAME.fullmatch(name) and 2 <= len(name) <= LATIN_NAME_MAX:
        return name
    raise IdentityError(_NAME_HELP, zh=_NAME_HELP_ZH)


def mask_id(number: str) -> str:
    return number[:3] + "*" * (len(number) - 7) + number[-4:]


def mask_phone(e164: str) -> str:
    return e164[:-8] + "****" + e164[-4:] if len(e164) > 8 else "****"


def mask_identifier(value: str) -> str:
    """First three and last two characters: a label that lets a reviewer tell identifiers
    apart without spelling them out (blacklist labels, case candidates, alert entities)."""
    return value[:3] + "***" + value[-2:] if len(value) > 6 else "***"


_NAME_SEPARATORS = frozenset(" ·-'")


def mask_name(name: str) -> str:
    """A name as staff screens show it: the first and last characters of three or more
    (张*明, 欧**月, J*** ****h), only the first of two (张*); separators are kept, so the
    shape of a name stays readable. Masking a masked name changes nothing."""
    letters = [i for i, ch in enumerate(name) if ch not in _NAME_SEPARATORS]
    if len(letters) < 2:
        return "*" * len(name)
    kept = {letters[0]} if len(letters) == 2 else {letters[0], letters[-1]}
    return "".join(ch if i in kept or ch in _NAME_SEPARATORS else "*" for i, ch in enumerate(name))


def mask_person(name: str, id_last4: str) -> str:
    """A patient as staff lists show one: enough to tell people apart, nothing to find
    them by (``张* ****002X``)."""
    return f"{mask_name(name)} ****{id_last4}"


def age_on(birth_date: date, day: date) -> int:
    years = day.year - birth_date.year
    if (day.month, day.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years
