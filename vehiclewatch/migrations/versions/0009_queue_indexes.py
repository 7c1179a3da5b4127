"""Reports: queue indexes in the queue's own order (score descending, then oldest), and
one for the dashboard's counts by category.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26 05:43:17.882436

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_state_score"))
        batch_op.drop_index(batch_op.f("ix_report_unit_state_score"))
        batch_op.create_index(
            "ix_report_state_queue",
            ["state", sa.literal_column("score DESC"), "created_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_report_unit_state_queue",
            ["unit_id", "state", sa.literal_column("score DESC"), "created_at"],
            unique=False,
        )
        batch_op.create_index("ix_report_unit_category", ["unit_id", "category"], unique=False)


def downgrade():
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.drop_index("ix_report_unit_category")
        batch_op.drop_index("ix_report_unit_state_queue")
        batch_op.drop_index("ix_report_state_queue")
        batch_op.create_index(
            batch_op.f("ix_report_unit_state_score"),
            ["unit_id", "state", "score", "created_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_report_state_score"), ["state", "score", "created_at"], unique=False
        )
