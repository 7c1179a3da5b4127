"""Migrations upgrade databases that hold data, in SecureDrop's style: data is written at the
revision before a migration (with that revision's tables, not today's models), the database
is upgraded, and what a user relies on is checked: the first release's receipts still find
their reports, contacts still decrypt, photos still serve; data migrations move what they
should and nothing else."""

import uuid
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask_migrate import upgrade

from vehiclewatch import create_app
from vehiclewatch.auth.models import User
from vehiclewatch.auth.services import hash_password
from vehiclewatch.auth.tokens import authenticate, token_digest
from vehiclewatch.extensions import db
from vehiclewatch.reports import protection
from vehiclewatch.reports.photos import write_photo_files
from vehiclewatch.reports.photostore import photo_dir

from .conftest import BASE_CONFIG, PASSWORD, AuthActions, enrol_authenticator, fresh_database
from .photo_samples import processed_photo

FIRST_RELEASE = "0009"  # tagged v0.1.0


@pytest.fixture
def old_database(tmp_path):
    """An app on an empty database; `at(revision)` migrates it up to that revision and
    returns a function that inserts rows through the tables as they are at that point."""
    with fresh_database(tmp_path) as uri:
        app = create_app(BASE_CONFIG | {"SQLALCHEMY_DATABASE_URI": uri}, str(tmp_path / "instance"))

        def at(revision: str):
            with app.app_context():
                upgrade(directory=app.extensions["migrate"].directory, revision=revision)

        def insert(table: str, **values) -> int:
            with app.app_context(), db.engine.begin() as conn:
                reflected = sa.Table(table, sa.MetaData(), autoload_with=conn)
                # Columns a later revision dropped (session_token) are left out before it.
                known = {k: v for k, v in values.items() if k in reflected.c}
                result = conn.execute(sa.insert(reflected).values(**known))
                return result.inserted_primary_key[0]

        def to_head():
            with app.app_context():
                upgrade(directory=app.extensions["migrate"].directory)

        app.at, app.insert, app.to_head = at, insert, to_head
        yield app
        with app.app_context():
            db.engine.dispose()


NOW = datetime(2026, 11, 20, 4, 0)  # naive UTC, as every revision stored times


def _car(app, unit: int) -> int:
    return app.insert(
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
    vehicle = _car(app, unit)
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
        # The first release had no second factor: the officer sets one up at first sign-in.
        enrol_authenticator(
            db.session.execute(sa.select(User).where(User.username == "officer-city")).scalar_one()
        )
        officer = app.test_client()
        assert AuthActions(officer).login("officer-city", PASSWORD).status_code == 302
        revealed = officer.post(f"/review/reports/{city['scanned']}/reveal")
        assert "李某某" in revealed.text and "13800000000" in revealed.text
        with officer.get(f"/review/photos/{city['photo']}/display.jpg") as photo:
            assert photo.status_code == 200 and photo.data[:3] == b"\xff\xd8\xff"
        closed = officer.get(f"/review/reports/{city['closed']}")
        assert "予以了结" in closed.text


def _before(app, revision: str) -> str:
    with app.app_context():
        directory = app.extensions["migrate"].directory
        config = app.extensions["migrate"].migrate.get_config(directory)
        return ScriptDirectory.from_config(config).get_revision(revision).down_revision


def test_typed_plates_become_manual_entries(old_database):
    app = old_database
    app.at(_before(app, "0020"))
    with app.app_context():
        city = _first_release_city(app)
    app.to_head()
    with app.app_context():
        sources = dict(db.session.execute(sa.text("SELECT id, source FROM report")).all())
    assert sources[city["typed"]] == "manual"
    assert sources[city["scanned"]] == "scan"  # scanned from a sticker: unchanged
    assert sources[city["closed"]] == "call_letter"


def test_trip_approvals_and_sealing_get_their_first_version(old_database):
    app = old_database
    app.at(_before(app, "0022a"))
    unit = app.insert(
        "unit", code="city", name="示例市", kind="city", escalated=False, path="/city/"
    )
    vehicle = _car(app, unit)
    period = app.insert(
        "holiday_period",
        name="春节",
        start=date(2027, 2, 6),
        end=date(2027, 2, 12),
        region="national",
        makeup_workdays="",
    )
    entered = {"entered_at": NOW, "entered_by_id": None}
    trip = app.insert(
        "trip_approval",
        vehicle_id=vehicle,
        purpose="下乡检查",
        destination="",
        start_at=NOW,
        end_at=NOW + timedelta(hours=2),
        driver="赵师傅",
        approver="",
        emergency=False,
        **entered,
    )
    sealing = app.insert(
        "sealing",
        vehicle_id=vehicle,
        holiday_period_id=period,
        place="车库",
        key_holder="张三",
        exempt=False,
        exemption_reason="",
        exemption_approver="",
        **entered,
    )
    app.to_head()
    with app.app_context():
        trips = db.session.execute(
            sa.text(
                "SELECT v.trip_approval_id, v.number, v.change, v.driver, t.version, "
                "t.cancelled_at FROM trip_approval_version v "
                "JOIN trip_approval t ON t.id = v.trip_approval_id"
            )
        ).all()
        sealings = db.session.execute(
            sa.text("SELECT sealing_id, number, change, place FROM sealing_version")
        ).all()
    assert [tuple(r) for r in trips] == [(trip, 1, "entered", "赵师傅", 1, None)]
    assert [tuple(r) for r in sealings] == [(sealing, 1, "entered", "车库")]


def test_tokens_issued_before_four_eyes_keep_working(old_database):
    app = old_database
    app.at(_before(app, "0022h"))
    unit = app.insert(
        "unit", code="city", name="示例市", kind="city", escalated=False, path="/city/"
    )
    with app.app_context():
        digest = token_digest("vwt_before")
    app.insert(
        "api_token",
        name="运维签发",
        unit_id=unit,
        scopes=["reports:read"],
        token_hash=digest,
        created_at=NOW,
        created_by_id=None,
    )
    app.to_head()
    with app.app_context():
        assert authenticate("vwt_before").scopes == {"reports:read"}
        confirmed = db.session.execute(sa.text("SELECT confirmed_at FROM api_token")).scalar_one()
    assert str(confirmed).startswith("2026-11-20 04:00")
