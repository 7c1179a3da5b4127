"""The audit log: append-only in the database itself, hash-chained (keyed from the marker on),
verifiable alone and against anchors kept elsewhere."""

import json
import socket
from contextlib import contextmanager

import pytest
from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.exc import DatabaseError

from vehiclewatch import audit
from vehiclewatch.audit import (
    GENESIS,
    MARKER,
    RESTORED,
    SYSTEM,
    AuditEntry,
    AuditHead,
    ChainProblem,
    RestoreMismatch,
    entry_hash,
    record,
    record_restored,
    verify_chain,
)
from vehiclewatch.config import DEFAULT_AUDIT_KEY
from vehiclewatch.extensions import db
from vehiclewatch.timeutil import utcnow


def _entries():
    return db.session.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars().all()


def test_changes_are_recorded_with_before_and_after(org, make_vehicle):
    vehicle = make_vehicle(org["a-jy"], plate="藏B·12345")
    from vehiclewatch.fleet.vehicles import update_vehicle

    update_vehicle(vehicle, colour="红色", actor=audit.SYSTEM)
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


@contextmanager
def _behind_the_triggers():
    """Change the log behind the triggers' back, as a database owner could."""
    conn = db.session.connection()
    sqlite = conn.dialect.name == "sqlite"
    if sqlite:
        conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_entry_no_update")
        conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_entry_no_delete")
    else:
        conn.exec_driver_sql("ALTER TABLE audit_entry DISABLE TRIGGER USER")
    yield conn
    if not sqlite:
        conn.exec_driver_sql("ALTER TABLE audit_entry ENABLE TRIGGER USER")
    db.session.commit()


def _tamper(sql: str) -> None:
    with _behind_the_triggers() as conn:
        conn.exec_driver_sql(sql)


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
    first = record("test_event", object_type="thing", object_id=1, after={"n": 1}, actor=SYSTEM)
    second = record("test_event", object_type="thing", object_id=2, after={"n": 2}, actor=SYSTEM)
    db.session.commit()
    assert second.prev_hash == first.hash
    assert second.seq == first.seq + 1
    assert first.actor == "system"


COLUMNS = [c.key for c in AuditEntry.__table__.columns]
REAL_KEY = "a-real-audit-key-that-the-database-never-sees"


@pytest.fixture
def keyed_app(make_app):
    """An app with its own audit key, and a log written with it."""
    app = make_app(AUDIT_KEY=REAL_KEY)
    with app.app_context():
        for n in range(1, 9):
            record("test_event", object_type="thing", object_id=n, after={"n": n}, actor=SYSTEM)
        db.session.commit()
        yield app


def _rewrite(edit, key: bytes | None = None) -> None:
    """Rewrite the whole log as someone holding the database could: edit the entries,
    number them again, compute every hash again (with `key`, the attacker's guess) and
    set the head to match."""
    entries = edit([{c: getattr(e, c) for c in COLUMNS} for e in _entries()])
    prev = GENESIS
    for seq, fields in enumerate(entries, 1):
        fields.update(seq=seq, prev_hash=prev)
        fields["hash"] = prev = entry_hash(AuditEntry(**fields).payload(), key)
    with _behind_the_triggers() as conn:
        conn.execute(delete(AuditEntry.__table__))
        if entries:
            conn.execute(insert(AuditEntry.__table__), entries)
        conn.execute(update(AuditHead.__table__).values(seq=len(entries), last_hash=prev))


def _forge(entries: list[dict]) -> list[dict]:
    entries[4]["after"] = '{"n": "forged"}'
    return entries


def _cut(count: int) -> None:
    """Delete the entries after `count` and set the head back, as a database owner could."""
    with _behind_the_triggers() as conn:
        conn.execute(delete(AuditEntry.__table__).where(AuditEntry.seq > count))
        last = conn.execute(select(AuditEntry.hash).where(AuditEntry.seq == count)).scalar_one()
        conn.execute(update(AuditHead.__table__).values(seq=count, last_hash=last))


def test_the_first_entry_is_the_keyed_marker(keyed_app):
    entries = _entries()
    assert entries[0].action == MARKER and entries[0].actor == "system"
    assert entries[0].hash == entry_hash(entries[0].payload(), REAL_KEY.encode())
    assert entries[1].hash == entry_hash(entries[1].payload(), REAL_KEY.encode())
    assert entries[1].hash != entry_hash(entries[1].payload())
    assert [e.action for e in entries].count(MARKER) == 1
    assert verify_chain().problem is None


def test_a_log_written_before_the_switch_keeps_its_unkeyed_hashes(app, runner):
    def legacy(_):
        return [
            {"at": utcnow(), "actor": "system", "action": "old_event", "object_id": str(n)}
            | dict.fromkeys(("actor_id", "object_type", "before", "after"))
            for n in (1, 2, 3)
        ]

    _rewrite(legacy)  # the log as the previous release wrote it
    old = [e.hash for e in _entries()]
    record("new_event", object_type="thing", object_id=1, actor=SYSTEM)
    db.session.commit()
    entries = _entries()
    assert [e.hash for e in entries[:3]] == old
    assert entries[3].action == MARKER and '"unkeyed_entries": 3' in entries[3].after
    assert entries[4].action == "new_event" and entries[4].prev_hash == entries[3].hash
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "intact: 5 entries" in result.output
    # An unkeyed entry is still checked by its own rule: the marker pins it.
    _tamper("UPDATE audit_entry SET object_id = '99' WHERE seq = 2")
    assert verify_chain().problem == ChainProblem(2, "content changed after it was written")


@pytest.mark.parametrize(
    "attacker_key", [None, DEFAULT_AUDIT_KEY.encode()], ids=["unkeyed", "guessed-key"]
)
def test_a_recomputed_chain_fails_without_the_key(keyed_app, attacker_key):
    _rewrite(_forge, attacker_key)
    problem = verify_chain().problem
    assert problem.seq == 1 and "content changed" in problem.reason
    assert "AUDIT_KEY" in problem.reason


def test_a_recomputed_chain_without_the_marker_fails(keyed_app):
    _rewrite(lambda entries: _forge(entries)[1:])
    problem = verify_chain().problem
    assert "no keyed entry" in problem.reason


def test_verify_needs_the_key_the_log_was_written_with(keyed_app, make_app):
    other = make_app(AUDIT_KEY="another-key-another-key-another-key")
    with other.app_context():
        result = other.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert "BROKEN at entry 1" in result.output and "VEHICLEWATCH_AUDIT_KEY" in result.output


def test_anchor_prints_the_count_and_head(keyed_app):
    runner = keyed_app.test_cli_runner()
    result = runner.invoke(args=["audit", "anchor"])
    assert result.exit_code == 0
    last = _entries()[-1]
    assert result.output.strip() == f"9:{last.hash}" and last.seq == 9


def test_a_cut_log_passes_alone_but_fails_against_an_anchor(keyed_app):
    runner = keyed_app.test_cli_runner()
    anchor = runner.invoke(args=["audit", "anchor"]).output.strip()
    _cut(6)
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0  # the head was reset too
    result = runner.invoke(args=["audit", "verify", "--anchor", anchor])
    assert result.exit_code == 1
    assert "BROKEN at entry 7" in result.output
    assert f"ends at entry 6 but anchor {anchor} is later" in result.output


def test_a_rewrite_with_the_key_fails_against_an_earlier_anchor(keyed_app):
    """Even someone holding the key cannot change history an anchor has seen."""
    runner = keyed_app.test_cli_runner()
    anchor = runner.invoke(args=["audit", "anchor"]).output.strip()
    _rewrite(_forge, REAL_KEY.encode())
    assert verify_chain().problem is None
    result = runner.invoke(args=["audit", "verify", "--anchor", anchor])
    assert result.exit_code == 1
    assert f"BROKEN at entry 9: differs from anchor {anchor}" in result.output


def test_anchors_appended_to_a_file_are_checked(keyed_app, tmp_path):
    runner = keyed_app.test_cli_runner()
    anchors = tmp_path / "anchors.txt"
    assert runner.invoke(args=["audit", "anchor", "--append", str(anchors)]).exit_code == 0
    record("test_event", object_type="thing", object_id=9, actor=SYSTEM)
    db.session.commit()
    assert runner.invoke(args=["audit", "anchor", "--append", str(anchors)]).exit_code == 0
    lines = anchors.read_text().splitlines()
    assert [line.split()[0] for line in lines] == [
        f"9:{_entries()[8].hash}",
        f"10:{_entries()[9].hash}",
    ]
    result = runner.invoke(args=["audit", "verify", "--anchors", str(anchors)])
    assert result.exit_code == 0 and "intact: 10 entries; 2 anchors checked" in result.output
    _cut(8)
    result = runner.invoke(args=["audit", "verify", "--anchors", str(anchors)])
    assert result.exit_code == 1 and "ends at entry 8" in result.output


def test_a_malformed_anchor_is_refused_clearly(keyed_app, tmp_path):
    runner = keyed_app.test_cli_runner()
    result = runner.invoke(args=["audit", "verify", "--anchor", "12:abc"])
    assert result.exit_code == 2 and "not an anchor (COUNT:HASH" in result.output
    anchors = tmp_path / "anchors.txt"
    anchors.write_text(f"# taken daily\n\n9:{'a' * 64} 2026-12-01\nnine:{'a' * 64}\n")
    result = runner.invoke(args=["audit", "verify", "--anchors", str(anchors)])
    assert result.exit_code == 2 and "line 4: not an anchor" in result.output


def test_anchor_goes_to_a_syslog_host(keyed_app):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as server:
        server.bind(("127.0.0.1", 0))
        server.settimeout(10)
        port = server.getsockname()[1]
        result = keyed_app.test_cli_runner().invoke(
            args=["audit", "anchor", "--syslog", f"127.0.0.1:{port}"]
        )
        assert result.exit_code == 0, result.output
        message = server.recv(4096).decode()
    assert message == f"<37>vehiclewatch: audit anchor 9:{_entries()[-1].hash}"
    result = keyed_app.test_cli_runner().invoke(args=["audit", "anchor", "--syslog", ":x"])
    assert result.exit_code == 1 and "not a syslog address" in result.output


def test_a_restore_explains_an_anchor_beyond_it(keyed_app):
    runner = keyed_app.test_cli_runner()
    anchor = runner.invoke(args=["audit", "anchor"]).output.strip()
    _cut(6)  # the database as an archive holds it, put back by a restore …
    archive_head = _entries()[-1].hash
    with pytest.raises(RestoreMismatch):
        record_restored(7, archive_head)
    entry = record_restored(6, archive_head)  # … which says so in the log
    assert entry.seq == 7 and entry.actor == "system" and entry.prev_hash == archive_head
    assert entry.hash == entry_hash(entry.payload(), REAL_KEY.encode())
    record("test_event", object_type="thing", object_id=10, actor=SYSTEM)
    db.session.commit()
    result = runner.invoke(args=["audit", "verify", "--anchor", anchor])
    assert result.exit_code == 0, result.output
    assert "restored to entry 6; anchor 9 is later" in result.output
    assert "intact: 8 entries; 1 anchors checked" in result.output


def test_a_forged_restore_entry_does_not_explain_a_cut(keyed_app):
    runner = keyed_app.test_cli_runner()
    anchor = runner.invoke(args=["audit", "anchor"]).output.strip()
    _cut(5)
    head = _entries()[-1]
    forged = AuditEntry(
        seq=6, at=utcnow(), actor="system", action=RESTORED, prev_hash=head.hash,
        after=json.dumps({"entry_count": 5, "head_hash": head.hash}),
    )  # fmt: skip
    forged.hash = entry_hash(forged.payload(), DEFAULT_AUDIT_KEY.encode())
    with _behind_the_triggers() as conn:
        conn.execute(
            insert(AuditEntry.__table__), {c: getattr(forged, c) for c in COLUMNS if c != "id"}
        )
        conn.execute(update(AuditHead.__table__).values(seq=6, last_hash=forged.hash))
    result = runner.invoke(args=["audit", "verify", "--anchor", anchor])
    assert result.exit_code == 1 and "restored to" not in result.output
    assert "BROKEN at entry 6: content changed" in result.output


def test_init_starts_the_keyed_chain_once(keyed_app):
    runner = keyed_app.test_cli_runner()
    _rewrite(lambda entries: [])
    for _ in range(2):
        result = runner.invoke(args=["init"])
        assert result.exit_code == 0, result.output
    assert [e.action for e in _entries()] == [MARKER]
    assert verify_chain() == (1, None, ())
