"""The text people read, one catalogue per language (``web/i18n/<lang>/*.toml``).

Each file holds one area's messages as TOML tables (``[review] take_next = "..."``); the
catalogue is their union, keyed ``review.take_next``. A key in two files is an error, and
every language must hold the same keys (a unit test checks). Chinese (zh-CN) is the
default; English is beside it.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"
LANGUAGE_COOKIE = "fairslot_lang"


def _flatten(prefix: str, table: Mapping[str, Any], into: dict[str, str], source: str) -> None:
    for key, value in table.items():
        full = f"{prefix}.{key}" if prefix else key
        if isinstance(value, Mapping):
            _flatten(full, value, into, source)
            continue
        if full in into:
            raise ValueError(f"message {full!r} is defined twice (second time in {source})")
        into[full] = str(value)


@cache
def catalogue(language: str) -> Mapping[str, str]:
    """Every message of ``language``, read once from the package."""
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}")
    messages: dict[str, str] = {}
    folder = resources.files("fairslot.web").joinpath("i18n", language)
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            _flatten("", tomllib.loads(entry.read_text("utf-8")), messages, entry.name)
    return messages


def pick_language(*, query: str | None, cookie: str | None, accept: str | None) -> str:
    """``?lang=`` first, then the cookie the switch sets; Chinese unless English is asked."""
    for wanted in (query, cookie):
        if wanted in LANGUAGES:
            return str(wanted)
    return DEFAULT_LANGUAGE


class Translator:
    """``t("errors.invalid_request", fields="days")``: the message in this language, formatted."""

    def __init__(self, language: str) -> None:
        self.language = language
        self._messages = catalogue(language)
        self._fallback = catalogue(DEFAULT_LANGUAGE)

    def __call__(self, key: str, /, **values: object) -> str:
        text = self._messages.get(key) or self._fallback.get(key)
        if text is None:
            # A missing message shows its key (a unit test keeps every used key defined).
            return key
        return text.format(**values) if values else text

    def has(self, key: str) -> bool:
        return key in self._messages

    @property
    def other(self) -> str:
        """The language the switch offers."""
        return "en" if self.language == DEFAULT_LANGUAGE else DEFAULT_LANGUAGE
