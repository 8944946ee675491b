"""The draw's shuffle, specified to the byte so anyone can re-run a draw in any language.

The specification, a JavaScript re-implementation and the known-answer vectors are in
``docs/draw-verification.md``; ``tests/unit/test_draw_shuffle.py`` pins the vectors, so a
change to anything below fails a test. Every draw records the algorithm it used
(``draws.algorithm``), and a draw is always re-run with its own.

``sha256-fisher-yates-v2`` (every draw opened since it was introduced):

1. ``ids``: the entry ids (printable ASCII without a comma, all distinct) sorted ascending
   by their bytes; ``inputs_digest`` = lowercase hex SHA-256 of ``",".join(ids)``.
2. ``key`` = SHA-256 of the ASCII text ``"sha256-fisher-yates-v2|" + seed + "|" +
   inputs_digest`` (``seed``: the revealed 64 lowercase hex digits, as text).
3. Words: block ``c`` (``c`` = 0, 1, 2, ...) is SHA-256(``key`` || ``c`` as 8 bytes,
   big-endian); it gives four unsigned 64-bit words, its bytes 0-7, 8-15, 16-23 and 24-31,
   each read big-endian. Words are used in that order, one block after the other.
4. ``below(n)``, a uniform integer in ``[0, n)``: take the next word ``x``; if
   ``x >= 2**64 - (2**64 mod n)`` discard it and take another (rejection, so no value is
   more likely than another); else ``x mod n``.
5. Fisher-Yates: for ``i`` from ``len(ids) - 1`` down to 1, ``j = below(i + 1)``, swap
   ``ids[i]`` and ``ids[j]``. ``ids``, first to last, is the draw order.

``sha256-mt19937-shuffle-v1`` (draws opened before): ``ids`` sorted as strings, shuffled by
``random.Random(int(sha256(seed + "|" + ",".join(ids)), 16)).shuffle`` - CPython's Mersenne
Twister, whose shuffle Python does not promise to keep. It stays only so that those draws
remain verifiable (with this CPython); no new draw uses it.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Collection, Iterator

V1 = "sha256-mt19937-shuffle-v1"
V2 = "sha256-fisher-yates-v2"
CURRENT = V2
ALGORITHMS = (V1, V2)

_SEED = re.compile(r"[0-9a-f]{64}")
_ID = re.compile(r"[!-+\--~]+")  # printable ASCII, no space, no comma
_WORDS = 1 << 64


def inputs_digest(ids: Collection[str]) -> str:
    """Lowercase hex SHA-256 of the sorted ids joined by commas: what the draw took."""
    return hashlib.sha256(",".join(sorted(ids)).encode("utf-8")).hexdigest()


def key(seed: str, digest: str) -> bytes:
    """The 32-byte key of a v2 shuffle, from the revealed seed and the inputs digest."""
    return hashlib.sha256(f"{V2}|{seed}|{digest}".encode("ascii")).digest()


def words(draw_key: bytes) -> Iterator[int]:
    """The endless stream of 64-bit words: SHA-256(key || counter) split in four."""
    counter = 0
    while True:
        block = hashlib.sha256(draw_key + counter.to_bytes(8, "big")).digest()
        for at in range(0, 32, 8):
            yield int.from_bytes(block[at : at + 8], "big")
        counter += 1


def below(stream: Iterator[int], n: int) -> int:
    """A uniform integer in ``[0, n)`` from the stream, without modulo bias."""
    if n < 1:
        raise ValueError("below(n) needs n >= 1")
    limit = _WORDS - _WORDS % n
    for word in stream:
        if word < limit:
            return word % n
    raise AssertionError("the stream of words is endless")  # pragma: no cover


def fisher_yates(seed: str, ids: Collection[str]) -> list[str]:
    """The v2 draw order of ``ids`` under ``seed``."""
    if not _SEED.fullmatch(seed):
        raise ValueError("the seed is 64 lowercase hex digits")
    bad = sorted(i for i in ids if not _ID.fullmatch(i))
    if bad:
        raise ValueError(f"an entry id must be printable ASCII without a comma: {bad[0]!r}")
    order = _distinct(sorted(ids))
    stream = words(key(seed, inputs_digest(order)))
    for i in range(len(order) - 1, 0, -1):
        j = below(stream, i + 1)
        order[i], order[j] = order[j], order[i]
    return order


def mersenne_twister(seed: str, ids: Collection[str]) -> list[str]:
    """The v1 draw order: kept only to re-run the draws made with it."""
    order = _distinct(sorted(ids))
    digest = hashlib.sha256((seed + "|" + ",".join(order)).encode("utf-8")).hexdigest()
    random.Random(int(digest, 16)).shuffle(order)
    return order


def order(seed: str, ids: Collection[str], *, algorithm: str) -> list[str]:
    """The draw order of ``ids`` under ``seed`` by the named algorithm."""
    if algorithm == V2:
        return fisher_yates(seed, ids)
    if algorithm == V1:
        return mersenne_twister(seed, ids)
    raise ValueError(f"unknown draw algorithm {algorithm!r}; known: {', '.join(ALGORITHMS)}")


def _distinct(ids: list[str]) -> list[str]:
    if len(set(ids)) != len(ids):
        raise ValueError("an intent id appears twice: one person, one chance")
    return ids
