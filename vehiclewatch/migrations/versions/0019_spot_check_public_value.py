"""Spot-check draws: the named public draw committed to, and the public value entered after.

Revision ID: 0019
Revises: 0013
Create Date: 2026-12-01 20:30:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0019"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("spot_check_draw", schema=None) as batch_op:
        batch_op.add_column(sa.Column("public_source", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("public_value", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("public_value_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("public_value_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_spot_check_draw_public_value_by_id_user_account",
            "user_account",
            ["public_value_by_id"],
            ["id"],
        )


def downgrade():
    with op.batch_alter_table("spot_check_draw", schema=None) as batch_op:
        batch_op.drop_constraint(
            "fk_spot_check_draw_public_value_by_id_user_account", type_="foreignkey"
        )
        batch_op.drop_column("public_value_by_id")
        batch_op.drop_column("public_value_at")
        batch_op.drop_column("public_value")
        batch_op.drop_column("public_source")
