"""draw algorithm: every draw records the shuffle it is run and re-run with

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Draws made before this column used the Mersenne Twister shuffle: the server default
    # gives every existing row that algorithm, so each stays verifiable with its own.
    op.add_column(
        "draws",
        sa.Column(
            "algorithm",
            sa.String(length=40),
            server_default="sha256-mt19937-shuffle-v1",
            nullable=False,
        ),
    )


def downgrade() -> None:
    op.drop_column("draws", "algorithm")
