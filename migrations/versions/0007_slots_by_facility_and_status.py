"""slots: the (facility_id, start_at) index also holds status, so a facility's slots can be
counted by day and status from the index alone

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = ("facility_id", "start_at")
AFTER = ("facility_id", "start_at", "status")


def _name(columns: tuple[str, ...]) -> str:
    return op.f(f"ix_availability_slots_{'_'.join(columns)}")


def upgrade() -> None:
    # The new index first: MariaDB keeps the facility foreign key's index at every moment.
    op.create_index(_name(AFTER), "availability_slots", list(AFTER))
    op.drop_index(_name(BEFORE), table_name="availability_slots")


def downgrade() -> None:
    op.create_index(_name(BEFORE), "availability_slots", list(BEFORE))
    op.drop_index(_name(AFTER), table_name="availability_slots")
