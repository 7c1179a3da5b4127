"""API tokens: a token that reads case content waits for a leader's confirmation. Tokens
issued before count as confirmed when they were issued.

Revision ID: 0022h
Revises: 0022d
Create Date: 2026-12-02 01:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "0022h"
down_revision = "0022d"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("api_token") as batch:
        batch.add_column(sa.Column("confirmed_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("confirmed_by_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_api_token_confirmed_by_id_user_account",
            "user_account",
            ["confirmed_by_id"],
            ["id"],
        )
    op.execute("UPDATE api_token SET confirmed_at = created_at")


def downgrade():
    with op.batch_alter_table("api_token") as batch:
        batch.drop_constraint("fk_api_token_confirmed_by_id_user_account", type_="foreignkey")
        batch.drop_column("confirmed_by_id")
        batch.drop_column("confirmed_at")
