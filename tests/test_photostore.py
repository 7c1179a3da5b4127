"""The photo store, in the local directory and in a real S3-compatible server (moto's server
mode): photos written before their report commits, served only after the scope check (by the
application, or by nginx from a short-lived presigned URL), and swept when orphaned."""

import io
import urllib.request

import pytest
from sqlalchemy import select

from vehiclewatch.extensions import db
from vehiclewatch.reports import filing
from vehiclewatch.reports.models import Report, ReportPhoto
from vehiclewatch.reports.photostore import S3Store, photo_store

from .conftest import BOTH_STORES
from .photo_samples import jpeg_bytes, processed_photo
from .test_citizen import _report_data


def _file_with_photo(app, car) -> int:
    client = app.test_client()
    token = car.live_sticker.token
    page = client.get(f"/v/{token}/report").get_data(as_text=True)
    data = _report_data(page, photos=[(io.BytesIO(jpeg_bytes()), "p.jpg")])
    response = client.post(f"/v/{token}/report", data=data, content_type="multipart/form-data")
    return response.status_code


def _stored_bytes(name: str) -> bytes:
    with photo_store().open(name) as (size, handle):
        data = handle.read()
    assert len(data) == size
    return data


@BOTH_STORES
def test_a_filed_photo_is_stored_and_served_to_officers_in_scope(app, car, org, login_as):
    assert _file_with_photo(app, car) == 200
    photo = db.session.execute(select(ReportPhoto)).scalar_one()
    assert set(photo_store().stored()) == {photo.evidence_name, photo.display_name}
    officer, _ = login_as("officer", org["a"])
    with officer.get(f"/review/photos/{photo.id}/display.jpg") as response:
        body = response.get_data()
    assert response.status_code == 200 and response.headers["Content-Type"] == "image/jpeg"
    assert body == _stored_bytes(photo.display_name) and body.startswith(b"\xff\xd8")
    outsider, _ = login_as("officer", org["b"])
    assert outsider.get(f"/review/photos/{photo.id}/display.jpg").status_code == 404


@pytest.mark.parametrize("photo_location", ["s3"], indirect=True)
def test_nginx_gets_a_short_lived_presigned_url_never_a_public_one(
    app, car, org, login_as, s3_endpoint
):
    app.config["PHOTO_ACCEL_PREFIX"] = "/_photos/"
    assert _file_with_photo(app, car) == 200
    photo = db.session.execute(select(ReportPhoto)).scalar_one()
    store = photo_store()
    assert isinstance(store, S3Store)
    officer, _ = login_as("officer", org["a"])
    response = officer.get(f"/review/photos/{photo.id}/evidence.jpg")
    assert response.status_code == 200 and response.get_data() == b""
    target = response.headers["X-Accel-Redirect"]
    path, _, query = target.partition("?")
    assert path == f"/_photos/{store.bucket}/reports/{photo.evidence_name}"
    assert "X-Amz-Signature=" in query and "X-Amz-Expires=60" in query
    # What nginx's internal location fetches: the store's endpoint, the same path and query.
    fetched = urllib.request.urlopen(f"{s3_endpoint}{target[len('/_photos') :]}").read()
    assert fetched == _stored_bytes(photo.evidence_name)
    outsider, _ = login_as("officer", org["b"])
    refused = outsider.get(f"/review/photos/{photo.id}/evidence.jpg")
    assert refused.status_code == 404 and "X-Accel-Redirect" not in refused.headers


def _failing_commit(monkeypatch) -> None:
    def fail(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(filing, "_insert_report", fail)


@BOTH_STORES
def test_photos_of_a_report_that_fails_to_commit_are_removed(app, car, make_report, monkeypatch):
    _failing_commit(monkeypatch)
    with pytest.raises(RuntimeError):
        make_report(car, photos=[processed_photo()])
    assert photo_store().stored() == {}
    assert db.session.execute(select(Report)).first() is None


@BOTH_STORES
def test_photos_a_crash_left_behind_are_found_by_the_sweep(
    app, car, make_report, runner, monkeypatch
):
    report, _ = make_report(car, photos=[processed_photo()])
    kept = {report.photos[0].evidence_name, report.photos[0].display_name}
    with monkeypatch.context() as patch:
        # The process dies after writing the photos and before either commit or clean-up.
        _failing_commit(patch)
        patch.setattr(filing, "discard_files", lambda rows: None)
        with pytest.raises(RuntimeError):
            make_report(car, photos=[processed_photo()])
    stray = set(photo_store().stored()) - kept
    assert len(stray) == 2

    young = runner.invoke(args=["photos", "sweep"])
    assert young.exit_code == 0 and "0 orphaned files" in young.output
    listed = runner.invoke(args=["photos", "sweep", "--older-than", "0"])
    assert set(listed.output.split()[:2]) == stray and "2 orphaned files" in listed.output
    assert set(photo_store().stored()) == kept | stray
    removed = runner.invoke(args=["photos", "sweep", "--older-than", "0", "--delete"])
    assert removed.exit_code == 0 and "removed 2 orphaned files" in removed.output
    assert set(photo_store().stored()) == kept
