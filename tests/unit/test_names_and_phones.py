"""A real-name name is a person's name and a phone number is digits: pure rules, no
database. Phone numbers written with letters (keypad spelling) and names made of emoji,
digits or symbols are refused with a message in English and Chinese."""

from __future__ import annotations

import pytest

from fairslot.patients.identity import IdentityError, normalise_name, normalise_phone


@pytest.mark.parametrize(
    "raw",
    [
        "1391234abcd",
        "139-FAIR-SLOT",
        "1391234ABCD",
        "+86 139 FAIR 5678",
        "139１２３４abcd",
        "(139) 1234 5678",
        "139--1234-5678",
        "139.1234.5678",
        "-13912345678",
        "13912345678-",
        "+86+8613912345678",
        "13912345678 ext 1",
    ],
)
def test_a_phone_with_anything_but_digits_and_separators_is_refused(raw: str) -> None:
    with pytest.raises(IdentityError) as refused:
        normalise_phone(raw)

    assert str(refused.value) and refused.value.zh


@pytest.mark.parametrize(
    "raw",
    [
        "13912345678",
        "139 1234 5678",
        "139-1234-5678",
        "+86 139-1234-5678",
        "+8613912345678",
        " 13912345678 ",
        "１３９１２３４５６７８",  # full-width digits, as a Chinese keyboard types them
    ],
)
def test_a_phone_of_digits_with_an_optional_86_and_separators_is_accepted(raw: str) -> None:
    assert normalise_phone(raw) == "+8613912345678"


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("王芳", "王芳"),
        ("欧阳娜娜", "欧阳娜娜"),
        (" 王 芳 ", "王芳"),
        ("阿依古丽·买买提", "阿依古丽·买买提"),
        ("阿依古丽•买买提", "阿依古丽·买买提"),  # U+2022 bullet
        ("阿依古丽‧买买提", "阿依古丽·买买提"),  # U+2027 hyphenation point
        ("阿依古丽・买买提", "阿依古丽·买买提"),  # U+30FB katakana middle dot
        ("阿依古丽･买买提", "阿依古丽·买买提"),  # U+FF65 half-width katakana middle dot
        ("阿依古丽∙买买提", "阿依古丽·买买提"),  # U+2219 bullet operator
        ("阿依古丽⋅买买提", "阿依古丽·买买提"),  # U+22C5 dot operator
        ("阿依古丽 · 买买提", "阿依古丽·买买提"),
        ("阿沛·阿旺晋美", "阿沛·阿旺晋美"),
        ("𠀋芳", "𠀋芳"),  # a character of CJK extension B
        ("John Smith", "John Smith"),
        ("  John   Smith ", "John Smith"),
        ("Mary-Jane O'Neil", "Mary-Jane O'Neil"),
        ("Mary-Jane O’Neil", "Mary-Jane O'Neil"),  # typographic apostrophe
        ("José Müller", "José Müller"),
        ("NGUYỄN VĂN AN", "NGUYỄN VĂN AN"),
        ("Li", "Li"),
    ],
)
def test_chinese_and_latin_names_are_accepted_in_one_form(raw: str, stored: str) -> None:
    assert normalise_name(raw) == stored


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "😀😀",
        "王芳😀",
        "王芳❤️",
        "👨‍👩‍👧",
        "王",  # one character is not a full name
        "王" * 21,
        "王芳2",
        "王芳!",
        "王芳。",
        "·王芳",
        "王芳·",
        "王··芳",
        "王芳John",
        "Jo3n",
        "John_Smith",
        "John--Smith",
        "-John",
        "John'",
        "J",
        "Иван Петров",  # Cyrillic: a foreign name is given in Latin letters
        "A" * 51,
        "王\x00芳",
        "<script>",
    ],
)
def test_emoji_digits_symbols_and_broken_names_are_refused(raw: str) -> None:
    with pytest.raises(IdentityError) as refused:
        normalise_name(raw)

    assert str(refused.value) and refused.value.zh
