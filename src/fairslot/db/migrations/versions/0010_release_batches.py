"""release batches and the allocation mode the platform decided

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 03:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from fairslot.db.base import UTCDateTime

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_MODES = "('first_come', 'draw', 'release_batch')"


def upgrade() -> None:
    # Plain ADD COLUMN on both backends: SQLite's batch mode would rebuild (drop) the
    # departments and draws tables, which other tables reference. The departments' own
    # ``allocation_mode`` keeps its values: a hospital asks for a batch by the override.
    op.execute(
        "ALTER TABLE draws ADD COLUMN kind VARCHAR(32) DEFAULT 'draw' NOT NULL "
        "CONSTRAINT ck_draws_draw_kind CHECK (kind IN ('draw', 'release_batch'))"
    )
    op.execute(
        "ALTER TABLE departments ADD COLUMN mode_override VARCHAR(32) "
        f"CONSTRAINT ck_departments_mode_override CHECK (mode_override IN {_MODES})"
    )
    op.add_column(
        "departments",
        sa.Column("scarce", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column("hospitals", sa.Column("batch_window_seconds", sa.Integer(), nullable=True))
    # A batch entry is a hold: it carries no payment pre-authorisation.
    with op.batch_alter_table("intents", schema=None) as batch_op:
        batch_op.alter_column("payment_account_hash", existing_type=sa.String(64), nullable=True)
        batch_op.alter_column("payment_account_masked", existing_type=sa.String(64), nullable=True)
        batch_op.alter_column("payment_reference", existing_type=sa.String(128), nullable=True)
    op.create_table(
        "allocation_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("decided_at", UTCDateTime(), nullable=False),
        sa.Column(
            "configured_mode",
            sa.Enum(
                "first_come",
                "draw",
                "release_batch",
                name="decision_configured_mode",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("scarce", sa.Boolean(), nullable=False),
        sa.Column(
            "effective_mode",
            sa.Enum(
                "first_come",
                "draw",
                "release_batch",
                name="decision_effective_mode",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_allocation_decisions_department_id_departments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_allocation_decisions")),
    )
    with op.batch_alter_table("allocation_decisions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_allocation_decisions_department_id"), ["department_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("allocation_decisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_allocation_decisions_department_id"))
    op.drop_table("allocation_decisions")
    with op.batch_alter_table("intents", schema=None) as batch_op:
        batch_op.alter_column("payment_reference", existing_type=sa.String(128), nullable=False)
        batch_op.alter_column("payment_account_masked", existing_type=sa.String(64), nullable=False)
        batch_op.alter_column("payment_account_hash", existing_type=sa.String(64), nullable=False)
    op.drop_column("hospitals", "batch_window_seconds")
    op.drop_column("departments", "scarce")
    op.drop_column("departments", "mode_override")
    op.drop_column("draws", "kind")
