"""The audit head says whether the log holds the keyed marker, so that appending an entry
reads it with the claim of the head instead of looking the marker up each time.

Revision ID: 0022f
Revises: 0021
Create Date: 2026-12-01 23:50:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "0022f"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("audit_head") as batch:
        batch.add_column(
            sa.Column("keyed", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.execute(
        "UPDATE audit_head SET keyed = EXISTS"
        " (SELECT 1 FROM audit_entry WHERE action = 'audit_chain_keyed')"
    )


def downgrade():
    with op.batch_alter_table("audit_head") as batch:
        batch.drop_column("keyed")
