"""patient sign-in: one-time codes, page sessions; call tasks asked for by patients

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 01:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_REASONS_BEFORE = ("flagged", "sample")
_REASONS_AFTER = ("flagged", "sample", "help")


def _reason_check(reasons: Sequence[str]) -> str:
    return "reason IN (" + ", ".join(f"'{r}'" for r in reasons) + ")"


def upgrade() -> None:
    op.create_table(
        "signin_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phone_hash", sa.String(length=64), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signin_codes")),
    )
    with op.batch_alter_table("signin_codes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_signin_codes_phone_created", ["phone_hash", "created_at"], unique=False
        )
    op.create_table(
        "patient_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_patient_sessions_account_id_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patient_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_patient_sessions_token_hash")),
    )
    with op.batch_alter_table("patient_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_patient_sessions_account_id"), ["account_id"], unique=False
        )
    _replace_reason_check(_REASONS_AFTER)


def downgrade() -> None:
    op.execute("DELETE FROM call_tasks WHERE reason = 'help'")
    _replace_reason_check(_REASONS_BEFORE)
    with op.batch_alter_table("patient_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_patient_sessions_account_id"))
    op.drop_table("patient_sessions")
    with op.batch_alter_table("signin_codes", schema=None) as batch_op:
        batch_op.drop_index("ix_signin_codes_phone_created")
    op.drop_table("signin_codes")


def _replace_reason_check(reasons: Sequence[str]) -> None:
    # A patient's "problem booking?" request is a call task of its own reason: the check
    # constraint of the portable enum column lists the allowed values.
    with op.batch_alter_table("call_tasks", schema=None, recreate="auto") as batch_op:
        batch_op.drop_constraint(op.f("ck_call_tasks_call_reason"), type_="check")
        batch_op.create_check_constraint("call_reason", _reason_check(reasons))
