"""Reads for trip approvals and sealing: the evidence check a report is scored with, the
scan page's "sealed now", and the fleet admins' scoped lists."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import exists, func, select
from sqlalchemy.orm import selectinload

from ..auth.models import User
from ..auth.scope import in_fleet_scope
from ..calendar.models import HolidayPeriod
from ..extensions import db
from ..fleet.models import Vehicle
from ..fleet.plates import plate_search_key
from ..timeutil import local_zone
from .models import Sealing, SealingVersion, TripApproval, TripApprovalVersion

PAGE_SIZE = 50


@dataclass(frozen=True)
class DispatchEvidence:
    """What the trip-approval and sealing data say about one sighting of a car."""

    sealing: Sealing | None
    sealed: bool  # sealed for a holiday at seen-at, with no exemption
    data_exists: bool  # the car's unit has approvals touching that local day
    covering: tuple[TripApproval, ...]  # this car's approvals whose interval holds seen-at
    late_ids: frozenset[int]  # those of them that came to cover it after the report (补录)
    late: bool  # covered only by approvals that came to cover it after the report (补录)
    not_covered: bool  # data exists for the unit and day, and none covers seen-at


def local_day(moment: datetime) -> date:
    return moment.astimezone(local_zone()).date()


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The local day as a half-open UTC-comparable interval [start, end)."""
    zone = local_zone()
    start = datetime.combine(day, time(), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone)
    return start, end


def sealing_on(vehicle_id: int, day: date) -> Sealing | None:
    """The car's sealing for a holiday period holding that day; a non-exempt one first."""
    return db.session.execute(
        select(Sealing)
        .join(HolidayPeriod, Sealing.holiday_period_id == HolidayPeriod.id)
        .where(
            Sealing.vehicle_id == vehicle_id,
            Sealing.cancelled_at.is_(None),
            HolidayPeriod.start <= day,
            HolidayPeriod.end >= day,
        )
        .order_by(Sealing.exempt, Sealing.id)
        .limit(1)
    ).scalar_one_or_none()


def sealed_condition(vehicle_id, day: date):
    """SQL: the car (an id, or a column of an outer query) is sealed without exemption on
    that local day."""
    return exists(
        select(Sealing.id)
        .join(HolidayPeriod, Sealing.holiday_period_id == HolidayPeriod.id)
        .where(
            Sealing.vehicle_id == vehicle_id,
            Sealing.exempt.is_(False),
            Sealing.cancelled_at.is_(None),
            HolidayPeriod.start <= day,
            HolidayPeriod.end >= day,
        )
    )


def unit_has_data(unit_id: int, day: date) -> bool:
    """Any approval of any car of the unit whose interval meets that local day."""
    start, end = day_bounds(day)
    return (
        db.session.execute(
            select(TripApproval.id)
            .join(Vehicle, TripApproval.vehicle_id == Vehicle.id)
            .where(
                Vehicle.unit_id == unit_id,
                TripApproval.cancelled_at.is_(None),
                TripApproval.start_at < end,
                TripApproval.end_at > start,
            )
            .limit(1)
        ).first()
        is not None
    )


def covering_approvals(vehicle_id: int, seen_at: datetime) -> list[TripApproval]:
    return list(
        db.session.execute(
            select(TripApproval)
            .where(
                TripApproval.vehicle_id == vehicle_id,
                TripApproval.cancelled_at.is_(None),
                TripApproval.start_at <= seen_at,
                TripApproval.end_at >= seen_at,
            )
            .order_by(TripApproval.start_at, TripApproval.id)
        ).scalars()
    )


def covered_in_time(approval: TripApproval, seen_at: datetime, report_created_at: datetime) -> bool:
    """Whether an approval that covers seen-at now already did when the report was filed: the
    version on record then covered it. Entered after the report, or corrected since so that
    it covers it only now, it is 补录."""
    if approval.entered_at > report_created_at:
        return False
    if approval.amended_at is None or approval.amended_at <= report_created_at:
        return True
    then = db.session.execute(
        select(TripApprovalVersion)
        .where(
            TripApprovalVersion.record_id == approval.id,
            TripApprovalVersion.recorded_at <= report_created_at,
        )
        .order_by(TripApprovalVersion.number.desc())
        .limit(1)
    ).scalar_one()
    return then.covers(approval.vehicle_id, seen_at)


def dispatch_evidence(
    vehicle: Vehicle, seen_at: datetime, report_created_at: datetime
) -> DispatchEvidence:
    """Check a sighting against the sealing and trip-approval data of its car and unit."""
    day = local_day(seen_at)
    sealing = sealing_on(vehicle.id, day)
    covering = tuple(covering_approvals(vehicle.id, seen_at))
    # A car's own covering approval is data for its unit and day, so skip the query then.
    data_exists = bool(covering) or unit_has_data(vehicle.unit_id, day)
    late_ids = frozenset(
        a.id for a in covering if not covered_in_time(a, seen_at, report_created_at)
    )
    return DispatchEvidence(
        sealing=sealing,
        sealed=sealing is not None and not sealing.exempt,
        data_exists=data_exists,
        covering=covering,
        late_ids=late_ids,
        late=bool(covering) and len(late_ids) == len(covering),
        not_covered=data_exists and not covering,
    )


def changed_records(vehicle_id: int, seen_at: datetime) -> list[TripApproval | Sealing]:
    """The car's trip approvals and sealing records that were ever corrected or withdrawn
    and that covered the sighting in some version (an approval for that moment, a sealing
    for a holiday holding that day), each with all its versions: what officers read beside
    the evidence."""
    day = local_day(seen_at)
    trips = select(TripApprovalVersion.record_id).where(
        TripApprovalVersion.vehicle_id == vehicle_id,
        TripApprovalVersion.start_at <= seen_at,
        TripApprovalVersion.end_at >= seen_at,
    )
    sealings = (
        select(SealingVersion.record_id)
        .join(HolidayPeriod, SealingVersion.holiday_period_id == HolidayPeriod.id)
        .where(
            SealingVersion.vehicle_id == vehicle_id,
            HolidayPeriod.start <= day,
            HolidayPeriod.end >= day,
        )
    )
    found: list[TripApproval | Sealing] = []
    for model, ids in ((Sealing, sealings), (TripApproval, trips)):
        found += db.session.execute(
            select(model)
            .where(model.id.in_(ids), model.version > 1)
            .options(selectinload(model.versions))
            .order_by(model.id)
        ).scalars()
    return found


# --- the fleet admins' lists -----------------------------------------------------------


def _plate_filter(query, q: str):
    if q:
        key = plate_search_key(q)
        query = query.where(func.replace(Vehicle.plate, "·", "").contains(key, autoescape=True))
    return query


def _page(query, order, page: int):
    total = db.session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = db.session.execute(
        query.order_by(*order).limit(PAGE_SIZE).offset((max(page, 1) - 1) * PAGE_SIZE)
    ).scalars()
    return list(rows), total


def search_trip_approvals(user: User, page: int = 1, q: str = "") -> tuple[list, int]:
    """One page of the approvals of the user's cars, latest trip first, and the total."""
    query = (
        select(TripApproval)
        .join(Vehicle, TripApproval.vehicle_id == Vehicle.id)
        .where(in_fleet_scope(user, Vehicle.unit_id))
    )
    query = _plate_filter(query, q)
    return _page(query, (TripApproval.start_at.desc(), TripApproval.id.desc()), page)


def search_sealings(
    user: User, page: int = 1, q: str = "", period_id: int | None = None
) -> tuple[list, int]:
    """One page of the sealing records of the user's cars, latest holiday first, and the total."""
    query = (
        select(Sealing)
        .join(Vehicle, Sealing.vehicle_id == Vehicle.id)
        .join(HolidayPeriod, Sealing.holiday_period_id == HolidayPeriod.id)
        .where(in_fleet_scope(user, Vehicle.unit_id))
    )
    query = _plate_filter(query, q)
    if period_id:
        query = query.where(Sealing.holiday_period_id == period_id)
    return _page(query, (HolidayPeriod.start.desc(), Vehicle.plate, Sealing.id), page)


def record_in_scope(user: User, model, record_id: int) -> TripApproval | Sealing | None:
    """A trip approval or sealing record of a car the user manages, with its versions."""
    return db.session.execute(
        select(model)
        .join(Vehicle, model.vehicle_id == Vehicle.id)
        .where(model.id == record_id, in_fleet_scope(user, Vehicle.unit_id))
        .options(selectinload(model.versions))
    ).scalar_one_or_none()


def vehicle_in_scope(user: User, plate: str) -> Vehicle | None:
    """The car with this (normalised) plate, if the user manages it."""
    return db.session.execute(
        select(Vehicle).where(Vehicle.plate == plate, in_fleet_scope(user, Vehicle.unit_id))
    ).scalar_one_or_none()


def holiday_periods() -> list[HolidayPeriod]:
    return list(
        db.session.execute(
            select(HolidayPeriod).order_by(HolidayPeriod.start.desc(), HolidayPeriod.id)
        ).scalars()
    )


def records_query(user: User, model):
    """Trip approvals or sealing records of the cars the user manages (a select to page)."""
    return (
        select(model)
        .join(Vehicle, model.vehicle_id == Vehicle.id)
        .where(in_fleet_scope(user, Vehicle.unit_id))
        .options(selectinload(model.versions))
    )
