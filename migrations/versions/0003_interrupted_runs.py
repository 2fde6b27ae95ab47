"""job_runs may record a run stopped by a signal as interrupted

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = ("running", "succeeded", "failed", "skipped", "abandoned")
AFTER = (*BEFORE, "interrupted")


def _statuses(allowed: tuple[str, ...]) -> None:
    with op.batch_alter_table("job_runs") as batch:
        batch.drop_constraint(op.f("ck_job_runs_status"), type_="check")
        batch.create_check_constraint(op.f("ck_job_runs_status"), sa.column("status").in_(allowed))


def upgrade() -> None:
    _statuses(AFTER)


def downgrade() -> None:
    # A run recorded as interrupted was stopped before it finished: a failure, as before.
    op.execute(
        sa.table("job_runs", sa.column("status"))
        .update()
        .where(sa.column("status") == "interrupted")
        .values(status="failed")
    )
    _statuses(BEFORE)
