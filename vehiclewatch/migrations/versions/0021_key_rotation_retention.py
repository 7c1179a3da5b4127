"""Reports: which receipt key hashed each receipt, legal holds, and when contacts and photos
were purged under the retention policy.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-01 21:15:00.000000

"""

import hashlib
import hmac

import sqlalchemy as sa
from alembic import op
from flask import current_app

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def _receipt_key_id() -> str:
    # Before this revision there was exactly one receipt key: the configured one.
    key = str(current_app.config["RECEIPT_KEY"]).split(",")[0].strip()
    return hmac.new(key.encode(), b"vehiclewatch receipt key id", hashlib.sha256).hexdigest()[:16]


def upgrade():
    with op.batch_alter_table("report") as batch:
        batch.add_column(sa.Column("receipt_key", sa.String(length=16), nullable=True))
        batch.add_column(
            sa.Column("legal_hold", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("contacts_purged_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("photos_purged_at", sa.DateTime(), nullable=True))
    op.execute(sa.text("UPDATE report SET receipt_key = :k").bindparams(k=_receipt_key_id()))
    with op.batch_alter_table("report") as batch:
        batch.alter_column("receipt_key", existing_type=sa.String(length=16), nullable=False)
        batch.create_index("ix_report_receipt_key", ["receipt_key"])


def downgrade():
    with op.batch_alter_table("report") as batch:
        batch.drop_index("ix_report_receipt_key")
        batch.drop_column("photos_purged_at")
        batch.drop_column("contacts_purged_at")
        batch.drop_column("legal_hold")
        batch.drop_column("receipt_key")
