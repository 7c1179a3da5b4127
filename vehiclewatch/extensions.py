"""Flask extensions, created unbound and attached to the app in create_app()."""

import sqlite3

from flask_babel import Babel
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

from .clients import client_key


class Base(DeclarativeBase):
    # Named constraints, so migrations can alter them on every engine.
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
csrf = CSRFProtect()
login_manager = LoginManager()
babel = Babel()
# Rate-limit keys live only in the limiter's store (memory, or Redis when configured).
limiter = Limiter(key_func=client_key, default_limits=[])


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """WAL, a 10 s busy timeout (writers queue for the lock) and foreign keys on every SQLite
    connection."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(connection):
    """A write transaction (inside `transaction.atomic()`) begins with BEGIN IMMEDIATE, so a
    writer waits (busy_timeout) for the lock at its start instead of failing halfway, and
    SAVEPOINTs nest inside it: the driver's own transaction handling is switched off for it
    (SQLAlchemy's pysqlite recipe). Reads keep the driver's default, which runs each SELECT
    on its own and so always sees the latest commit, as PostgreSQL's read committed does."""
    if connection.dialect.name != "sqlite":
        return
    from .transaction import writing

    dbapi_connection = connection.connection.dbapi_connection
    if writing():
        dbapi_connection.isolation_level = None
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    elif dbapi_connection.isolation_level is None:
        dbapi_connection.isolation_level = ""
