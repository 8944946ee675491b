"""draw screening: entries held out for review (placeholder, filled in by the work that owns it)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 03:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from fairslot.db.append_only import drop_append_only, make_append_only
from fairslot.db.base import UTCDateTime

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STATUSES_BEFORE = ("registered", "won", "lost", "refused", "withdrawn")
_STATUSES_AFTER = (*_STATUSES_BEFORE, "held", "owed")


def _status_check(statuses: Sequence[str]) -> str:
    return "status IN (" + ", ".join(f"'{s}'" for s in statuses) + ")"


def upgrade() -> None:
    # A held-out entry is an intent state of its own: the portable enum column's check
    # constraint lists the allowed values.
    with op.batch_alter_table("intents", schema=None, recreate="auto") as batch_op:
        batch_op.drop_constraint(op.f("ck_intents_intent_status"), type_="check")
        batch_op.create_check_constraint("intent_status", _status_check(_STATUSES_AFTER))
        batch_op.add_column(sa.Column("held_reasons", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("case_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("held_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("cleared_at", UTCDateTime(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_intents_case_id_cases"), "cases", ["case_id"], ["id"]
        )
    op.create_table(
        "screening_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("intent_id", sa.String(length=36), nullable=False),
        sa.Column("draw_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_screening_events_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["draw_id"], ["draws.id"], name=op.f("fk_screening_events_draw_id_draws")
        ),
        sa.ForeignKeyConstraint(
            ["intent_id"], ["intents.id"], name=op.f("fk_screening_events_intent_id_intents")
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_users.id"],
            name=op.f("fk_screening_events_staff_id_staff_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_screening_events")),
    )
    with op.batch_alter_table("screening_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_screening_events_draw_id"), ["draw_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_screening_events_intent_id"), ["intent_id"], unique=False
        )
    # The screening ledger is a history, like the slot and case ledgers: never edited.
    make_append_only("screening_events")


def downgrade() -> None:
    drop_append_only("screening_events")
    with op.batch_alter_table("screening_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_screening_events_intent_id"))
        batch_op.drop_index(batch_op.f("ix_screening_events_draw_id"))
    op.drop_table("screening_events")
    # Held and owed entries had no chance left in a draw before screening existed.
    op.execute(
        "UPDATE intents SET status = 'refused', reason = 'held_for_review' "
        "WHERE status IN ('held', 'owed')"
    )
    with op.batch_alter_table("intents", schema=None, recreate="auto") as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_intents_case_id_cases"), type_="foreignkey")
        batch_op.drop_column("cleared_at")
        batch_op.drop_column("held_at")
        batch_op.drop_column("case_id")
        batch_op.drop_column("held_reasons")
        batch_op.drop_constraint(op.f("ck_intents_intent_status"), type_="check")
        batch_op.create_check_constraint("intent_status", _status_check(_STATUSES_BEFORE))
