"""The integration API's trip approvals and sealing: create one or many (the import's checks),
amend and cancel (versions kept, reports rechecked: 补录 included)."""

import uuid
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from vehiclewatch.dispatch.models import Sealing, TripApproval, TripApprovalVersion
from vehiclewatch.extensions import db
from vehiclewatch.reports.scoring import score_parts

from .conftest import count_rows

ZONE = ZoneInfo("Asia/Shanghai")


def local(day: int, hour: int) -> datetime:
    return datetime(2026, 2, day, hour, tzinfo=ZONE)


def trip(start: datetime, end: datetime, vehicle: str = "car-1") -> dict:
    return {
        "vehicle": vehicle,
        "purpose": "下乡检查",
        "start_at": start.isoformat(),
        "end_at": end.isoformat(),
        "approver": "王局长",
    }


@pytest.fixture
def car(org, make_vehicle):
    return make_vehicle(org["a-jy"], plate="藏A·11111", external_id="car-1")


@pytest.fixture
def fleet(org, api_token):
    headers, _token = api_token(org["a"], "fleet:write")
    return headers


def post(client, url, json, headers):
    return client.post(url, json=json, headers=headers | {"Idempotency-Key": uuid.uuid4().hex})


def test_an_approval_amended_to_cover_a_report_makes_it_late(client, car, fleet, make_report):
    created = post(client, "/api/v1/trips", trip(local(16, 13), local(16, 15)), fleet)
    assert created.status_code == 201, created.get_json()
    trip_id = created.get_json()["id"]
    report, _receipt = make_report(car, seen_at=local(16, 10).astimezone(UTC))
    amended = client.patch(
        f"/api/v1/trips/{trip_id}",
        json={"start_at": local(16, 9).isoformat(), "reason": "出车时间填错"},
        headers=fleet,
    )
    assert amended.status_code == 200, amended.get_json()
    body = amended.get_json()
    assert [v["change"] for v in body["versions"]] == ["entered", "amended"]
    db.session.refresh(report)
    assert "late_dispatch" in score_parts(report)


def test_a_cancelled_approval_keeps_its_versions(client, car, fleet):
    created = post(client, "/api/v1/trips", trip(local(16, 9), local(16, 12)), fleet).get_json()
    cancelled = post(client, f"/api/v1/trips/{created['id']}/cancel", {"reason": "取消"}, fleet)
    assert cancelled.get_json()["cancelled_at"] is not None
    again = client.patch(
        f"/api/v1/trips/{created['id']}", json={"driver": "李", "reason": "再改"}, headers=fleet
    )
    assert again.status_code == 409
    assert again.get_json()["code"] == "record_cancelled"
    versions = db.session.execute(select(TripApprovalVersion.change)).scalars().all()
    assert sorted(versions) == ["cancelled", "entered"]


def test_bulk_trips_are_all_or_nothing(client, car, fleet):
    items = [
        trip(local(16, 9), local(16, 12)),
        trip(local(16, 12), local(16, 9)),
        trip(local(16, 9), local(16, 12), vehicle="nobody"),
    ]
    response = post(client, "/api/v1/trips/bulk", {"items": items}, fleet)
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert [e["item"] for e in errors] == [2, 3]
    assert "结束时间应晚于开始时间" in errors[0]["message"]
    assert "未登记或不在您的管理范围内" in errors[1]["message"]
    assert count_rows(TripApproval) == 0
    ok = post(client, "/api/v1/trips/bulk", {"items": items[:1] * 3}, fleet)
    assert ok.status_code == 201 and len(ok.get_json()["items"]) == 3


def test_another_countys_records_are_out_of_reach(client, org, car, api_token, fleet):
    created = post(client, "/api/v1/trips", trip(local(16, 9), local(16, 12)), fleet).get_json()
    other, _token = api_token(org["b"], "fleet:write")
    assert client.get(f"/api/v1/trips/{created['id']}", headers=other).status_code == 404
    amend = client.patch(
        f"/api/v1/trips/{created['id']}", json={"driver": "李", "reason": "改"}, headers=other
    )
    assert amend.status_code == 404
    assert (
        post(client, "/api/v1/trips", trip(local(16, 9), local(16, 12)), other).status_code == 422
    )
    assert client.get("/api/v1/trips", headers=other).get_json()["items"] == []
    assert db.session.get(TripApproval, created["id"]).driver == ""


def test_sealing_by_holiday_name_and_year(client, car, fleet, spring):
    item = {"vehicle": "car-1", "holiday": "春节", "year": 2026, "place": "机关大院"}
    created = post(client, "/api/v1/sealings", item, fleet)
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["holiday"] == "春节"
    twice = post(client, "/api/v1/sealings", item, fleet)
    assert twice.status_code == 422
    assert "已有封存登记" in twice.get_json()["errors"][0]["message"]
    exempt = client.patch(
        f"/api/v1/sealings/{created.get_json()['id']}",
        json={"exempt": True, "reason": "改为值班"},
        headers=fleet,
    )
    assert exempt.status_code == 422
    assert exempt.get_json()["errors"][0]["field"] == "exemption_reason"
    assert count_rows(Sealing) == 1
