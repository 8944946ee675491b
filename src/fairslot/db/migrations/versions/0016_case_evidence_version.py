"""a case's evidence version

The batch and the draw screening add alerts to a case that is still open. A reviewer's
confirmation blacklists identifiers gathered from the case's alerts, so one added after
the reviewer read the case would be blocked unseen. ``evidence_version`` counts those
additions (``cases/intake_repository.py::raise_score``); a confirmation or dismissal names
the one it was decided on and is refused (``case_evidence_changed``) if the case has
moved on.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 22:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(
            sa.Column("evidence_version", sa.Integer(), nullable=False, server_default="1")
        )


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("evidence_version")
