"""Spot checks (随机抽查, 交叉互查): committed draws, their items, and reports' reader team.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "spot_check_draw",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_start", sa.Date(), nullable=False),
        sa.Column("round_end", sa.Date(), nullable=False),
        sa.Column("per_jurisdiction", sa.Integer(), nullable=False),
        sa.Column("candidates", sa.Text(), nullable=False),
        sa.Column("candidates_hash", sa.String(length=64), nullable=False),
        sa.Column("seed_hash", sa.String(length=64), nullable=False),
        sa.Column("seed_enc", sa.Text(), nullable=False),
        sa.Column("drawn_at", sa.DateTime(), nullable=False),
        sa.Column("drawn_by_id", sa.Integer(), nullable=True),
        sa.Column("superseded_at", sa.DateTime(), nullable=True),
        sa.Column("redraw_reason", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["drawn_by_id"],
            ["user_account.id"],
            name=op.f("fk_spot_check_draw_drawn_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_spot_check_draw")),
    )
    with op.batch_alter_table("spot_check_draw", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_spot_check_draw_round_start"), ["round_start"], unique=False
        )
    op.create_table(
        "spot_check_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("draw_id", sa.Integer(), nullable=False),
        sa.Column("vehicle_id", sa.Integer(), nullable=False),
        sa.Column("jurisdiction_id", sa.Integer(), nullable=False),
        sa.Column("team_jurisdiction_id", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("result", sa.String(length=20), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("report_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["draw_id"],
            ["spot_check_draw.id"],
            name=op.f("fk_spot_check_item_draw_id_spot_check_draw"),
        ),
        sa.ForeignKeyConstraint(
            ["jurisdiction_id"], ["unit.id"], name=op.f("fk_spot_check_item_jurisdiction_id_unit")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["user_account.id"],
            name=op.f("fk_spot_check_item_recorded_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["report_id"], ["report.id"], name=op.f("fk_spot_check_item_report_id_report")
        ),
        sa.ForeignKeyConstraint(
            ["team_jurisdiction_id"],
            ["unit.id"],
            name=op.f("fk_spot_check_item_team_jurisdiction_id_unit"),
        ),
        sa.ForeignKeyConstraint(
            ["vehicle_id"], ["vehicle.id"], name=op.f("fk_spot_check_item_vehicle_id_vehicle")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_spot_check_item")),
    )
    with op.batch_alter_table("spot_check_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_spot_check_item_draw_id"), ["draw_id"], unique=False)
        batch_op.create_index(
            "ix_spot_check_item_team", ["team_jurisdiction_id", "draw_id"], unique=False
        )
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reader_jurisdiction_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_report_reader_jurisdiction_id_unit"),
            "unit",
            ["reader_jurisdiction_id"],
            ["id"],
        )


def downgrade():
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_report_reader_jurisdiction_id_unit"), type_="foreignkey"
        )
        batch_op.drop_column("reader_jurisdiction_id")
    with op.batch_alter_table("spot_check_item", schema=None) as batch_op:
        batch_op.drop_index("ix_spot_check_item_team")
        batch_op.drop_index(batch_op.f("ix_spot_check_item_draw_id"))
    op.drop_table("spot_check_item")
    with op.batch_alter_table("spot_check_draw", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_spot_check_draw_round_start"))
    op.drop_table("spot_check_draw")
