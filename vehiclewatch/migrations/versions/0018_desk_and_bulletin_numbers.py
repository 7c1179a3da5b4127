"""The officers' desk and the bulletins: a partial index for the queue's default view (the
reports still being worked on), bulletins' document numbers (文号) and corrections (更正).

Revision ID: 0018
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0014"
branch_labels = None
depends_on = None

WORKING = (
    "state IN ('accepted', 'concluded', 'parked', 'pending_approval', 'submitted', 'verifying')"
)
ORIGINAL = "corrects_id IS NULL"


def upgrade():
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.create_index(
            "ix_report_working_queue",
            [sa.literal_column("score DESC"), "created_at", "id"],
            unique=False,
            sqlite_where=sa.text(WORKING),
            postgresql_where=sa.text(WORKING),
        )
    with op.batch_alter_table("bulletin", schema=None) as batch_op:
        batch_op.add_column(sa.Column("number_year", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("number_seq", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("doc_number", sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column("corrects_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("correction_note", sa.Text(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_bulletin_corrects_id_bulletin"), "bulletin", ["corrects_id"], ["id"]
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_bulletin_number_year"), ["number_year", "number_seq"]
        )
        batch_op.create_unique_constraint(batch_op.f("uq_bulletin_corrects_id"), ["corrects_id"])
        # One original bulletin per round and jurisdiction; its corrections share the round.
        batch_op.drop_constraint("uq_bulletin_round_start", type_="unique")
        batch_op.create_index(
            "uq_bulletin_original_round",
            ["round_start", "jurisdiction_id"],
            unique=True,
            sqlite_where=sa.text(ORIGINAL),
            postgresql_where=sa.text(ORIGINAL),
        )


def downgrade():
    with op.batch_alter_table("bulletin", schema=None) as batch_op:
        batch_op.drop_index("uq_bulletin_original_round")
        batch_op.create_unique_constraint(
            "uq_bulletin_round_start", ["round_start", "jurisdiction_id"]
        )
        batch_op.drop_constraint(batch_op.f("uq_bulletin_corrects_id"), type_="unique")
        batch_op.drop_constraint(batch_op.f("uq_bulletin_number_year"), type_="unique")
        batch_op.drop_constraint(batch_op.f("fk_bulletin_corrects_id_bulletin"), type_="foreignkey")
        batch_op.drop_column("correction_note")
        batch_op.drop_column("corrects_id")
        batch_op.drop_column("doc_number")
        batch_op.drop_column("number_seq")
        batch_op.drop_column("number_year")
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.drop_index("ix_report_working_queue")
