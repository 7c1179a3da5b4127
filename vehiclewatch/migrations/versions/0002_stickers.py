"""Stickers (监督码): tokens, short codes, generations and the stored QR modules.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "sticker",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vehicle_id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column("short_code", sa.String(length=12), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=300), nullable=False),
        sa.Column("qr_modules", sa.Text(), nullable=False),
        sa.Column("issued_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("revoke_reason", sa.String(length=200), nullable=True),
        sa.Column("needs_reprint", sa.Boolean(), nullable=False),
        sa.Column("printed_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["vehicle_id"], ["vehicle.id"], name=op.f("fk_sticker_vehicle_id_vehicle")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sticker")),
        sa.UniqueConstraint("short_code", name=op.f("uq_sticker_short_code")),
        sa.UniqueConstraint("token", name=op.f("uq_sticker_token")),
    )
    with op.batch_alter_table("sticker", schema=None) as batch_op:
        batch_op.create_index("ix_sticker_vehicle_live", ["vehicle_id", "revoked_at"], unique=False)


def downgrade():
    with op.batch_alter_table("sticker", schema=None) as batch_op:
        batch_op.drop_index("ix_sticker_vehicle_live")
    op.drop_table("sticker")
