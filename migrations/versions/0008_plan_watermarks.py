"""plan watermarks: what the last generate run proved of each doctor's slots, and on SQLite
the triggers that forget it when one of the doctor's slots is updated or deleted

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from slotgen.db.types import UTCDateTime

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TRIGGERS = {
    "availability_slots_updated_forget_watermark": (
        "AFTER UPDATE ON availability_slots BEGIN DELETE FROM plan_watermarks"
        " WHERE doctor_id IN (OLD.doctor_id, NEW.doctor_id); END"
    ),
    "availability_slots_deleted_forget_watermark": (
        "AFTER DELETE ON availability_slots BEGIN DELETE FROM plan_watermarks"
        " WHERE doctor_id = OLD.doctor_id; END"
    ),
}


def upgrade() -> None:
    op.create_table(
        "plan_watermarks",
        sa.Column("doctor_id", sa.Integer(), nullable=False),
        sa.Column("planned_at", UTCDateTime(), nullable=False),
        sa.Column("days", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["doctor_id"],
            ["doctors.id"],
            name=op.f("fk_plan_watermarks_doctor_id_doctors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("doctor_id", name=op.f("pk_plan_watermarks")),
    )
    if op.get_context().dialect.name == "sqlite":
        for name, body in TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")


def downgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        for name in TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
    op.drop_table("plan_watermarks")
