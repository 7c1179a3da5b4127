"""Correcting and withdrawing trip approvals and sealing records: every version kept, only
the current one counts, the reports they bear on rescored (补录 included), scope and bad
input refused with nothing changed."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from vehiclewatch import audit
from vehiclewatch.audit import AuditEntry
from vehiclewatch.calendar.services import add_holiday_period
from vehiclewatch.dispatch.amendments import (
    AlreadyCancelled,
    InvalidChange,
    NothingChanged,
    RecordNotFound,
    amend_sealing,
    amend_trip,
    cancel_sealing,
    cancel_trip,
)
from vehiclewatch.dispatch.models import (
    Sealing,
    SealingVersion,
    TripApproval,
    TripApprovalVersion,
)
from vehiclewatch.dispatch.services import add_sealing, add_trip_approval, import_trip_approvals
from vehiclewatch.extensions import db
from vehiclewatch.fleet.guards import OutOfScope
from vehiclewatch.reports.scoring import score_parts

from .conftest import count_rows

ZONE = ZoneInfo("Asia/Shanghai")
DISPATCH_KEYS = {"sealed", "no_dispatch_cover", "late_dispatch"}


def local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 2, day, hour, minute, tzinfo=ZONE).astimezone(UTC)


@pytest.fixture
def car(org, make_vehicle):
    return make_vehicle(org["a-jy"], plate="藏A·11111")


@pytest.fixture
def admin(org, make_user):
    return make_user("fleet_admin", org["a"])


def _trip(vehicle, start, end, actor=audit.SYSTEM, **kwargs):
    kwargs.setdefault("purpose", "下乡检查")
    return add_trip_approval(
        vehicle, start_at=start, end_at=end, approver="王局长", actor=actor, **kwargs
    )


def _dispatch(report) -> set[str]:
    db.session.refresh(report)
    return DISPATCH_KEYS & score_parts(report).keys()


def _versions(model, record_id):
    return list(
        db.session.execute(
            select(model).where(model.record_id == record_id).order_by(model.number)
        ).scalars()
    )


def test_an_amendment_keeps_every_version_with_who_when_and_why(car, admin):
    trip = _trip(car, local(16, 9), local(16, 12), actor=admin, driver="赵师傅")
    amend_trip(admin, trip.id, {"driver": "钱师傅", "destination": "扎囊县"}, "驾驶员填错")
    amend_trip(admin, trip.id, {"end_at": local(16, 13)}, "返回时间推迟")
    db.session.expire_all()
    trip = db.session.get(TripApproval, trip.id)
    assert (trip.driver, trip.destination, trip.end_at, trip.version) == (
        "钱师傅",
        "扎囊县",
        local(16, 13),
        3,
    )
    versions = _versions(TripApprovalVersion, trip.id)
    assert [(v.number, v.change, v.driver, v.end_at, v.reason) for v in versions] == [
        (1, "entered", "赵师傅", local(16, 12), ""),
        (2, "amended", "钱师傅", local(16, 12), "驾驶员填错"),
        (3, "amended", "钱师傅", local(16, 13), "返回时间推迟"),
    ]
    assert all(v.recorded_by_id == admin.id for v in versions)
    assert versions[0].recorded_at == trip.entered_at < versions[1].recorded_at
    assert trip.amended_at == versions[2].recorded_at
    entry = (
        db.session.execute(select(AuditEntry).where(AuditEntry.action == "trip_approval_amended"))
        .scalars()
        .first()
    )
    assert entry is not None and "驾驶员填错" in entry.after


def test_imported_records_get_their_first_version(org, car):
    csv = "车牌号,事由,开始时间,结束时间\n藏A11111,开会,2026-02-16 08:00,2026-02-16 09:00\n"
    (trip,) = import_trip_approvals(csv.encode(), actor=audit.SYSTEM)
    assert [v.change for v in _versions(TripApprovalVersion, trip.id)] == ["entered"]


def test_a_cancelled_approval_no_longer_covers_a_report(car, make_report, admin):
    trip = _trip(car, local(16, 9), local(16, 12))
    _trip(car, local(16, 14), local(16, 15))  # data for the day remains
    report, _ = make_report(car, seen_at=local(16, 10))
    assert _dispatch(report) == set()
    cancel_trip(admin, trip.id, "该次出车取消")
    assert _dispatch(report) == {"no_dispatch_cover"}
    db.session.expire_all()
    trip = db.session.get(TripApproval, trip.id)
    assert trip.cancelled_at is not None and trip.purpose == "下乡检查"
    assert [(v.change, v.reason) for v in _versions(TripApprovalVersion, trip.id)] == [
        ("entered", ""),
        ("cancelled", "该次出车取消"),
    ]
    with pytest.raises(AlreadyCancelled):
        amend_trip(admin, trip.id, {"driver": "x"}, "再改")
    with pytest.raises(AlreadyCancelled):
        cancel_trip(admin, trip.id, "再撤")


def test_an_amendment_that_newly_covers_a_report_is_late(car, make_report, admin):
    trip = _trip(car, local(16, 13), local(16, 15))
    report, _ = make_report(car, seen_at=local(16, 10))
    assert _dispatch(report) == {"no_dispatch_cover"}
    amend_trip(admin, trip.id, {"start_at": local(16, 9)}, "出车时间填错")
    assert _dispatch(report) == {"late_dispatch"}
    assert report.flagged is True


def test_an_amendment_of_an_approval_that_already_covered_is_not_late(car, make_report, admin):
    trip = _trip(car, local(16, 9), local(16, 12))
    report, _ = make_report(car, seen_at=local(16, 10))
    amend_trip(admin, trip.id, {"driver": "钱师傅", "end_at": local(16, 13)}, "补充驾驶员")
    assert _dispatch(report) == set()


def test_moving_an_approval_to_another_car_rescores_both(org, car, make_vehicle, make_report):
    other = make_vehicle(org["b-jy"], plate="藏B·22222")
    trip = _trip(car, local(16, 9), local(16, 12))
    _trip(other, local(16, 14), local(16, 15))
    here, _ = make_report(car, seen_at=local(16, 10))
    there, _ = make_report(other, seen_at=local(16, 10))
    assert (_dispatch(here), _dispatch(there)) == (set(), {"no_dispatch_cover"})
    amend_trip(audit.SYSTEM, trip.id, {"plate": "藏b22222"}, "车牌录错")
    assert _dispatch(here) == set()  # no data for its unit that day any more
    assert _dispatch(there) == {"late_dispatch"}
    assert db.session.get(TripApproval, trip.id).vehicle_id == other.id


def test_a_cancelled_sealing_no_longer_counts_and_frees_its_place(spring, car, make_report, admin):
    sealing = add_sealing(car, spring, place="车库", actor=admin)
    report, _ = make_report(car, seen_at=local(16, 10))
    assert _dispatch(report) == {"sealed"}
    cancel_sealing(admin, sealing.id, "该车节日值班，误登记")
    assert _dispatch(report) == set()
    again = add_sealing(
        car, spring, exempt=True, exemption_reason="值班", exemption_approver="李", actor=admin
    )
    assert again.id != sealing.id


def test_amending_a_sealing_to_an_exemption_rescores(spring, car, make_report, admin):
    sealing = add_sealing(car, spring, place="车库", key_holder="张三", actor=admin)
    report, _ = make_report(car, seen_at=local(16, 10))
    amend_sealing(
        admin,
        sealing.id,
        {"exempt": True, "exemption_reason": "应急", "exemption_approver": "李书记"},
        "应急保障车辆",
    )
    assert _dispatch(report) == set()
    amend_sealing(admin, sealing.id, {"exempt": False}, "撤回免封")
    assert _dispatch(report) == {"sealed"}
    versions = _versions(SealingVersion, sealing.id)
    assert [(v.exempt, v.exemption_reason) for v in versions] == [
        (False, ""),
        (True, "应急"),
        (False, ""),
    ]


def test_a_sealing_moved_to_another_holiday(spring, car, make_report, admin):
    later = add_holiday_period(
        "清明节",
        date(2026, 4, 4),
        date(2026, 4, 6),
        "national",
        [],
        actor=audit.SYSTEM,
    )
    sealing = add_sealing(car, spring, actor=admin)
    report, _ = make_report(car, seen_at=local(16, 10))
    amend_sealing(admin, sealing.id, {"holiday_period_id": later.id}, "节日选错")
    assert _dispatch(report) == set()
    assert db.session.get(Sealing, sealing.id).holiday_period_id == later.id


def test_another_units_records_are_refused(org, car, make_user, spring):
    trip = _trip(car, local(16, 9), local(16, 12))
    sealing = add_sealing(car, spring, actor=audit.SYSTEM)
    stranger = make_user("fleet_admin", org["b"])
    with pytest.raises(OutOfScope):
        amend_trip(stranger, trip.id, {"driver": "x"}, "改")
    with pytest.raises(OutOfScope):
        cancel_trip(stranger, trip.id, "撤")
    with pytest.raises(OutOfScope):
        cancel_sealing(stranger, sealing.id, "撤")
    assert count_rows(TripApprovalVersion) == 1 and count_rows(SealingVersion) == 1


def test_moving_to_a_car_outside_the_scope_is_refused_like_an_unknown_plate(
    org, car, make_vehicle, admin
):
    make_vehicle(org["b-jy"], plate="藏B·22222")
    trip = _trip(car, local(16, 9), local(16, 12))
    messages = set()
    for plate in ("藏B22222", "藏B99999"):
        with pytest.raises(InvalidChange) as refused:
            amend_trip(admin, trip.id, {"plate": plate}, "换车")
        assert refused.value.field == "plate"
        messages.add(refused.value.message)
    assert len(messages) == 1


@pytest.mark.parametrize(
    ("changes", "reason", "field"),
    [
        ({"end_at": local(16, 8)}, "改", "end_at"),
        ({"purpose": "  "}, "改", "purpose"),
        ({"purpose": "长" * 201}, "改", "purpose"),
        ({"start_at": datetime(2026, 2, 16, 9)}, "改", "start_at"),
        ({"emergency": "是"}, "改", "emergency"),
        ({"colour": "红"}, "改", "colour"),
        ({"plate": "not a plate"}, "改", "plate"),
        ({"driver": "钱师傅"}, " ", "reason"),
        ({}, "改", None),
    ],
)
def test_bad_input_is_refused_with_nothing_changed(car, admin, changes, reason, field):
    trip = _trip(car, local(16, 9), local(16, 12))
    before = count_rows(AuditEntry)
    with pytest.raises(InvalidChange) as refused:
        amend_trip(admin, trip.id, changes, reason)
    assert refused.value.field == field and refused.value.message
    db.session.expire_all()
    trip = db.session.get(TripApproval, trip.id)
    assert (trip.version, trip.end_at, trip.purpose) == (1, local(16, 12), "下乡检查")
    assert count_rows(TripApprovalVersion) == 1
    assert count_rows(AuditEntry) == before


def test_refusals_without_a_change(car, admin, spring, make_vehicle):
    trip = _trip(car, local(16, 9), local(16, 12))
    with pytest.raises(NothingChanged):
        amend_trip(admin, trip.id, {"purpose": "下乡检查 "}, "同样")
    for missing in (999999, 2**40, "1"):
        with pytest.raises(RecordNotFound):
            cancel_trip(admin, missing, "撤")
    with pytest.raises(InvalidChange):
        cancel_trip(admin, trip.id, "")
    sealing = add_sealing(car, spring, actor=admin)
    with pytest.raises(InvalidChange) as refused:
        amend_sealing(admin, sealing.id, {"exempt": True, "exemption_reason": "值班"}, "免封")
    assert refused.value.field == "exemption_approver"
    twin = add_sealing(make_vehicle(car.unit, plate="藏A·22222"), spring, actor=admin)
    with pytest.raises(InvalidChange) as refused:
        amend_sealing(admin, twin.id, {"plate": "藏A11111"}, "车牌录错")
    assert refused.value.field == "holiday_period_id"
    assert count_rows(TripApprovalVersion) == 1 and count_rows(SealingVersion) == 2
