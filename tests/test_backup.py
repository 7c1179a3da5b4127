"""Backup and restore: an archive made while reports are being filed restores into a fresh
instance with the same reports, photos, receipts, contacts and audit log; damaged archives,
wrong keys and non-empty targets are refused with a message that says why."""

import hashlib
import io
import json
import os
import re
import tarfile
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyrage
import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask_migrate import upgrade

from vehiclewatch import audit
from vehiclewatch.audit import AuditEntry
from vehiclewatch.extensions import db
from vehiclewatch.fleet.stickers import issue_sticker
from vehiclewatch.reports.models import Report, ReportPhoto
from vehiclewatch.reports.photostore import photo_dir, photo_store
from vehiclewatch.timeutil import local_zone

from .conftest import BOTH_STORES, PASSWORD, POSTGRES_URL, AuthActions, receipt_on
from .conftest import _pg_admin_engine as pg_admin_engine
from .photo_samples import jpeg_bytes

DESCRIPTION = "婚宴酒店门口停着一辆公车，车上贴着一车一码"
PHONE = "13800001234"


def cli(app, *args):
    """Run a vehiclewatch command against `app`, as an operator would."""
    with app.app_context():
        return app.test_cli_runner().invoke(args=[str(a) for a in args])


def count(app, model, *where) -> int:
    with app.app_context():
        query = sa.select(sa.func.count()).select_from(model).where(*where)
        return db.session.execute(query).scalar_one()


def photo_bytes(app, name: str) -> bytes:
    with app.app_context(), photo_store().open(name) as (_, handle):
        return handle.read()


def photo_checksums(app) -> dict[str, str]:
    with app.app_context():
        names = db.session.execute(sa.select(ReportPhoto.evidence_name, ReportPhoto.display_name))
        names = [n for r in names for n in r]
    return {n: hashlib.sha256(photo_bytes(app, n)).hexdigest() for n in names}


def file_report(app, token: str, address: str, **fields) -> tuple[int, str | None]:
    """A citizen files a report with a photo from the scan page; (status, receipt)."""
    env = {"REMOTE_ADDR": address}
    client = app.test_client()
    page = client.get(f"/v/{token}/report", environ_base=env).get_data(as_text=True)
    submission = re.search(r'name="submission_id" type="hidden" value="([^"]+)"', page).group(1)
    data = {
        "submission_id": submission,
        "category": "wedding_funeral",
        "seen_at": (datetime.now(local_zone()) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "place": "某某大酒店门口",
        "description": DESCRIPTION,
        "plate_matches": "yes",
        "photos": [(io.BytesIO(jpeg_bytes()), "IMG_0001.JPG")],
    } | fields
    response = client.post(
        f"/v/{token}/report", data=data, content_type="multipart/form-data", environ_base=env
    )
    found = 'id="receipt"' in response.text
    return response.status_code, receipt_on(response.text) if found else None


@dataclass
class Seeded:
    receipts: list[str]
    real_name_report_id: int
    tokens: list[str]


@pytest.fixture
def seeded(app, org, make_user, make_vehicle) -> Seeded:
    """Reports with photos, one with a real-name contact, and an officer who may see it."""
    cars = [make_vehicle(org["a-jy"], category="law_enforcement") for _ in range(2)]
    tokens = [issue_sticker(car, actor=audit.SYSTEM).token for car in cars]
    make_user("officer", org["a"], username="officer-a", can_reveal_contact=True)
    receipts = []
    for n in range(3):
        contact = {"reporter_name": "李某某", "reporter_phone": PHONE} if n == 0 else {}
        status, receipt = file_report(app, tokens[0], f"203.0.113.{n}", **contact)
        assert status == 200
        receipts.append(receipt)
    with app.app_context():
        real_name = db.session.execute(sa.select(Report.id).where(Report.real_name)).scalar_one()
    return Seeded(receipts, real_name, tokens)


@pytest.fixture
def fresh_instance(make_app, photo_location, tmp_path):
    """A new instance on a new database (PostgreSQL: a uniquely named one, dropped after)
    with its own photo directory; `initialised` runs the migrations first, as `init` would."""
    databases = []

    def factory(initialised: bool = False, **config):
        n = len(databases)
        if POSTGRES_URL:
            url, admin = pg_admin_engine()
            name = f"vw_restore_{os.getpid()}_{uuid.uuid4().hex[:8]}"
            with admin.connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
            admin.dispose()
            uri = url.set(database=name).render_as_string(hide_password=False)
        else:
            name = f"fresh-{n}"
            uri = f"sqlite:///{tmp_path}/{name}.sqlite3"
        databases.append(name)
        app = make_app(SQLALCHEMY_DATABASE_URI=uri, **photo_location(), **config)
        if initialised:
            with app.app_context():
                upgrade(directory=app.extensions["migrate"].directory)
        return app

    yield factory
    if POSTGRES_URL and databases:
        _, admin = pg_admin_engine()
        with admin.connect() as conn:
            for name in databases:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def assert_serves_the_same(source, target, seeded: Seeded) -> None:
    """Counts, photo checksums, a receipt look-up, a contact reveal and the audit log."""
    for model in (Report, ReportPhoto):
        assert count(target, model) == count(source, model)
    # The source's newest audit entry records the backup itself, written after its snapshot;
    # the target's newest says it was restored from the archive's head.
    assert count(target, AuditEntry) == count(source, AuditEntry)
    for instance, action in ((source, "backup_created"), (target, "restored")):
        with instance.app_context():
            newest = db.session.execute(
                sa.select(AuditEntry).order_by(AuditEntry.seq.desc())
            ).first()
            assert newest[0].action == action
    assert photo_checksums(target) == photo_checksums(source)
    tracked = target.test_client().post("/track", data={"receipt": seeded.receipts[1]})
    assert "已收到，待受理" in tracked.text
    officer = target.test_client()
    assert AuthActions(officer).login("officer-a", PASSWORD).status_code == 302
    revealed = officer.post(f"/review/reports/{seeded.real_name_report_id}/reveal")
    assert PHONE in revealed.text and "李某某" in revealed.text
    verified = cli(target, "audit", "verify")
    assert verified.exit_code == 0 and "audit log intact" in verified.output


@BOTH_STORES
def test_round_trip_while_reports_are_filed(app, seeded, fresh_instance, tmp_path):
    """A backup taken while citizens go on filing holds one consistent moment: every report
    in it has its photos and its audit entry, and the restored instance serves them."""
    archive = tmp_path / "nightly.tar"
    first_filed, stop = threading.Event(), threading.Event()
    statuses: list[int] = []

    def citizen(n: int) -> None:
        for i in range(12):  # well under the per-vehicle hourly limit, even all together
            if stop.is_set():
                return
            with app.app_context():
                statuses.append(file_report(app, seeded.tokens[1], f"198.51.{n}.{i}")[0])
            first_filed.set()

    citizens = [threading.Thread(target=citizen, args=(n,)) for n in range(3)]
    for thread in citizens:
        thread.start()
    first_filed.wait(timeout=60)
    made = cli(app, "backup", archive, "--unencrypted")
    stop.set()
    for thread in citizens:
        thread.join()
    assert made.exit_code == 0, made.output
    assert "UNENCRYPTED" in made.output
    assert set(statuses) == {200}

    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
        stored_photo = tar.extractfile(f"photos/{sorted(manifest['photos'])[0]}").read()
    assert manifest["encrypted"] is False
    assert stored_photo in archive.read_bytes()  # unencrypted: the photos are readable
    reports_then = manifest["tables"]["report"]
    assert 3 < reports_then <= count(app, Report)

    target = fresh_instance()
    restored = cli(target, "restore", archive)
    assert restored.exit_code == 0, restored.output
    assert "every checksum matched" in restored.output
    assert re.search(r"audit log intact: \d+ entries", restored.output)
    assert count(target, Report) == reports_then
    filed = count(target, AuditEntry, AuditEntry.action == "report_filed")
    assert filed == reports_then
    assert count(target, ReportPhoto) == manifest["tables"]["report_photo"] == reports_then
    checksums = photo_checksums(target)
    assert checksums == manifest["photos"]
    assert {n: photo_checksums(app)[n] for n in checksums} == checksums

    # The citizens stopped; a second archive of the same instance serves exactly the same.
    again = tmp_path / "again.tar"
    assert cli(app, "backup", again, "--unencrypted").exit_code == 0
    second = fresh_instance()
    assert cli(second, "restore", again).exit_code == 0
    assert_serves_the_same(app, second, seeded)


def write_key_pair(path) -> str:
    """An age key pair as age-keygen writes it; returns the public key."""
    identity = pyrage.x25519.Identity.generate()
    public = str(identity.to_public())
    path.write_text(f"# created: 2026-01-01T00:00:00Z\n# public key: {public}\n{identity}\n")
    return public


@BOTH_STORES
def test_encrypted_round_trip_into_an_initialised_instance(app, seeded, fresh_instance, tmp_path):
    """Encrypted to the commission's key, the archive shows nothing; only that key opens it,
    and it restores into an instance that ran `init` but holds no data."""
    key, other_key = tmp_path / "commission.key", tmp_path / "other.key"
    app.config["BACKUP_RECIPIENT"] = write_key_pair(key)
    write_key_pair(other_key)
    archive = tmp_path / "nightly.tar.age"
    made = cli(app, "backup", archive)
    assert made.exit_code == 0, made.output
    assert "(encrypted)" in made.output

    data = archive.read_bytes()
    assert data.startswith(b"age-encryption.org/v1\n")
    assert DESCRIPTION.encode() not in data and PHONE.encode() not in data
    for name in photo_checksums(app):
        assert photo_bytes(app, name) not in data
    assert oct(archive.stat().st_mode & 0o777) == "0o600"

    target = fresh_instance(initialised=True)
    without_key = cli(target, "restore", archive)
    assert without_key.exit_code != 0 and "is encrypted: give the private key" in without_key.output
    wrong_key = cli(target, "restore", archive, "--key", other_key)
    assert wrong_key.exit_code != 0 and "does not open" in wrong_key.output
    damaged = tmp_path / "damaged.tar.age"
    damaged.write_bytes(data[: len(data) // 2] + bytes([data[len(data) // 2] ^ 1]) + data[-100:])
    broken = cli(target, "restore", damaged, "--key", key)
    assert broken.exit_code != 0 and "is damaged" in broken.output

    restored = cli(target, "restore", archive, "--key", key)
    assert restored.exit_code == 0, restored.output
    assert_serves_the_same(app, target, seeded)


def test_backup_refuses_without_a_recipient_and_says_how_to_make_one(app, seeded, tmp_path):
    backups = tmp_path / "backups"
    backups.mkdir()
    archive = backups / "nightly.tar.age"
    refused = cli(app, "backup", archive)
    assert refused.exit_code != 0
    assert "VEHICLEWATCH_BACKUP_RECIPIENT" in refused.output
    assert "age-keygen" in refused.output and "--unencrypted" in refused.output
    assert list(backups.iterdir()) == []
    app.config["BACKUP_RECIPIENT"] = "not-a-key"
    assert "is not an age public key" in cli(app, "backup", archive).output


def rewrite(archive, target, change) -> None:
    """Copy a plain archive, passing each member's bytes through change(name, data)."""
    with tarfile.open(archive) as source, tarfile.open(target, "w") as out:
        for member in source.getmembers():
            data = change(member.name, source.extractfile(member).read())
            member.size = len(data)
            out.addfile(member, io.BytesIO(data))


def assert_still_empty(target) -> None:
    with target.app_context():
        assert sa.inspect(db.engine).get_table_names() == []
        assert not photo_dir().exists() or not any(photo_dir().iterdir())


def test_damaged_archives_are_refused_before_anything_is_written(
    app, seeded, fresh_instance, tmp_path
):
    archive = tmp_path / "nightly.tar"
    assert cli(app, "backup", archive, "--unencrypted").exit_code == 0
    target = fresh_instance()

    def flip_a_photo_byte(name, data):
        return (
            data[:100] + bytes([data[100] ^ 1]) + data[101:] if name.startswith("photos/") else data
        )

    photo_changed = tmp_path / "photo-changed.tar"
    rewrite(archive, photo_changed, flip_a_photo_byte)
    refused = cli(target, "restore", photo_changed)
    assert refused.exit_code != 0
    assert re.search(
        r"damaged: photos/[0-9a-f]{32}\.jpg does not match its checksum", refused.output
    )

    cut = tmp_path / "cut.tar"
    cut.write_bytes(archive.read_bytes()[:5000])
    refused = cli(target, "restore", cut)
    assert refused.exit_code != 0 and "damaged" in refused.output

    def from_the_future(name, data):
        if name != "manifest.json":
            return data
        return json.dumps(json.loads(data) | {"schema_revision": "9999"}).encode()

    future = tmp_path / "future.tar"
    rewrite(archive, future, from_the_future)
    refused = cli(target, "restore", future)
    assert refused.exit_code != 0
    assert "schema revision 9999 is newer than this code's" in refused.output
    assert_still_empty(target)


def test_keys_that_do_not_fit_are_named(app, seeded, fresh_instance, tmp_path):
    from cryptography.fernet import Fernet

    archive = tmp_path / "nightly.tar"
    assert cli(app, "backup", archive, "--unencrypted").exit_code == 0
    target = fresh_instance(AUDIT_KEY=app.config["AUDIT_KEY"])
    fitting = dict(target.config)
    for config, named in (
        (
            {"RECEIPT_KEY": "another-receipt-key-0123456789abcdef"},
            "VEHICLEWATCH_RECEIPT_KEY does not hold the key",
        ),
        (
            {"CONTACT_KEYS": Fernet.generate_key().decode()},
            "VEHICLEWATCH_CONTACT_KEYS does not hold the key",
        ),
        ({"AUDIT_KEY": None}, "VEHICLEWATCH_AUDIT_KEY is not set"),
        ({"AUDIT_KEY": "another-audit-key"}, "VEHICLEWATCH_AUDIT_KEY does not hold the key"),
    ):
        target.config.update(fitting | config)
        refused = cli(target, "restore", archive)
        assert refused.exit_code != 0 and named in refused.output
        assert_still_empty(target)
    # Keys rotated since (a new contact key first, the old one kept) still fit.
    rotated = f"{Fernet.generate_key().decode()},{app.config['CONTACT_KEYS']}"
    target.config.update(fitting | {"CONTACT_KEYS": rotated})
    restored = cli(target, "restore", archive)
    assert restored.exit_code == 0, restored.output


def test_restore_refuses_an_instance_that_holds_data(app, seeded, fresh_instance, tmp_path):
    archive = tmp_path / "nightly.tar"
    assert cli(app, "backup", archive, "--unencrypted").exit_code == 0
    refused = cli(app, "restore", archive)
    assert refused.exit_code != 0
    assert "only into an empty instance" in refused.output and "report 3" in refused.output
    assert count(app, Report) == 3

    target = fresh_instance()
    with target.app_context():
        photo_dir().mkdir(parents=True)
        (photo_dir() / f"{'0' * 32}.jpg").write_bytes(jpeg_bytes())
    refused = cli(target, "restore", archive)
    assert refused.exit_code != 0 and "already holds 1 photos" in refused.output


@pytest.mark.skipif(not POSTGRES_URL, reason="pg_dump backs up PostgreSQL only")
def test_pg_dump_older_than_the_server_is_refused_naming_the_package(
    app, seeded, tmp_path, monkeypatch
):
    stub = tmp_path / "bin"
    stub.mkdir()
    (stub / "pg_dump").write_text("#!/bin/sh\necho 'pg_dump (PostgreSQL) 9.6.24'\n")
    (stub / "pg_dump").chmod(0o755)
    monkeypatch.setenv("PATH", f"{stub}:{os.environ['PATH']}")
    with app.app_context():
        server = int(db.session.execute(sa.text("SHOW server_version_num")).scalar_one()) // 10000
    refused = cli(app, "backup", tmp_path / "nightly.tar", "--unencrypted")
    assert refused.exit_code != 0
    assert f"pg_dump is version 9, older than the {server}" in refused.output
    assert f"install postgresql-client-{server}" in refused.output
    assert not (tmp_path / "nightly.tar").exists()


def test_an_archive_of_an_older_schema_is_migrated_to_this_codes(
    make_app, fresh_instance, tmp_path
):
    from flask_migrate import downgrade

    older = make_app()
    with older.app_context():
        directory = older.extensions["migrate"].directory
        downgrade(directory=directory, revision="-1")
        previous = db.session.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    archive = tmp_path / "older.tar"
    assert cli(older, "backup", archive, "--unencrypted").exit_code == 0
    target = fresh_instance()
    restored = cli(target, "restore", archive)
    assert restored.exit_code == 0, restored.output
    with target.app_context():
        now = db.session.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
        head = ScriptDirectory.from_config(
            target.extensions["migrate"].migrate.get_config(directory)
        ).get_current_head()
    assert previous != head and now == head
