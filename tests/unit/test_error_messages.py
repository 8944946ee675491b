"""Every refusal code in ``src/`` has a Chinese message: at its raise site (``detail_zh=``)
or in the catalogue ``fairslot/error_messages.py``."""

from __future__ import annotations

import ast
from pathlib import Path

import fairslot
from fairslot.error_messages import MESSAGES

SRC = Path(fairslot.__file__).parent


def _has_han(text: str) -> bool:
    return any("\u4e00" <= c <= "\u9fff" for c in text)


def _codes_without_chinese() -> tuple[set[str], int]:
    """Codes given as ``code="..."`` to a call without ``detail_zh=``, and codes of error
    classes (``code = "..."`` in a class body); with how many places were read."""
    missing: set[str] = set()
    seen = 0
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                given = {k.arg: k.value for k in node.keywords if k.arg}
                code = given.get("code")
                if isinstance(code, ast.Constant) and isinstance(code.value, str):
                    seen += 1
                    if "detail_zh" not in given and code.value not in MESSAGES:
                        missing.add(f"{code.value} ({path.relative_to(SRC)}:{node.lineno})")
            elif isinstance(node, ast.ClassDef):
                for statement in node.body:
                    target = (
                        statement.targets[0]
                        if isinstance(statement, ast.Assign)
                        else statement.target
                        if isinstance(statement, ast.AnnAssign)
                        else None
                    )
                    value = getattr(statement, "value", None)
                    if (
                        isinstance(target, ast.Name)
                        and target.id == "code"
                        and isinstance(value, ast.Constant)
                        and isinstance(value.value, str)
                    ):
                        seen += 1
                        if value.value not in MESSAGES:
                            missing.add(f"{value.value} (class {node.name} in {path.name})")
    return missing, seen


def test_every_code_in_the_source_has_a_chinese_message() -> None:
    missing, seen = _codes_without_chinese()

    assert seen > 100  # the walk found the codes (a broken walk must not pass)
    assert missing == set()


def test_every_message_of_the_catalogue_is_chinese_and_ends_a_sentence() -> None:
    for code, message in MESSAGES.items():
        assert _has_han(message), code
        assert message.endswith(("。", "）")), code
