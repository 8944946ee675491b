"""The pages' text and templates: every message in both languages, every key a page uses
defined, and nothing in a template that the Content-Security-Policy would block."""

from __future__ import annotations

import enum
import re
from pathlib import Path

import pytest

from fairslot.allocation.states import IntentStatus
from fairslot.bookings.states import BookingStatus
from fairslot.staff.roles import Role
from fairslot.waitlist.models import WaitStatus
from fairslot.web.console.menu import MENU
from fairslot.web.i18n import LANGUAGES, Translator, catalogue, pick_language

WEB = Path(__file__).resolve().parents[2] / "src" / "fairslot" / "web"
TEMPLATES = sorted(WEB.rglob("*.html"))
# t("area.key") — not t("area.prefix_" ~ value), a key built at run time.
LITERAL_KEY = re.compile(r"""\bt\(\s*["']([a-z0-9_]+(?:\.[a-z0-9_]+)+)["'](?!\s*[~+])""")


def test_every_language_holds_the_same_messages() -> None:
    chinese, english = (set(catalogue(lang)) for lang in LANGUAGES)
    assert chinese - english == set(), "messages missing in English"
    assert english - chinese == set(), "messages missing in Chinese"


def test_every_key_a_page_uses_is_defined() -> None:
    used: set[str] = set()
    for path in [*TEMPLATES, *WEB.rglob("*.py")]:
        used |= set(LITERAL_KEY.findall(path.read_text("utf-8")))
    used |= {f"menu.{item.key}" for item in MENU} | {f"roles.{role.value}" for role in Role}
    missing = sorted(key for key in used if key not in catalogue("zh-CN"))
    assert missing == []


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_a_template_has_no_inline_script_style_or_handler(path: Path) -> None:
    html = path.read_text("utf-8")
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline <script>"
    assert not re.search(r"\sstyle\s*=", html), "style attribute"
    assert not re.search(r"<style\b", html), "<style> element"
    assert not re.search(r"\son[a-z]+\s*=", html), "event handler attribute"
    assert "javascript:" not in html
    assert not re.search(r"""(?:src|href)\s*=\s*["']https?://""", html), "outside address"


def test_chinese_is_the_default_and_english_is_asked_for() -> None:
    assert pick_language(query=None, cookie=None, accept="en-US") == "zh-CN"
    assert pick_language(query="en", cookie="zh-CN", accept=None) == "en"
    assert pick_language(query="fr", cookie="en", accept=None) == "en"


def test_a_message_is_formatted_and_an_unknown_key_shows_itself() -> None:
    t = Translator("en")
    assert t("errors.invalid_request", fields="days") == "Check what you entered: days."
    assert t("no.such.key") == "no.such.key"
    assert Translator("zh-CN").other == "en"


@pytest.mark.parametrize(
    ("prefix", "states"),
    [
        ("my_bookings.states", BookingStatus),
        ("entries.draw_states", IntentStatus),
        ("entries.wait_states", WaitStatus),
    ],
)
def test_every_state_a_patient_page_shows_has_a_message(
    prefix: str, states: type[enum.StrEnum]
) -> None:
    # The pages build these keys at run time from the state: a missing one would show the key.
    missing = [s.value for s in states if f"{prefix}.{s.value}" not in catalogue("zh-CN")]
    assert missing == []
