"""Bulletins (每周一督通报) and their typical cases (典型问题).

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "bulletin",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_start", sa.Date(), nullable=False),
        sa.Column("round_end", sa.Date(), nullable=False),
        sa.Column("jurisdiction_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("figures_json", sa.Text(), nullable=True),
        sa.Column("drafted_by_id", sa.Integer(), nullable=False),
        sa.Column("drafted_at", sa.DateTime(), nullable=False),
        sa.Column("approved_by_id", sa.Integer(), nullable=True),
        sa.Column("approved_at", sa.DateTime(), nullable=True),
        sa.Column("published_at", sa.DateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["jurisdiction_id"], ["unit.id"], name=op.f("fk_bulletin_jurisdiction_id_unit")
        ),
        sa.ForeignKeyConstraint(
            ["drafted_by_id"],
            ["user_account.id"],
            name=op.f("fk_bulletin_drafted_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["approved_by_id"],
            ["user_account.id"],
            name=op.f("fk_bulletin_approved_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bulletin")),
        sa.UniqueConstraint("round_start", "jurisdiction_id", name=op.f("uq_bulletin_round_start")),
    )
    with op.batch_alter_table("bulletin", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_bulletin_jurisdiction_id"), ["jurisdiction_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_bulletin_status"), ["status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_bulletin_published_at"), ["published_at"], unique=False
        )
    op.create_table(
        "bulletin_case",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bulletin_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("unit_name", sa.String(length=120), nullable=False),
        sa.Column("person_position", sa.String(length=120), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("plate", sa.String(length=20), nullable=False),
        sa.Column("what_happened", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(length=120), nullable=False),
        sa.Column("deciding_body", sa.String(length=120), nullable=False),
        sa.Column("source_report_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["bulletin_id"], ["bulletin.id"], name=op.f("fk_bulletin_case_bulletin_id_bulletin")
        ),
        sa.ForeignKeyConstraint(
            ["source_report_id"],
            ["report.id"],
            name=op.f("fk_bulletin_case_source_report_id_report"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bulletin_case")),
    )
    with op.batch_alter_table("bulletin_case", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_bulletin_case_bulletin_id"), ["bulletin_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("bulletin_case", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bulletin_case_bulletin_id"))
    op.drop_table("bulletin_case")
    with op.batch_alter_table("bulletin", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bulletin_published_at"))
        batch_op.drop_index(batch_op.f("ix_bulletin_status"))
        batch_op.drop_index(batch_op.f("ix_bulletin_jurisdiction_id"))
    op.drop_table("bulletin")
