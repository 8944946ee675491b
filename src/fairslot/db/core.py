"""Running a Core statement in a session's transaction without the ORM's per-execution
work (issue 14's hot path)."""

from __future__ import annotations

from sqlalchemy import Connection
from sqlalchemy.orm import Session


def core_connection(db: Session) -> Connection:
    """The session's connection, for a hot-path statement that needs nothing of the ORM
    (no objects back, none to synchronise). Through the session, a statement on a mapped
    class (an ``UPDATE``, a ``SELECT`` of its columns) takes the ORM's path, which builds
    an annotated copy of the statement and computes its cache key again on every
    execution (measured: a claim 0.43 ms of CPU through the session, 0.16 ms on its
    connection); on the connection, a statement built once keeps its key. What the
    session has pending is flushed first, as its own ``execute`` would (autoflush)."""
    db.flush()
    return db.connection()
