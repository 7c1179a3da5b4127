"""Reports: the queue indexes in the queue's order again (score descending).

On SQLite a batch migration that rebuilds the report table recreates its indexes from
reflection, which drops the DESC of a column, and an index on ascending score cannot serve
ORDER BY score DESC, created_at: SQLite sorted every report of the top score in a temporary
B-tree on each queue page. This recreates the three indexes as 0009 and 0018 meant them;
tests/test_migrations.py checks the order after every upgrade.

Revision ID: 0022g
Revises: 0021
Create Date: 2026-12-01 23:55:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "0022g"
down_revision = "0021"
branch_labels = None
depends_on = None

WORKING = (
    "state IN ('accepted', 'concluded', 'parked', 'pending_approval', 'submitted', 'verifying')"
)
SCORE = sa.literal_column("score DESC")
INDEXES = {
    "ix_report_state_queue": (["state", SCORE, "created_at"], {}),
    "ix_report_unit_state_queue": (["unit_id", "state", SCORE, "created_at"], {}),
    "ix_report_working_queue": (
        [SCORE, "created_at", "id"],
        {"sqlite_where": sa.text(WORKING), "postgresql_where": sa.text(WORKING)},
    ),
}


def upgrade():
    for name, (columns, where) in INDEXES.items():
        op.drop_index(name, table_name="report")
        op.create_index(name, "report", columns, unique=False, **where)


def downgrade():
    # The DESC indexes are what the earlier revisions asked for; nothing to undo.
    pass
