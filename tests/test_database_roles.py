"""Least privilege on PostgreSQL: migrations run as the owner role, the application's role
may read and write but only append to the audit log."""

import uuid

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import ProgrammingError

from vehiclewatch import audit, create_app
from vehiclewatch.audit import AuditEntry
from vehiclewatch.auditcheck import verify_chain
from vehiclewatch.auth.models import UnitKind
from vehiclewatch.auth.services import create_unit
from vehiclewatch.extensions import db

from .conftest import BASE_CONFIG, POSTGRES_URL, _pg_admin_engine

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="SQLite has no database roles")


@pytest.fixture
def roles():
    """An owner role, an application role and an empty database the owner owns; all three
    uniquely named (the cluster is shared) and dropped afterwards."""
    url, admin = _pg_admin_engine()
    suffix = uuid.uuid4().hex[:12]
    owner, app_role, name = f"vw_owner_{suffix}", f"vw_app_{suffix}", f"vw_roles_{suffix}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE ROLE "{owner}" LOGIN'))
        conn.execute(text(f'CREATE ROLE "{app_role}" LOGIN'))
        conn.execute(text(f'CREATE DATABASE "{name}" OWNER "{owner}"'))
    try:
        yield {
            "app_role": app_role,
            "DATABASE_URL": url.set(username=app_role, database=name),
            "MIGRATION_DATABASE_URL": url.set(username=owner, database=name),
        }
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'DROP ROLE IF EXISTS "{app_role}"'))
            conn.execute(text(f'DROP ROLE IF EXISTS "{owner}"'))
        admin.dispose()


REFUSED = [
    "UPDATE audit_entry SET actor = 'someone'",
    "DELETE FROM audit_entry",
    "TRUNCATE audit_entry",
    "ALTER TABLE audit_entry DISABLE TRIGGER USER",
    "ALTER TABLE audit_entry ADD COLUMN note text",
    "DROP TRIGGER audit_entry_no_change ON audit_entry",
    "DROP TRIGGER audit_entry_no_truncate ON audit_entry",
    "CREATE TRIGGER sneak BEFORE INSERT ON audit_entry "
    "FOR EACH ROW EXECUTE FUNCTION audit_entry_refuse()",
    "DROP TABLE audit_entry",
    "DELETE FROM audit_head",
]


def test_the_application_role_can_only_append_to_the_audit_log(roles, tmp_path):
    app = create_app(
        BASE_CONFIG
        | {
            "SQLALCHEMY_DATABASE_URI": roles["DATABASE_URL"].render_as_string(False),
            "MIGRATION_DATABASE_URL": roles["MIGRATION_DATABASE_URL"].render_as_string(False),
        },
        str(tmp_path),
    )
    with app.app_context():
        try:
            result = app.test_cli_runner().invoke(args=["init"])
            assert result.exit_code == 0, result.output
            assert f"database role {roles['app_role']}: reads and writes" in result.output
            assert "WARNING" not in result.output
            # The application works as its own role: its writes append to the log.
            create_unit("city", "示例市", UnitKind.CITY, None, actor=audit.SYSTEM)
            assert db.session.execute(select(text("current_user"))).scalar() == roles["app_role"]
            entries = db.session.execute(select(func.count()).select_from(AuditEntry)).scalar()
            assert entries == 2  # the keyed-chain marker and the new unit
            for statement in REFUSED:
                with pytest.raises(ProgrammingError, match="permission denied|must be owner"):
                    db.session.execute(text(statement))
                db.session.rollback()
            assert verify_chain() == (2, None, ())
        finally:
            db.session.remove()
            db.engine.dispose()


def test_init_warns_when_the_application_can_rewrite_the_log(runner):
    """The test suite's own role is the cluster's superuser: init says what that means."""
    result = runner.invoke(args=["init"])
    assert result.exit_code == 0
    assert "WARNING: the application's database role can rewrite the audit log" in result.output
    assert "VEHICLEWATCH_MIGRATION_DATABASE_URL" in result.output
