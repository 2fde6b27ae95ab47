"""job_runs keeps to the vocabulary: CHECK constraints on status and trigger

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The words as of this revision, frozen here: a later revision that adds one replaces the
# constraint, so this file means the same whatever slotgen.vocabulary says later.
STATUSES = ("running", "succeeded", "failed", "skipped", "abandoned")
TRIGGERS = ("manual", "cron", "retry")


def upgrade() -> None:
    with op.batch_alter_table("job_runs") as batch:
        batch.create_check_constraint(op.f("ck_job_runs_status"), sa.column("status").in_(STATUSES))
        batch.create_check_constraint(
            op.f("ck_job_runs_trigger"), sa.column("trigger").in_(TRIGGERS)
        )


def downgrade() -> None:
    with op.batch_alter_table("job_runs") as batch:
        batch.drop_constraint(op.f("ck_job_runs_trigger"), type_="check")
        batch.drop_constraint(op.f("ck_job_runs_status"), type_="check")
