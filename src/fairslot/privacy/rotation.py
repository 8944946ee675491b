"""Re-encrypting every encrypted column under the current data key (``fairslot keys
reencrypt``), in batches, while the server runs.

Rotation without downtime: (1) set the new key as ``FAIRSLOT_DATA_KEY`` and put the old
one first in ``FAIRSLOT_OLD_DATA_KEYS``; restart the servers — they now encrypt under the
new key and decrypt under either (``crypto.Protector``, a ``MultiFernet``); (2) run the
command: it rewrites every token not under the current key; (3) when it reports nothing
left under an old key, drop the old key from the settings and restart.

Idempotent: a token already under the current key is counted and left alone, so a run
cut short is simply run again. Each rewrite is compare-and-set, so a value the server
wrote meanwhile is never overwritten with an older one.

The keyed-hash key (``FAIRSLOT_HASH_KEY``) is not rotated here: hashes are looked up by
recomputing them, so changing it would orphan every stored hash (patients found by ID,
blacklist entries, request context) at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from fairslot.crypto import Protector
from fairslot.privacy import repository as repo


@dataclass
class ColumnReport:
    name: str
    scanned: int = 0
    reencrypted: int = 0
    current: int = 0  # already under the current key
    changed_meanwhile: int = 0  # rewritten by the server during the run: left as it was


def reencrypt_batch(
    db: Session,
    target: repo.EncryptedColumn,
    *,
    after: Any,
    limit: int,
    protector: Protector,
    report: ColumnReport,
) -> Any:
    """Re-encrypt one batch of ``target`` after key ``after``; the last key read, or
    None when there was nothing left. Raises ValueError on a token no key decrypts."""
    rows = repo.tokens_after(db, target, after=after, limit=limit)
    for key, token in rows:
        report.scanned += 1
        if protector.is_current(token):
            report.current += 1
            continue
        if repo.replace_token(db, target, key=key, old=token, new=protector.reencrypt(token)):
            report.reencrypted += 1
        else:
            report.changed_meanwhile += 1
    return rows[-1][0] if rows else None
