"""Reports: a burst mark for reports filed while their car was flooded.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 19:50:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("burst", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade():
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.drop_column("burst")
