"""Key rotation (contact and receipt keys, old keys removed afterwards) and the retention
run (contacts and photos deleted when due, held reports untouched, dry runs change nothing)."""

import io
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from PIL import Image
from sqlalchemy import func, select, update

from vehiclewatch.audit import AuditEntry
from vehiclewatch.campaigns import services as services_campaigns
from vehiclewatch.campaigns.models import SpotCheckDraw
from vehiclewatch.config import DEFAULT_CONTACT_KEY, DEFAULT_RECEIPT_KEY
from vehiclewatch.extensions import db
from vehiclewatch.reports import filing, protection, retention
from vehiclewatch.reports import workflow as services
from vehiclewatch.reports.keys import ContactKeysMissing, check_contact_keys
from vehiclewatch.reports.models import Report, ReportPhoto
from vehiclewatch.reports.photos import process_photo
from vehiclewatch.reports.photostore import photo_dir
from vehiclewatch.timeutil import utcnow

from .conftest import AuthActions
from .test_spot_checks import LOTTERY, campaign_round, fleet  # noqa: F401 (fixtures)

NEW_CONTACT_KEY = Fernet.generate_key().decode()
NEW_RECEIPT_KEY = "a-new-receipt-key-of-at-least-32-characters"


def _invoke(app, *args):
    """Run a command on this app (its own context: the test's app has one pushed too)."""
    with app.app_context():
        return app.test_cli_runner().invoke(args=list(args))


def _audit_count(action: str) -> int:
    return db.session.scalar(select(func.count()).where(AuditEntry.action == action))


def _photo() -> list:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (40, 90, 160)).save(buffer, "JPEG")
    return [process_photo(buffer.getvalue())]


# Contact keys ---------------------------------------------------------------------------


def test_contact_key_rotation_then_old_key_removed(app, make_app, car, make_report, make_user, org):
    report, _ = make_report(car, reporter_name="张三", reporter_phone="13800001234")
    anonymous, _ = make_report(car)
    officer = make_user("officer", org["a"], can_reveal_contact=True)

    # The new key alone cannot open what the old one encrypted: refused, never shown empty.
    new_only = make_app(CONTACT_KEYS=NEW_CONTACT_KEY)
    with new_only.app_context():
        with pytest.raises(ContactKeysMissing, match="report.reporter_name_enc"):
            check_contact_keys()
        with pytest.raises(protection.UndecryptableContact):
            protection.decrypt_contact(db.session.get(Report, report.id).reporter_phone_enc)
    refused = _invoke(new_only, "keys", "check")
    assert refused.exit_code == 1
    assert "refusing to start" in refused.output and "reporter_name_enc" in refused.output
    assert _invoke(new_only, "serve").exit_code == 1

    both = make_app(CONTACT_KEYS=f"{NEW_CONTACT_KEY},{DEFAULT_CONTACT_KEY}")
    first = _invoke(both, "keys", "rotate-contacts")
    assert first.exit_code == 0, first.output
    assert "report.reporter_name_enc: 1 re-encrypted" in first.output
    assert "report.reporter_phone_enc: 1 re-encrypted" in first.output
    again = _invoke(both, "keys", "rotate-contacts")  # resumes: nothing left to do
    assert "report.reporter_phone_enc: 0 re-encrypted" in again.output
    with both.app_context():
        # One per batch of each column: names, phones and the officer's TOTP secret.
        assert _audit_count("contact_key_rotated") == 3

    with new_only.app_context():
        check_contact_keys()
        stored = db.session.get(Report, report.id)
        assert protection.decrypt_contact(stored.reporter_phone_enc) == "13800001234"
        assert db.session.get(Report, anonymous.id).reporter_phone_enc is None
    assert _invoke(new_only, "keys", "check").exit_code == 0
    client = new_only.test_client()
    AuthActions(client).login(officer)
    page = client.post(f"/review/reports/{report.id}/reveal").get_data(as_text=True)
    assert "张三 · 13800001234" in page


def test_sealed_seeds_are_rotated_too(app, make_app, campaign_round, fleet, org, make_user):  # noqa: F811
    draw = services_campaigns.draw_spot_checks(
        campaign_round.key,
        3,
        make_user("leader", org["city"]),
        None,
        public_source=LOTTERY,
        today=utcnow().date(),
    )
    after_round = draw.round_end + timedelta(days=1)
    seed = services_campaigns.revealed_seed(draw, after_round)

    result = _invoke(
        make_app(CONTACT_KEYS=f"{NEW_CONTACT_KEY},{DEFAULT_CONTACT_KEY}"), "keys", "rotate-contacts"
    )
    assert "spot_check_draw.seed_enc: 1 re-encrypted" in result.output
    with make_app(CONTACT_KEYS=NEW_CONTACT_KEY).app_context():
        stored = db.session.get(SpotCheckDraw, draw.id)
        assert services_campaigns.revealed_seed(stored, after_round) == seed


# Receipt keys ---------------------------------------------------------------------------


def _receipt_status(app) -> str:
    result = _invoke(app, "keys", "receipt-status")
    assert result.exit_code == 0, result.output
    return result.output


def test_receipt_key_rotation_then_old_key_removed(app, make_app, car, make_report):
    (first, first_receipt), (second, second_receipt) = make_report(car), make_report(car)
    old_id = protection.receipt_key_id(DEFAULT_RECEIPT_KEY)
    new_id = protection.receipt_key_id(NEW_RECEIPT_KEY)

    both = make_app(RECEIPT_KEY=f"{NEW_RECEIPT_KEY},{DEFAULT_RECEIPT_KEY}")
    assert f"{new_id}  newest: 0 reports" in _receipt_status(both)
    assert f"{old_id}  key 2 (old): 2 reports" in _receipt_status(both)

    client = both.test_client()
    status = client.post("/track", data={"receipt": first_receipt})
    assert status.status_code == 200
    assert f"{old_id}  key 2 (old): 1 reports" in _receipt_status(both)
    with both.app_context():
        assert filing.find_by_receipt(second_receipt).id == second.id
        assert _audit_count("receipt_rehashed") == 2
        assert db.session.scalar(select(Report.receipt_key).where(Report.id == first.id)) == new_id
    assert f"{old_id}  key 2 (old): 0 reports" in _receipt_status(both)

    new_only = make_app(RECEIPT_KEY=NEW_RECEIPT_KEY)
    assert old_id not in _receipt_status(new_only)
    client = new_only.test_client()
    for receipt in (first_receipt, second_receipt):
        assert client.post("/track", data={"receipt": receipt}).status_code == 200
    assert client.post("/track", data={"receipt": "A" * 20}).status_code == 404


def test_receipts_of_a_removed_key_are_counted(app, make_app, car, make_report):
    make_report(car)
    output = _receipt_status(make_app(RECEIPT_KEY=NEW_RECEIPT_KEY))
    assert "not configured: these receipts can no longer be looked up: 1 reports" in output


# Retention ------------------------------------------------------------------------------


@pytest.fixture
def people(org, make_user):
    return {
        "officer": make_user("officer", org["a"], can_reveal_contact=True),
        "leader": make_user("leader", org["a"]),
    }


def _closed(make_report, car, people, *, days_ago: int, **outcome):
    """A real-name report with a photo, answered `days_ago` days ago."""
    report, _ = make_report(
        car, reporter_name="李四", reporter_phone="13900001111", photos=_photo()
    )
    officer, leader = people["officer"], people["leader"]
    services.transition(report, "accept", officer)
    services.transition(report, "verify", officer, method="preliminary")
    services.transition(
        report,
        "propose",
        officer,
        finding=outcome.get("finding", "false"),
        outcome=outcome.get("outcome", "none"),
    )
    services.transition(report, "approve", leader)
    services.transition(report, "reply", officer, reply="经核实，情况不属实。")
    when = utcnow() - timedelta(days=days_ago)
    db.session.execute(
        update(Report)
        .where(Report.id == report.id)
        .values(replied_at=when, state_changed_at=when)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    db.session.expire_all()
    return report.id


def _files(report_id: int) -> list[Path]:
    photos = db.session.scalars(select(ReportPhoto).where(ReportPhoto.report_id == report_id))
    return [photo_dir() / n for p in photos for n in (p.evidence_name, p.display_name)]


def test_retention_purges_contacts_and_photos_and_keeps_the_case(
    app, car, make_report, people, client
):
    # Answered 30 (objection window) + 365 days ago: contacts (180) and photos (365) due.
    due = _closed(make_report, car, people, days_ago=400)
    # Contacts due, photos not yet.
    contacts_only = _closed(make_report, car, people, days_ago=250)
    # Substantiated with an outcome: photos kept for the finding period.
    substantiated = _closed(
        make_report, car, people, days_ago=400, finding="true", outcome="criticism"
    )
    held = _closed(make_report, car, people, days_ago=400)
    recent = _closed(make_report, car, people, days_ago=40)
    retention.set_legal_hold(db.session.get(Report, held), True, actor=people["leader"])
    files = _files(due)
    assert files and all(f.exists() for f in files)
    audit_before = db.session.scalar(select(func.count()).select_from(AuditEntry))

    dry = app.test_cli_runner().invoke(args=["retention", "apply", "--dry-run"])
    assert f"would delete contacts of 3 reports: [{due}, {contacts_only}, {substantiated}]" in (
        dry.output
    )
    assert f"would delete photos of 1 reports: [{due}]" in dry.output
    db.session.expire_all()
    assert db.session.get(Report, due).reporter_phone_enc is not None
    assert all(f.exists() for f in files)
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == audit_before

    result = app.test_cli_runner().invoke(args=["retention", "apply"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    purged = db.session.get(Report, due)
    assert (purged.reporter_name_enc, purged.reporter_phone_enc) == (None, None)
    assert purged.real_name and purged.state == "answered" and purged.public_reply
    assert purged.photos == [] and not any(f.exists() for f in files)
    assert db.session.get(Report, contacts_only).reporter_phone_enc is None
    assert len(db.session.get(Report, contacts_only).photos) == 1
    assert len(db.session.get(Report, substantiated).photos) == 1
    for untouched in (held, recent):
        report = db.session.get(Report, untouched)
        assert report.reporter_phone_enc is not None and len(report.photos) == 1
        assert all(f.exists() for f in _files(untouched))
    assert _audit_count("retention_purged") == 3  # one per report purged
    assert _audit_count("report_filed") == 5  # the audit trail stays

    again = app.test_cli_runner().invoke(args=["retention", "apply"])
    assert "deleted contacts of 0 reports" in again.output

    AuthActions(client).login(people["officer"])
    page = client.get(f"/review/reports/{due}").get_data(as_text=True)
    assert "联系方式已按保存期限删除" in page and "照片已按保存期限删除" in page
    revealed = client.post(f"/review/reports/{due}/reveal").get_data(as_text=True)
    assert "联系方式已按保存期限删除" in revealed and "13900001111" not in revealed


def test_only_a_leader_of_the_scope_places_a_hold(app, car, make_report, people, org, login_as):
    report, _ = make_report(car)
    officer_client, _ = login_as("officer", org["a"])
    assert (
        officer_client.post(f"/review/reports/{report.id}/hold", data={"hold": "1"}).status_code
        == 403
    )
    other_leader, _ = login_as("leader", org["b"])
    assert (
        other_leader.post(f"/review/reports/{report.id}/hold", data={"hold": "1"}).status_code
        == 404
    )
    leader_client, _ = login_as("leader", org["a"])
    page = leader_client.get(f"/review/reports/{report.id}").get_data(as_text=True)
    assert "设置法律保全（暂停删除）" in page
    response = leader_client.post(
        f"/review/reports/{report.id}/hold", data={"hold": "1"}, follow_redirects=True
    )
    assert "法律保全中" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Report, report.id).legal_hold
    assert _audit_count("legal_hold_placed") == 1
    leader_client.post(f"/review/reports/{report.id}/hold", data={"hold": "0"})
    db.session.expire_all()
    assert not db.session.get(Report, report.id).legal_hold
    assert _audit_count("legal_hold_lifted") == 1
