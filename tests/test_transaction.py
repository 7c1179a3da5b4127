"""The domain owns its transactions: atomic() commits or rolls back as one, a nested block is a
SAVEPOINT that fails alone, and the packages below reports tell it about their changes inside
the writer's transaction (so a failed import rescores nothing)."""

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from vehiclewatch import audit
from vehiclewatch.auditcheck import verify_chain
from vehiclewatch.auth.models import Unit, UnitKind
from vehiclewatch.auth.services import create_unit
from vehiclewatch.calendar.services import add_holiday_period
from vehiclewatch.dispatch.services import import_trip_approvals
from vehiclewatch.extensions import db
from vehiclewatch.reports.scoring import score_parts
from vehiclewatch.transaction import atomic


def _units() -> set[str]:
    return set(db.session.execute(select(Unit.code)).scalars())


def _entries() -> int:
    return db.session.execute(select(func.count()).select_from(audit.AuditEntry)).scalar_one()


class Boom(Exception):
    pass


def test_a_nested_failure_rolls_back_exactly_its_own_savepoint(org):
    before = _entries()
    with atomic():
        create_unit("c-1", "丙县", UnitKind.COUNTY, org["city"], actor=audit.SYSTEM)
        with pytest.raises(Boom), atomic():
            create_unit("c-2", "丁县", UnitKind.COUNTY, org["city"], actor=audit.SYSTEM)
            raise Boom()
        create_unit("c-3", "戊县", UnitKind.COUNTY, org["city"], actor=audit.SYSTEM)
    db.session.expire_all()
    assert {"c-1", "c-3"} <= _units() and "c-2" not in _units()
    # Two units, two audit entries: the undone one left no entry and no gap in the chain.
    assert _entries() == before + 2
    assert verify_chain()[1] is None


def test_an_outer_failure_undoes_the_inner_blocks_too(org):
    before = _entries()
    with pytest.raises(Boom), atomic():
        create_unit("c-1", "丙县", UnitKind.COUNTY, org["city"], actor=audit.SYSTEM)
        raise Boom()
    db.session.expire_all()
    assert "c-1" not in _units()
    assert _entries() == before


def test_a_write_begun_outside_a_transaction_is_refused(org):
    org["a"].name = "改名未经服务"
    with pytest.raises(RuntimeError, match="outside a transaction"), atomic():
        pass
    db.session.rollback()
    assert db.session.get(Unit, org["a"].id).name == "甲县"


def test_audit_entries_need_a_named_actor(app):
    with pytest.raises(TypeError, match="actor"), atomic():
        audit.record("test_event", object_type="thing", object_id=1, actor=None)


TRIPS = "车牌号,事由,目的地,开始时间,结束时间,驾驶员,审批人,应急\n"


def test_a_trip_import_rescores_affected_reports_in_its_own_transaction(
    org, make_vehicle, make_report
):
    add_holiday_period(
        "春节", date(2026, 2, 15), date(2026, 2, 23), "national", [], actor=audit.SYSTEM
    )
    car = make_vehicle(org["a-jy"], plate="藏A·11111")
    make_vehicle(org["a-jy"], plate="藏A·22222")
    report, _ = make_report(car, seen_at=datetime(2026, 2, 16, 2, 0, tzinfo=UTC))
    assert "no_dispatch_cover" not in score_parts(report)
    rows = TRIPS + "藏A·22222,开会,市委,2026-02-16 08:00,2026-02-16 18:00,赵,钱,否\n"
    # Inside a larger transaction that fails, the rescoring goes with the import.
    with pytest.raises(Boom), atomic():
        import_trip_approvals(rows.encode(), actor=audit.SYSTEM)
        raise Boom()
    db.session.refresh(report)
    assert "no_dispatch_cover" not in score_parts(report)
    # On its own, the import and the rescoring land together.
    import_trip_approvals(rows.encode(), actor=audit.SYSTEM)
    db.session.refresh(report)
    assert score_parts(report)["no_dispatch_cover"] == 30 and report.flagged
