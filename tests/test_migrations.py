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
