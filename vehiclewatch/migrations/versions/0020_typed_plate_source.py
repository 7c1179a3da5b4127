"""Reports: a plate typed by a citizen (no sticker scanned) is 手工录入, not 扫码.

Revision ID: 0020
Revises: 0013
Create Date: 2026-12-01 20:30:00.000000

"""

from alembic import op

revision = "0020"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    # Citizens' reports without a sticker came from /report, where the plate is typed.
    op.execute("UPDATE report SET source = 'manual' WHERE source = 'scan' AND sticker_id IS NULL")


def downgrade():
    op.execute("UPDATE report SET source = 'scan' WHERE source = 'manual'")
