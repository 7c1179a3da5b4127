"""The reference for the HTTP benchmarks: the least a Flask app can do per request, served
by the same gunicorn configuration as vehiclewatch (BENCH_REFERENCE_DATABASE_URL)."""

import os
import sqlite3
from pathlib import Path

from flask import Flask, render_template, request
from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    event,
    insert,
    select,
)

metadata = MetaData()
item = Table(
    "item",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(80)),
    Column("note", String(200)),
)


def _engine(url: str):
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    engine = create_engine(url)

    @event.listens_for(engine, "connect")
    def pragmas(dbapi_connection, connection_record):
        # The same settings vehiclewatch puts on every SQLite connection.
        if isinstance(dbapi_connection, sqlite3.Connection):
            for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=5000"):
                dbapi_connection.execute(f"PRAGMA {pragma}")

    return engine


def create_schema(url: str, rows: int = 100) -> None:
    engine = _engine(url)
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(item), [{"name": f"第{n}号", "note": "参考页面"} for n in range(rows)])
    engine.dispose()


app = Flask(__name__, template_folder=str(Path(__file__).parent / "reference_templates"))
engine = _engine(os.environ.get("BENCH_REFERENCE_DATABASE_URL", "sqlite://"))


@app.get("/bare")
def bare():
    return "ok"


@app.get("/item/<int:item_id>")
def show(item_id: int):
    with engine.connect() as conn:
        row = conn.execute(select(item).where(item.c.id == item_id)).one_or_none()
    if row is None:
        return "not found", 404
    return render_template("item.html", item=row)


@app.post("/item")
def add():
    with engine.begin() as conn:
        conn.execute(insert(item).values(name=request.form["name"], note=request.form["note"]))
    return "stored", 201
