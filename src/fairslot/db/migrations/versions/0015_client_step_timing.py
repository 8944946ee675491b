"""the client's own step timing on request records

A request may carry ``X-Client-Step-Ms``: the milliseconds the person spent on the step
before it, as the hospital's own page measured it. The gate reads it beside the server's
arrival spacing (a loaded server stretches the second, never the first); the column keeps
it with the request's record for review and the daily batch.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 06:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("request_records") as batch:
        batch.add_column(sa.Column("client_step_ms", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("request_records") as batch:
        batch.drop_column("client_step_ms")
