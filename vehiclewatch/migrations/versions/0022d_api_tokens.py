"""The integration API: tokens (only a keyed hash of each), remembered answers to POSTs with
an Idempotency-Key, and vehicles' external ids (the fleet platform's own key).

Revision ID: 0022d
Revises: 0022a
Create Date: 2026-12-01 23:20:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "0022d"
down_revision = "0022a"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("vehicle") as batch:
        batch.add_column(sa.Column("external_id", sa.String(length=64), nullable=True))
        batch.create_unique_constraint("uq_vehicle_external_id", ["external_id"])
    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("last_used_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name="fk_api_token_unit_id_unit"),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["user_account.id"], name="fk_api_token_created_by_id_user_account"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_api_token"),
        sa.UniqueConstraint("name", name="uq_api_token_name"),
        sa.UniqueConstraint("token_hash", name="uq_api_token_token_hash"),
    )
    op.create_table(
        "api_idempotency",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.String(length=60), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["token_id"], ["api_token.id"], name="fk_api_idempotency_token_id_api_token"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_api_idempotency"),
        sa.UniqueConstraint("token_id", "key", name="uq_api_idempotency_token_id"),
    )


def downgrade():
    op.drop_table("api_idempotency")
    op.drop_table("api_token")
    with op.batch_alter_table("vehicle") as batch:
        batch.drop_constraint("uq_vehicle_external_id", type_="unique")
        batch.drop_column("external_id")
