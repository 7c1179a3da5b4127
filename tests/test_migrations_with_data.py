"""Migrations upgrade databases that hold data, in SecureDrop's style: data is written at the
revision before a migration (with that revision's tables, not today's models), the database
is upgraded, and what a user relies on is checked: the first release's receipts still find
their reports, contacts still decrypt, photos still serve; data migrations move what they
should and nothing else."""

import uuid
from contextlib import contextmanager
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from vehiclewatch import create_app
from vehiclewatch.auth.services import hash_password
from vehiclewatch.extensions import db
from vehiclewatch.reports import protection
from vehiclewatch.reports.photos import write_photo_files
from vehiclewatch.reports.photostore import photo_dir

from .conftest import BASE_CONFIG, PASSWORD, POSTGRES_URL, AuthActions, _pg_admin_engine
from .test_photos_helpers import processed_photo

FIRST_RELEASE = "0009"  # tagged v0.1.0


@contextmanager
def _empty_database(tmp_path):
    if not POSTGRES_URL:
        yield f"sqlite:///{tmp_path}/upgrade.sqlite3"
        return
    url, admin = _pg_admin_engine()
    name = f"vw_upgrade_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def old_database(tmp_path):
    """An app on an empty database; `at(revision)` migrates it up to that revision and
    returns a function that inserts rows through the tables as they are at that point."""
    with _empty_database(tmp_path) as uri:
        app = create_app(BASE_CONFIG | {"SQLALCHEMY_DATABASE_URI": uri}, str(tmp_path / "instance"))

        def at(revision: str):
            with app.app_context():
                upgrade(directory=app.extensions["migrate"].directory, revision=revision)

        def insert(table: str, **values) -> int:
            with app.app_context(), db.engine.begin() as conn:
                reflected = sa.Table(table, sa.MetaData(), autoload_with=conn)
                result = conn.execute(sa.insert(reflected).values(**values))
                return result.inserted_primary_key[0]

        def to_head():
            with app.app_context():
                upgrade(directory=app.extensions["migrate"].directory)

        app.at, app.insert, app.to_head = at, insert, to_head
        yield app
        with app.app_context():
            db.engine.dispose()


NOW = datetime(2026, 11, 20, 4, 0)  # naive UTC, as every revision stored times


def _first_release_city(app) -> dict:
    """What a city running v0.1.0 holds: a unit, an officer who may reveal contacts, a car
    with its sticker, and a real-name report with a photo, as that release wrote them."""
    unit = app.insert(
        "unit", code="city", name="示例市", kind="city", escalated=False, path="/city/"
    )
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE unit SET jurisdiction_id = :u, oversight_id = :u WHERE id = :u"),
            {"u": unit},
        )
        password_hash = hash_password(PASSWORD)
        submission = protection.new_submission_id()
        receipt = protection.receipt_for(submission)
        name_enc = protection.encrypt_contact("李某某")
        phone_enc = protection.encrypt_contact("13800000000")
        photo_names = write_photo_files(photo_dir(), processed_photo())
    app.insert(
        "user_account",
        username="officer-city",
        display_name="王干部",
        password_hash=password_hash,
        role="officer",
        unit_id=unit,
        can_reveal_contact=True,
        active=True,
        session_token=uuid.uuid4().hex,
        created_at=NOW,
    )
    vehicle = app.insert(
        "vehicle",
        plate="藏A·12345",
        unit_id=unit,
        category="other",
        brand_model="",
        colour="",
        status="in_use",
        publicly_marked=True,
        created_at=NOW,
        updated_at=NOW,
    )
    sticker = app.insert(
        "sticker",
        vehicle_id=vehicle,
        token="A" * 24,
        short_code="ABCDEFGH",
        generation=1,
        url="http://127.0.0.1:5000/v/" + "A" * 24,
        qr_modules="1",
        issued_at=NOW,
        needs_reprint=False,
    )
    common = {
        "unit_id": unit,
        "seen_at": NOW - timedelta(hours=3),
        "place": "饭店门口",
        "category": "private_use",
        "description": "婚宴酒店门口",
        "state": "submitted",
        "state_changed_at": NOW,
        "score": 0,
        "score_details": "{}",
        "created_at": NOW,
        "version": 1,
        "flagged": False,
    }
    scanned = app.insert(
        "report",
        vehicle_id=vehicle,
        sticker_id=sticker,
        real_name=True,
        reporter_name_enc=name_enc,
        reporter_phone_enc=phone_enc,
        receipt_hash=protection.receipt_hash(receipt),
        submission_hash=protection.submission_hash(submission),
        source="scan",
        **common,
    )
    photo = app.insert(
        "report_photo",
        report_id=scanned,
        evidence_name=photo_names[0],
        display_name=photo_names[1],
        width=1600,
        height=1200,
        source_format="JPEG",
        added_at=NOW,
    )
    typed = app.insert(
        "report",
        typed_plate="藏A·12345",
        vehicle_id=vehicle,
        real_name=False,
        receipt_hash=protection.receipt_hash(protection.receipt_for("typed")),
        source="scan",  # what v0.1.0 stored for a typed plate
        **common,
    )
    closed = app.insert(
        "report",
        vehicle_id=vehicle,
        real_name=False,
        receipt_hash=protection.receipt_hash(protection.receipt_for("closed")),
        source="call_letter",
        **(common | {"state": "pending_approval", "method": "closed", "finding": "false"}),
    )
    return {
        "receipt": receipt,
        "scanned": scanned,
        "typed": typed,
        "closed": closed,
        "photo": photo,
    }


def test_the_first_release_with_data_upgrades_to_head(old_database):
    app = old_database
    app.at(FIRST_RELEASE)
    with app.app_context():
        city = _first_release_city(app)
    app.to_head()
    with app.app_context():
        tracked = app.test_client().post("/track", data={"receipt": city["receipt"]})
        assert tracked.status_code == 200 and "已收到，待受理" in tracked.text
        officer = app.test_client()
        assert AuthActions(officer).login("officer-city", PASSWORD).status_code == 302
        revealed = officer.post(f"/review/reports/{city['scanned']}/reveal")
        assert "李某某" in revealed.text and "13800000000" in revealed.text
        with officer.get(f"/review/photos/{city['photo']}/display.jpg") as photo:
            assert photo.status_code == 200 and photo.data[:3] == b"\xff\xd8\xff"
        closed = officer.get(f"/review/reports/{city['closed']}")
        assert "予以了结" in closed.text


def test_typed_plates_become_manual_entries(old_database):
    app = old_database
    app.at("0013")
    with app.app_context():
        city = _first_release_city(app)
    app.to_head()
    with app.app_context():
        sources = dict(db.session.execute(sa.text("SELECT id, source FROM report")).all())
    assert sources[city["typed"]] == "manual"
    assert sources[city["scanned"]] == "scan"  # scanned from a sticker: unchanged
    assert sources[city["closed"]] == "call_letter"
