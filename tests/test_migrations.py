"""Migrations run up from empty on the configured engine, with one head, matching the models."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import upgrade
from sqlalchemy import inspect

from vehiclewatch.extensions import db


def test_single_head(app):
    config = app.extensions["migrate"].migrate.get_config(app.extensions["migrate"].directory)
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1


def test_upgrade_from_empty_matches_the_models(make_app, database_uri):
    app = make_app()
    with app.app_context():
        # The fixture database is already migrated; an upgrade again must be a no-op.
        upgrade(directory=app.extensions["migrate"].directory)
        tables = set(inspect(db.engine).get_table_names())
        assert {"unit", "user_account", "vehicle", "audit_entry", "audit_head"} <= tables
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
        assert diff == []


def test_upgrade_on_a_really_empty_database(tmp_path):
    import sqlalchemy as sa

    from vehiclewatch import create_app

    from .conftest import BASE_CONFIG, POSTGRES_URL, _pg_admin_engine

    if POSTGRES_URL:
        url, admin = _pg_admin_engine()
        name = f"vw_empty_{tmp_path.name[-12:].lower().replace('-', '_')}"
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        uri = url.set(database=name).render_as_string(hide_password=False)
    else:
        uri = f"sqlite:///{tmp_path}/empty.sqlite3"
    app = create_app(BASE_CONFIG | {"SQLALCHEMY_DATABASE_URI": uri})
    try:
        with app.app_context():
            assert inspect(db.engine).get_table_names() == []
            upgrade(directory=app.extensions["migrate"].directory)
            assert "audit_entry" in inspect(db.engine).get_table_names()
            db.engine.dispose()
    finally:
        if POSTGRES_URL:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


QUEUE_INDEXES = ("ix_report_state_queue", "ix_report_unit_state_queue", "ix_report_working_queue")


def _score_descending(conn, index: str) -> bool:
    if conn.dialect.name == "sqlite":
        columns = conn.exec_driver_sql(f"PRAGMA index_xinfo({index})").all()
        return any(row.name == "score" and row.desc == 1 for row in columns)
    definition = conn.exec_driver_sql(
        "SELECT pg_get_indexdef(oid) FROM pg_class WHERE relname = %(name)s", {"name": index}
    ).scalar_one()
    return "score DESC" in definition


def test_queue_indexes_order_score_descending(app):
    """A migration that rebuilds the report table on SQLite must not leave the queue's indexes
    ascending: the queue pages are ordered by score descending through them."""
    with app.app_context(), db.engine.connect() as conn:
        assert {index: _score_descending(conn, index) for index in QUEUE_INDEXES} == dict.fromkeys(
            QUEUE_INDEXES, True
        )
