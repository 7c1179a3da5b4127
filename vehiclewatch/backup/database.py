"""The database part of a backup: a consistent snapshot with the facts the manifest records,
and its restore — SQLite through the online backup API, PostgreSQL through pg_dump and
pg_restore in custom format."""

import os
import re
import shutil
import sqlite3
import subprocess
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from flask_migrate import downgrade

from ..audit import AuditHead
from ..extensions import db
from ..reports.models import ReportPhoto

SQLITE_MEMBER = "database.sqlite3"
POSTGRES_MEMBER = "database.pgdump"
VERSION_TABLE = "alembic_version"


class DatabaseError(Exception):
    """The database cannot be saved or restored; the message says why, for the operator."""


@dataclass
class Facts:
    """What a snapshot holds, read in the snapshot itself."""

    revision: str | None
    tables: dict[str, int]
    audit_seq: int
    audit_hash: str
    photos: list[str]


@dataclass
class Snapshot:
    engine: str
    member: str
    path: Path
    facts: Facts
    dump_version: int | None = None  # pg_dump's major version


def engine_name() -> str:
    return db.engine.dialect.name


def _row_counts(conn: sa.Connection) -> dict[str, int]:
    tables = sorted(t for t in sa.inspect(conn).get_table_names() if t != VERSION_TABLE)
    return {
        name: conn.execute(sa.select(sa.func.count()).select_from(sa.table(name))).scalar_one()
        for name in tables
    }


def read_facts(conn: sa.Connection) -> Facts:
    if not sa.inspect(conn).has_table(VERSION_TABLE):
        raise DatabaseError("the database holds no vehiclewatch schema: nothing to back up")
    counts = _row_counts(conn)
    revision = conn.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar_one()
    head = conn.execute(sa.select(AuditHead.seq, AuditHead.last_hash)).one()
    photos = {
        name
        for row in conn.execute(sa.select(ReportPhoto.evidence_name, ReportPhoto.display_name))
        for name in row
    }
    return Facts(revision, counts, head.seq, head.last_hash, sorted(photos))


def stored_rows() -> dict[str, int]:
    """Rows per table in the instance's database, less the schema's own bookkeeping (the
    migration version and an audit head that has seen no entry); empty if it has no schema."""
    with db.engine.connect() as conn:
        counts = _row_counts(conn)
        if counts.get(AuditHead.__tablename__) == 1:
            counts[AuditHead.__tablename__] = conn.execute(sa.select(AuditHead.seq)).scalar_one()
    return {name: count for name, count in counts.items() if count}


def snapshot(staging: Path) -> Snapshot:
    """A consistent copy of the live database in `staging`, and its facts."""
    if engine_name() == "sqlite":
        return _sqlite_snapshot(staging)
    if engine_name() == "postgresql":
        return _postgres_snapshot(staging)
    raise DatabaseError(f"backup does not support the {engine_name()} engine")


def restore(path: Path, engine: str, dump_version: int | None) -> None:
    """Load a snapshot into this instance's (empty) database, in one step."""
    if engine != engine_name():
        raise DatabaseError(
            f"the archive holds a {engine} database; this instance runs on {engine_name()}: "
            f"restore it into an instance on {engine}"
        )
    if engine == "sqlite":
        _sqlite_restore(path)
    else:
        _postgres_restore(path, dump_version)


# SQLite -------------------------------------------------------------------------------


def _sqlite_path() -> str:
    return db.engine.url.database


def _sqlite_snapshot(staging: Path) -> Snapshot:
    if not Path(_sqlite_path()).is_file():
        raise DatabaseError(f"there is no database at {_sqlite_path()}: nothing to back up")
    target = staging / SQLITE_MEMBER
    # One step: the copy is taken in a single read transaction, so it is consistent
    # while the service goes on writing (WAL lets writers proceed meanwhile).
    with (
        closing(sqlite3.connect(_sqlite_path(), timeout=30)) as source,
        closing(sqlite3.connect(target)) as copy,
    ):
        source.backup(copy)
    engine = sa.create_engine(f"sqlite:///{target}", poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            facts = read_facts(conn)
    finally:
        engine.dispose()
    return Snapshot("sqlite", SQLITE_MEMBER, target, facts)


def _sqlite_restore(path: Path) -> None:
    db.session.remove()
    db.engine.dispose()
    with (
        closing(sqlite3.connect(path)) as source,
        closing(sqlite3.connect(_sqlite_path(), timeout=30)) as target,
    ):
        source.backup(target)  # replaces the whole target database at once
    db.engine.dispose()


# PostgreSQL ---------------------------------------------------------------------------


def _libpq_target() -> tuple[str, dict[str, str]]:
    """The database as a libpq URI for the client tools; the password goes in the
    environment, never on a command line."""
    url = db.engine.url
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    uri = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return uri, env


def _server_major(conn: sa.Connection) -> int:
    return int(conn.execute(sa.text("SHOW server_version_num")).scalar_one()) // 10000


def _client_major(tool: str, needed: int) -> int:
    """The major version of a PostgreSQL client tool, which must be at least `needed`."""
    install = f"install postgresql-client-{needed} (Debian) or newer"
    path = shutil.which(tool)
    if path is None:
        raise DatabaseError(f"{tool} is not installed: {install}")
    result = subprocess.run([path, "--version"], capture_output=True, text=True)
    found = re.search(r"PostgreSQL\)\s+(\d+)", result.stdout)
    if result.returncode != 0 or found is None:
        raise DatabaseError(f"cannot tell the version of {path}: {install}")
    major = int(found.group(1))
    if major < needed:
        raise DatabaseError(
            f"{tool} is version {major}, older than the {needed} it needs here: {install}"
        )
    return major


def _run(command: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        detail = result.stderr.strip().splitlines()
        raise DatabaseError(f"{command[0]} failed: {detail[-1] if detail else result.returncode}")


def _postgres_snapshot(staging: Path) -> Snapshot:
    target = staging / POSTGRES_MEMBER
    uri, env = _libpq_target()
    with db.engine.connect() as conn:
        conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            dump_version = _client_major("pg_dump", _server_major(conn))
            # pg_dump reads the very snapshot the facts are read in.
            snapshot_id = conn.execute(sa.text("SELECT pg_export_snapshot()")).scalar_one()
            facts = read_facts(conn)
            _run(
                [
                    "pg_dump",
                    "--format=custom",
                    f"--snapshot={snapshot_id}",
                    f"--file={target}",
                    f"--dbname={uri}",
                ],
                env,
            )
    return Snapshot("postgresql", POSTGRES_MEMBER, target, facts, dump_version)


def _postgres_restore(path: Path, dump_version: int | None) -> None:
    with db.engine.connect() as conn:
        server = _server_major(conn)
    _client_major("pg_restore", max(server, dump_version or 0))
    if sa.inspect(db.engine).get_table_names():
        # An instance that ran `init` but holds no data: its schema makes way for the
        # archive's, which the migrations then bring up to this code's head.
        db.session.remove()
        downgrade(directory=current_app.extensions["migrate"].directory, revision="base")
        with db.engine.begin() as conn:
            conn.execute(sa.text(f"DROP TABLE IF EXISTS {VERSION_TABLE}"))
    uri, env = _libpq_target()
    _run(
        [
            "pg_restore",
            "--exit-on-error",
            "--single-transaction",
            "--no-owner",
            "--no-privileges",
            f"--dbname={uri}",
            str(path),
        ],
        env,
    )
    db.engine.dispose()
