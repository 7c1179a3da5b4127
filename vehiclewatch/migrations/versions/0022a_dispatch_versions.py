"""Trip approvals and sealing keep every version: a correction (修改) or a withdrawal (撤销)
adds a version row; the record itself carries its version count, when it was last
corrected and whether it was withdrawn. Every existing record gets its first version.

Revision ID: 0022a
Revises: 0021
Create Date: 2026-12-01 23:20:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "0022a"
down_revision = "0021"
branch_labels = None
depends_on = None

TRIP_CONTENT = (
    "vehicle_id",
    "purpose",
    "destination",
    "start_at",
    "end_at",
    "driver",
    "approver",
    "emergency",
)
SEALING_CONTENT = (
    "vehicle_id",
    "holiday_period_id",
    "place",
    "key_holder",
    "exempt",
    "exemption_reason",
    "exemption_approver",
)


def _version_columns(table: str, record: str) -> list:
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(f"{record}_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("change", sa.String(length=16), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("vehicle_id", sa.Integer(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            [f"{record}_id"], [f"{record}.id"], name=op.f(f"fk_{table}_{record}_id_{record}")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["user_account.id"],
            name=op.f(f"fk_{table}_recorded_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["vehicle_id"], ["vehicle.id"], name=op.f(f"fk_{table}_vehicle_id_vehicle")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
        sa.UniqueConstraint(f"{record}_id", "number", name=op.f(f"uq_{table}_{record}_id")),
    ]


def _backfill(table: str, record: str, content: tuple[str, ...]) -> None:
    columns = ", ".join(content)
    op.execute(
        f"INSERT INTO {table} ({record}_id, number, change, recorded_at, reason, "
        f"recorded_by_id, {columns}) "
        f"SELECT id, 1, 'entered', entered_at, '', entered_by_id, {columns} FROM {record}"
    )


def upgrade():
    for record in ("trip_approval", "sealing"):
        with op.batch_alter_table(record) as batch:
            batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
            batch.add_column(sa.Column("amended_at", sa.DateTime(), nullable=True))
            batch.add_column(sa.Column("cancelled_at", sa.DateTime(), nullable=True))
        with op.batch_alter_table(record) as batch:
            batch.alter_column("version", existing_type=sa.Integer(), server_default=None)

    op.create_table(
        "trip_approval_version",
        *_version_columns("trip_approval_version", "trip_approval"),
        sa.Column("purpose", sa.String(length=200), nullable=False),
        sa.Column("destination", sa.String(length=200), nullable=False),
        sa.Column("start_at", sa.DateTime(), nullable=False),
        sa.Column("end_at", sa.DateTime(), nullable=False),
        sa.Column("driver", sa.String(length=60), nullable=False),
        sa.Column("approver", sa.String(length=60), nullable=False),
        sa.Column("emergency", sa.Boolean(), nullable=False),
    )
    op.create_index(
        "ix_trip_approval_version_vehicle_start",
        "trip_approval_version",
        ["vehicle_id", "start_at"],
    )
    op.create_table(
        "sealing_version",
        *_version_columns("sealing_version", "sealing"),
        sa.Column("holiday_period_id", sa.Integer(), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("key_holder", sa.String(length=60), nullable=False),
        sa.Column("exempt", sa.Boolean(), nullable=False),
        sa.Column("exemption_reason", sa.String(length=200), nullable=False),
        sa.Column("exemption_approver", sa.String(length=60), nullable=False),
        sa.ForeignKeyConstraint(
            ["holiday_period_id"],
            ["holiday_period.id"],
            name=op.f("fk_sealing_version_holiday_period_id_holiday_period"),
        ),
    )
    op.create_index("ix_sealing_version_vehicle", "sealing_version", ["vehicle_id"])
    _backfill("trip_approval_version", "trip_approval", TRIP_CONTENT)
    _backfill("sealing_version", "sealing", SEALING_CONTENT)


def downgrade():
    op.drop_index("ix_sealing_version_vehicle", table_name="sealing_version")
    op.drop_table("sealing_version")
    op.drop_index("ix_trip_approval_version_vehicle_start", table_name="trip_approval_version")
    op.drop_table("trip_approval_version")
    for record in ("sealing", "trip_approval"):
        with op.batch_alter_table(record) as batch:
            batch.drop_column("cancelled_at")
            batch.drop_column("amended_at")
            batch.drop_column("version")
