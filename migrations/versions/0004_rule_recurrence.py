"""availability_rules may repeat every n weeks or on the n-th weekday of a month

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("availability_rules") as batch:
        batch.add_column(sa.Column("recurrence", sa.Text(), nullable=True))


def downgrade() -> None:
    # Without the column every rule is weekly again: rotations make slots every week.
    with op.batch_alter_table("availability_rules") as batch:
        batch.drop_column("recurrence")
