"""The timeline by time: the integration API lists reports changed since a moment (any
timeline entry since then), and a case system asks that on every poll.

Revision ID: 0023r
Revises: 0022h
Create Date: 2026-12-02 04:00:00.000000

"""

from alembic import op

revision = "0023r"
down_revision = "0022h"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_report_event_at", "report_event", ["at", "report_id"])


def downgrade():
    op.drop_index("ix_report_event_at", table_name="report_event")
