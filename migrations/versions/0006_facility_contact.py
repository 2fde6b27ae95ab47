"""facilities may say how patients reach them: phone, website and postal address

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CONTACT = (
    ("phone", 64),
    ("website", 500),
    ("address_line", 500),
    ("city", 200),
    ("district", 200),
    ("state", 200),
    ("postal_code", 32),
    ("country", 64),
)


def upgrade() -> None:
    with op.batch_alter_table("facilities") as batch:
        for name, length in CONTACT:
            batch.add_column(sa.Column(name, sa.String(length), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("facilities") as batch:
        for name, _ in reversed(CONTACT):
            batch.drop_column(name)
