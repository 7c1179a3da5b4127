"""Trip approvals and sealing sent by a fleet platform (the integration API): one record or
many, all or nothing, each checked exactly as an import row is; cars named by external id."""

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select

from .. import audit, tables
from ..auth.scope import fleet_unit_ids, unscoped
from ..extensions import db
from ..fleet.models import Vehicle
from ..timeutil import local_zone
from ..transaction import atomic
from .models import Sealing, TripApproval
from .services import (
    SEALING_COLUMNS,
    TRIP_COLUMNS,
    FindVehicle,
    insert_records,
    sealing_row_checker,
    trip_row_checker,
)

# The row a check reads names the car in the plate column; here it holds the external id.
VEHICLE_FIELD = "plate"


def external_finder(actor: audit.Actor) -> FindVehicle:
    """Cars named by the fleet platform's external id, among those the actor manages."""
    query = select(Vehicle.external_id, Vehicle.id).where(Vehicle.external_id.is_not(None))
    if not unscoped(actor):
        query = query.where(Vehicle.unit_id.in_(fleet_unit_ids(actor)))
    vehicles = dict(db.session.execute(query).all())

    def find(text: str, problems: list[str]) -> int | None:
        vehicle_id = vehicles.get(text)
        if vehicle_id is None:
            problems.append(_("车辆“%(id)s”未登记或不在您的管理范围内", id=text))
        return vehicle_id

    return find


def _cell(value) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime):
        return value.astimezone(local_zone()).strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def _rows(items: list[dict], columns: dict[str, str]) -> list[tables.Row]:
    """API items as import rows (the same column names, so the same checks); an item's line
    is its position in the request, from 1."""
    headers = {name: header for header, name in columns.items()}
    return [
        tables.Row(
            line,
            {
                headers[VEHICLE_FIELD if k == "vehicle" else k]: _cell(v)
                for k, v in item.items()
                if k == "vehicle" or k in headers
            },
        )
        for line, item in enumerate(items, start=1)
    ]


@atomic()
def add_trip_approvals(items: list[dict], *, actor: audit.Actor) -> list[TripApproval]:
    """Record trip approvals all or nothing (ImportRejected names every bad item)."""
    check = trip_row_checker(external_finder(actor))
    rows = tables.check_rows(_rows(items, TRIP_COLUMNS), check, _("没有派车单数据。"))
    return insert_records(TripApproval, rows, "trip_approvals_received", {}, actor)


@atomic()
def add_sealings(items: list[dict], *, actor: audit.Actor) -> list[Sealing]:
    """Record sealing (or exemptions) all or nothing (ImportRejected names every bad item)."""
    check = sealing_row_checker(external_finder(actor))
    rows = tables.check_rows(_rows(items, SEALING_COLUMNS), check, _("没有封存登记数据。"))
    return insert_records(Sealing, rows, "sealings_received", {}, actor)
