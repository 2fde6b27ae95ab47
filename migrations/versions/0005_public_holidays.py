"""public holidays: a facility's holiday calendar, synced exceptions, days opened anyway

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from slotgen.db.types import UTCDateTime, utc_now

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("facilities") as batch:
        batch.add_column(sa.Column("holiday_country", sa.String(length=2), nullable=True))
        batch.add_column(sa.Column("holiday_subdivision", sa.String(length=16), nullable=True))
    with op.batch_alter_table("availability_exceptions") as batch:
        batch.add_column(sa.Column("source", sa.String(length=64), nullable=True))
    op.create_table(
        "holiday_openings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("facility_id", sa.Integer(), nullable=False),
        sa.Column("holiday_date", sa.Date(), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("source", sa.String(length=64), nullable=True),
        sa.Column("created_at", UTCDateTime(), server_default=utc_now(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), server_default=utc_now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["facility_id"],
            ["facilities.id"],
            name=op.f("fk_holiday_openings_facility_id_facilities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_holiday_openings")),
        sa.UniqueConstraint(
            "facility_id", "holiday_date", name=op.f("uq_holiday_openings_facility_id_holiday_date")
        ),
    )


def downgrade() -> None:
    op.drop_table("holiday_openings")
    with op.batch_alter_table("availability_exceptions") as batch:
        batch.drop_column("source")
    with op.batch_alter_table("facilities") as batch:
        batch.drop_column("holiday_subdivision")
        batch.drop_column("holiday_country")
