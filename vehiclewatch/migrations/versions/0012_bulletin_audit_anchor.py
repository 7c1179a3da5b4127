"""Bulletins: the audit log's entry count and head hash at approval (an anchor anyone
holding the bulletin keeps).

Revision ID: 0012
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("bulletin", schema=None) as batch_op:
        batch_op.add_column(sa.Column("audit_count", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("audit_head", sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table("bulletin", schema=None) as batch_op:
        batch_op.drop_column("audit_head")
        batch_op.drop_column("audit_count")
