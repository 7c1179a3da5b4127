"""The audit log: append-only in the database itself, hash-chained, verifiable."""

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from vehiclewatch.audit import AuditEntry, record, verify_chain
from vehiclewatch.extensions import db


def _entries():
    return db.session.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars().all()


def test_changes_are_recorded_with_before_and_after(org, make_vehicle):
    vehicle = make_vehicle(org["a-jy"], plate="藏B·12345")
    from vehiclewatch.fleet.services import update_vehicle

    update_vehicle(vehicle, colour="红色")
    last = _entries()[-1]
    assert last.action == "vehicle_updated"
    assert last.object_type == "vehicle" and last.object_id == str(vehicle.id)
    assert '"colour": ""' in last.before and '"colour": "红色"' in last.after
    assert last.at.tzinfo is not None


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_entry SET actor = 'someone'", "DELETE FROM audit_entry"]
)
def test_database_refuses_update_and_delete(org, statement):
    before = len(_entries())
    assert before > 0
    with pytest.raises(DatabaseError, match="append-only"):
        db.session.execute(text(statement))
        db.session.flush()
    db.session.rollback()
    assert len(_entries()) == before


def _tamper(sql: str) -> None:
    """Change the log behind the triggers' back, as a database owner could."""
    conn = db.session.connection()
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("DROP TRIGGER audit_entry_no_update")
        conn.exec_driver_sql("DROP TRIGGER audit_entry_no_delete")
        conn.exec_driver_sql(sql)
    else:
        conn.exec_driver_sql("ALTER TABLE audit_entry DISABLE TRIGGER USER")
        conn.exec_driver_sql(sql)
        conn.exec_driver_sql("ALTER TABLE audit_entry ENABLE TRIGGER USER")
    db.session.commit()


def test_verify_passes_on_an_untouched_log(org, runner):
    count, problem, _ = verify_chain()
    assert problem is None and count == len(_entries())
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0
    assert f"intact: {count} entries" in result.output


def test_verify_finds_an_edited_entry(org, runner):
    _tamper('UPDATE audit_entry SET after = \'{"name": "forged"}\' WHERE seq = 3')
    assert verify_chain()[1].seq == 3
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert "entry 3" in result.output and "content changed" in result.output


def test_verify_finds_a_removed_entry(org):
    _tamper("DELETE FROM audit_entry WHERE seq = 2")
    problem = verify_chain()[1]
    assert problem.seq == 2 and "missing" in problem.reason


def test_verify_finds_entries_cut_from_the_end(org):
    last = _entries()[-1].seq
    _tamper(f"DELETE FROM audit_entry WHERE seq = {last}")
    assert "removed from the end" in verify_chain()[1].reason


def test_entries_chain_in_order(app):
    first = record("test_event", object_type="thing", object_id=1, after={"n": 1})
    second = record("test_event", object_type="thing", object_id=2, after={"n": 2})
    db.session.commit()
    assert second.prev_hash == first.hash
    assert second.seq == first.seq + 1
    assert first.actor == "system"
