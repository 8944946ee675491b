"""The draw's shuffle, pinned by known-answer vectors (docs/draw-verification.md, section 7).

The expected orders were computed once and written here literally; the JavaScript
re-implementation published in the docs reproduces them too (run below when ``node`` is
installed). Any change to the algorithm fails these tests: a new algorithm needs a new
name, and the draws made with the old one keep it.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import shutil
import subprocess
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fairslot.allocation import rules, shuffle

DOCS = Path(__file__).parents[2] / "docs" / "draw-verification.md"

SEED_1 = "0" * 64
SEED_2 = "0123456789abcdef" * 4
SEED_3 = "22bed061b8e70b44250f4696b262337acd669ccc25a89c5cf63c6073820eaf52"  # sha256("fairslot")

UUIDS = [
    "3fcb4b70-f79a-4ffc-a71b-9592244ececa",
    "2a438f2a-3172-4442-bbce-14ab261db1d4",
    "e427f474-114d-4fce-bf3f-3f8cfe53b312",
    "23eb7164-3ac5-4727-95d2-5341edc5fe85",
    "09c9c31a-e2f9-4909-b4a3-cc3052800e04",
    "2cc9d354-d76f-4970-b440-6663d3e1ec74",
    "4dfc3c3b-18c1-402b-a946-a04e9ff35ab3",
    "89fb1806-dc3f-4287-aa16-2b8dc835698d",
    "a5ea88f7-f530-4958-8e82-2f9a9b04393e",
    "d755df98-8d89-40a3-9903-f4cb5455eb3a",
]

VECTORS: list[tuple[str, list[str], list[str]]] = [
    (SEED_1, ["a", "b", "c", "d", "e"], ["a", "d", "e", "b", "c"]),
    (
        SEED_2,
        UUIDS,
        [
            "a5ea88f7-f530-4958-8e82-2f9a9b04393e",
            "09c9c31a-e2f9-4909-b4a3-cc3052800e04",
            "4dfc3c3b-18c1-402b-a946-a04e9ff35ab3",
            "2cc9d354-d76f-4970-b440-6663d3e1ec74",
            "89fb1806-dc3f-4287-aa16-2b8dc835698d",
            "e427f474-114d-4fce-bf3f-3f8cfe53b312",
            "23eb7164-3ac5-4727-95d2-5341edc5fe85",
            "3fcb4b70-f79a-4ffc-a71b-9592244ececa",
            "d755df98-8d89-40a3-9903-f4cb5455eb3a",
            "2a438f2a-3172-4442-bbce-14ab261db1d4",
        ],
    ),
    (
        SEED_3,
        [f"e{n:02d}" for n in range(1, 21)],
        [
            "e06",
            "e13",
            "e14",
            "e02",
            "e19",
            "e16",
            "e18",
            "e11",
            "e10",
            "e08",
            "e05",
            "e07",
            "e12",
            "e15",
            "e04",
            "e17",
            "e03",
            "e20",
            "e01",
            "e09",
        ],
    ),
    (SEED_3, ["only"], ["only"]),
    (SEED_3, [], []),
]


@pytest.mark.parametrize(("seed", "ids", "expected"), VECTORS)
def test_the_v2_shuffle_gives_the_published_orders(
    seed: str, ids: list[str], expected: list[str]
) -> None:
    assert shuffle.order(seed, ids, algorithm=shuffle.V2) == expected
    assert shuffle.order(seed, list(reversed(ids)), algorithm=shuffle.V2) == expected


def test_vector_1_step_by_step() -> None:
    ids = ["a", "b", "c", "d", "e"]
    digest = shuffle.inputs_digest(ids)
    assert digest == "bdf1dfc0b68f94b58e951cbb208cea17a48484800ef7f1cfbbc009c74bf9032c"
    assert digest == hashlib.sha256(b"a,b,c,d,e").hexdigest()
    key = shuffle.key(SEED_1, digest)
    assert key.hex() == "f164dc7f3eb9279f1e87bc1e3ffbc4a2bb4ec5481ad5bd108b76c66be081e0eb"
    assert key == hashlib.sha256(f"sha256-fisher-yates-v2|{SEED_1}|{digest}".encode()).digest()
    block_0 = hashlib.sha256(key + bytes(8)).hexdigest()
    assert block_0 == "10aaed8d8acc141fe924da84dabf6dd96d82a40e39b4627b5c4287a23fc379a9"
    words = list(itertools.islice(shuffle.words(key), 5))
    assert words[:4] == [
        1201033442822460447,
        16799792774139309529,
        7891049878111150715,
        6648025130876500393,
    ]
    assert words[:4] == [int(block_0[at : at + 16], 16) for at in range(0, 64, 16)]
    fifth = hashlib.sha256(key + (1).to_bytes(8, "big")).digest()[:8]
    assert words[4] == int.from_bytes(fifth, "big")  # block 1 follows block 0
    assert [w % n for w, n in zip(words, [5, 4, 3, 2], strict=False)] == [2, 1, 2, 1]


def test_a_word_past_the_last_whole_multiple_is_rejected_not_folded() -> None:
    # 2**64 mod 3 == 1: the largest word would make 0 more likely than 1 and 2.
    stream: Iterator[int] = iter([2**64 - 1, 2**64 - 2, 7])
    assert shuffle.below(stream, 3) == (2**64 - 2) % 3
    assert shuffle.below(iter([2**64 - 1, 7]), 3) == 1
    assert shuffle.below(iter([2**64 - 1]), 1) == 0  # n = 1 rejects nothing
    with pytest.raises(ValueError):
        shuffle.below(iter([0]), 0)


def test_every_order_of_three_is_about_equally_likely() -> None:
    """6,000 seeds over three entries: a chi-square over the six orders (5 degrees of
    freedom) stays below 20.52, its 0.001 critical value."""
    counts = Counter(
        tuple(shuffle.fisher_yates(hashlib.sha256(str(n).encode()).hexdigest(), ["x", "y", "z"]))
        for n in range(6000)
    )
    assert len(counts) == 6
    assert sum((c - 1000) ** 2 / 1000 for c in counts.values()) < 20.52, counts


def test_the_v2_shuffle_takes_only_well_formed_inputs() -> None:
    with pytest.raises(ValueError, match="64 lowercase hex"):
        shuffle.fisher_yates("AB" * 32, ["a"])
    with pytest.raises(ValueError, match="without a comma"):
        shuffle.fisher_yates(SEED_1, ["a,b", "c"])
    with pytest.raises(ValueError, match="one chance"):
        shuffle.fisher_yates(SEED_1, ["a", "a"])


def test_the_v1_shuffle_of_older_draws_is_pinned_too() -> None:
    """CPython's Mersenne Twister shuffle: a Python upgrade that changed it would make the
    draws made with it fail to verify, so it is caught here first."""
    assert shuffle.order(SEED_3, ["a", "b", "c", "d", "e"], algorithm=shuffle.V1) == [
        "b",
        "e",
        "c",
        "a",
        "d",
    ]
    assert shuffle.order(SEED_1, ["a", "b", "c", "d", "e"], algorithm=shuffle.V1) == [
        "a",
        "c",
        "e",
        "d",
        "b",
    ]


# -- vector 4: a whole draw --------------------------------------------------------------

ENTRIES = [
    rules.Entry("e01", session_id=1, channel_id=1),
    rules.Entry("e02", session_id=1, channel_id=1),
    rules.Entry("e03", session_id=1, channel_id=1),
    rules.Entry("e04", session_id=1, channel_id=2),
    rules.Entry("e05", title="chief", channel_id=2),
    rules.Entry("e06", title="chief", channel_id=1),
    rules.Entry("e07", session_id=2, channel_id=1),
    rules.Entry("e08", title="attending", channel_id=1),
]
SLOTS = [
    rules.FreeSlot("s1-1", 1, 1, "chief", reserved_for=2),
    rules.FreeSlot("s2-1", 2, 1, "chief"),
    rules.FreeSlot("s1-2", 1, 2, "chief"),
    rules.FreeSlot("s2-2", 2, 2, "chief"),
    rules.FreeSlot("s1-3", 1, 3, "chief"),
    rules.FreeSlot("s3-1", 3, 1, "attending"),
]
ASSIGNMENT = {
    "e04": "s1-1",
    "e08": "s3-1",
    "e02": None,
    "e06": None,
    "e01": "s1-2",
    "e07": "s2-1",
    "e05": "s2-2",
    "e03": "s1-3",
}


def test_vector_4_a_whole_draw() -> None:
    ids = [e.intent_id for e in ENTRIES]
    assert shuffle.order(SEED_3, ids, algorithm=shuffle.V2) == list(ASSIGNMENT)
    assert rules.commitment(SEED_3) == (
        "457d5836b8fe5bcc6880c67a9947cbbbe7ccfed41cb7dab517840b31a0942c4a"
    )
    assert rules.inputs_digest(ids) == (
        "c47cd5b8382aaeb2e8bee80cfe1b3450a2fd54e90b5297c17a6f3d40d014cd18"
    )
    got = rules.draw(
        seed=SEED_3,
        algorithm=shuffle.V2,
        entries=ENTRIES,
        slots=SLOTS,
        refused=["e02"],
        held_out=["e06"],
    )
    assert got == ASSIGNMENT


def vector_4_published() -> dict[str, Any]:
    """Vector 4 as ``GET /v1/draws/{id}`` publishes it."""
    ids = [e.intent_id for e in ENTRIES]
    return {
        "id": 4,
        "algorithm": shuffle.V2,
        "seed": SEED_3,
        "seed_commitment": rules.commitment(SEED_3),
        "inputs_digest": rules.inputs_digest(ids),
        "entries": [
            {
                "intent_id": e.intent_id,
                "session_id": e.session_id,
                "title": e.title,
                "channel_id": e.channel_id,
            }
            for e in ENTRIES
        ],
        "slots": [
            {
                "slot_id": s.slot_id,
                "session_id": s.session_id,
                "number": s.number,
                "title": s.title,
                "reserved_for": s.reserved_for,
            }
            for s in SLOTS
        ],
        "refused": ["e02"],
        "held_out": ["e06"],
        "reasons": {"e02": "daily_limit_reached", "e06": "held_for_review"},
        "assignment": ASSIGNMENT,
    }


def test_vector_4_as_published_rechecks() -> None:
    assert rules.recheck(rules.published(vector_4_published())).verified


# -- the JavaScript in the docs ------------------------------------------------------------


@pytest.fixture
def published_script(tmp_path: Path) -> Path:
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    found = re.search(r"```js\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.DOTALL)
    assert found, "docs/draw-verification.md has no ```js block"
    script = tmp_path / "verify-draw.js"
    script.write_text(found.group(1), encoding="utf-8")
    return script


def node(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["node", *args], capture_output=True, text=True, timeout=30, check=False)


@pytest.mark.parametrize(("seed", "ids", "expected"), VECTORS)
def test_the_published_javascript_gives_the_same_orders(
    published_script: Path, seed: str, ids: list[str], expected: list[str]
) -> None:
    ran = node(str(published_script), "--order", seed, *ids)
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout) == expected


def test_the_published_javascript_verifies_a_draw_and_catches_a_swap(
    published_script: Path, tmp_path: Path
) -> None:
    draw = tmp_path / "draw.json"
    draw.write_text(json.dumps(vector_4_published()), encoding="utf-8")
    ran = node(str(published_script), str(draw))
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert ran.stdout.strip().endswith("\nverified")
    assert json.loads(ran.stdout.rsplit("\n", 2)[0])["recomputed"] == ASSIGNMENT

    swapped = vector_4_published()
    swapped["assignment"] = {**ASSIGNMENT, "e03": None, "e06": "s1-3"}
    draw.write_text(json.dumps(swapped), encoding="utf-8")
    ran = node(str(published_script), str(draw))
    assert ran.returncode == 1 and ran.stdout.strip().endswith("NOT verified")


# -- the reasons of skipped entries (check 4) -----------------------------------------------


def test_a_held_out_entry_without_a_reason_does_not_verify() -> None:
    record = vector_4_published()
    record["reasons"] = {"e02": "daily_limit_reached"}
    found = rules.recheck(rules.published(record))
    assert found.assignment_reproduced and found.exclusions_explained is False
    assert not found.verified


def test_a_reason_given_to_an_entry_that_was_drawn_does_not_verify() -> None:
    record = vector_4_published()
    record["reasons"] = {**record["reasons"], "e01": "held_for_review"}
    assert rules.recheck(rules.published(record)).exclusions_explained is False


def test_an_entry_both_refused_and_held_out_does_not_verify() -> None:
    record = vector_4_published()
    record["refused"] = ["e02", "e06"]
    assert rules.recheck(rules.published(record)).exclusions_explained is False


def test_a_record_from_before_reasons_were_published_still_verifies() -> None:
    record = vector_4_published()
    del record["reasons"]
    found = rules.recheck(rules.published(record))
    assert found.exclusions_explained is None and found.verified


def test_the_published_javascript_checks_the_reasons_too(
    published_script: Path, tmp_path: Path
) -> None:
    draw = tmp_path / "draw.json"
    unexplained = vector_4_published()
    unexplained["reasons"] = {"e02": "daily_limit_reached"}
    draw.write_text(json.dumps(unexplained), encoding="utf-8")
    ran = node(str(published_script), str(draw))
    assert ran.returncode == 1 and ran.stdout.strip().endswith("NOT verified")
    assert json.loads(ran.stdout.rsplit("\n", 2)[0])["exclusions_explained"] is False
    older = vector_4_published()
    del older["reasons"]
    draw.write_text(json.dumps(older), encoding="utf-8")
    ran = node(str(published_script), str(draw))
    assert ran.returncode == 0 and ran.stdout.strip().endswith("\nverified")
