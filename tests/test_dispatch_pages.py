"""The fleet admin's pages for correcting and withdrawing trip approvals and sealing records,
and the history officers read beside a report's evidence."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from vehiclewatch import audit
from vehiclewatch.dispatch.models import TripApprovalVersion
from vehiclewatch.dispatch.services import add_sealing, add_trip_approval
from vehiclewatch.extensions import db
from vehiclewatch.reports.scoring import score_parts

from .conftest import count_rows

ZONE = ZoneInfo("Asia/Shanghai")


def local(day: int, hour: int) -> datetime:
    return datetime(2026, 2, day, hour, tzinfo=ZONE).astimezone(UTC)


@pytest.fixture
def car(org, make_vehicle):
    return make_vehicle(org["a-jy"], plate="藏A·11111")


@pytest.fixture
def admin(org, login_as):
    client, _ = login_as("fleet_admin", org["a"])
    return client


@pytest.fixture
def trip(car):
    return add_trip_approval(
        car,
        purpose="下乡检查",
        start_at=local(16, 13),
        end_at=local(16, 15),
        driver="赵师傅",
        actor=audit.SYSTEM,
    )


def _amend_form(**overrides) -> dict:
    form = {
        "plate": "藏A11111",
        "purpose": "下乡检查",
        "destination": "",
        "start_at": "2026-02-16T13:00",
        "end_at": "2026-02-16T15:00",
        "driver": "赵师傅",
        "approver": "",
        "reason": "出车时间填错",
    }
    return form | overrides


def test_amending_a_trip_from_the_list_keeps_the_old_version_for_officers(
    org, car, trip, admin, make_report, login_as
):
    report, _ = make_report(car, seen_at=local(16, 10))
    assert "no_dispatch_cover" in score_parts(report)
    listing = admin.get("/fleet/trips").get_data(as_text=True)
    assert f"/fleet/trip/{trip.id}/edit" in listing
    form = admin.get(f"/fleet/trip/{trip.id}/edit").get_data(as_text=True)
    assert 'value="2026-02-16T13:00"' in form and 'value="赵师傅"' in form
    response = admin.post(
        f"/fleet/trip/{trip.id}/edit", data=_amend_form(start_at="2026-02-16T09:00")
    )
    assert response.status_code == 302
    page = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "第 2 版" in page and "出车时间填错" in page and "2026-02-16 13:00" in page
    assert "已修改" in admin.get("/fleet/trips").get_data(as_text=True)
    db.session.refresh(report)
    assert score_parts(report) == {"late_dispatch": 30}
    officer, _ = login_as("officer", org["a"])
    page = officer.get(f"/review/reports/{report.id}").get_data(as_text=True)
    assert "补录" in page and "修改与撤销记录" in page and "出车时间填错" in page
    assert "2026-02-16 13:00" in page  # the first version, as entered


def test_a_refused_amendment_says_why_and_changes_nothing(trip, admin):
    response = admin.post(
        f"/fleet/trip/{trip.id}/edit", data=_amend_form(reason="", driver="钱师傅")
    )
    assert response.status_code == 422
    assert "请填写原因" in response.get_data(as_text=True)
    response = admin.post(f"/fleet/trip/{trip.id}/edit", data=_amend_form(reason="同样"))
    assert response.status_code == 422
    assert "修改后的内容与原来相同" in response.get_data(as_text=True)
    response = admin.post(f"/fleet/trip/{trip.id}/edit", data=_amend_form(plate="藏B22222"))
    assert response.status_code == 422
    assert "不在您的管理范围内" in response.get_data(as_text=True)
    assert count_rows(TripApprovalVersion) == 1
    db.session.refresh(trip)
    assert trip.driver == "赵师傅"


def test_cancelling_needs_a_reason_and_a_confirmation(car, trip, admin):
    url = f"/fleet/trip/{trip.id}/cancel"
    response = admin.post(url, data={"reason": "出车取消"})
    assert response.status_code == 422 and "请勾选确认" in response.get_data(as_text=True)
    response = admin.post(url, data={"confirm": "y"})
    assert response.status_code == 422 and "请填写原因" in response.get_data(as_text=True)
    db.session.refresh(trip)
    assert trip.cancelled_at is None
    response = admin.post(url, data={"reason": "出车取消", "confirm": "y"})
    assert response.status_code == 302
    page = admin.get(f"/fleet/trip/{trip.id}").get_data(as_text=True)
    assert "已撤销" in page and "出车取消" in page and "撤销该记录" not in page
    listing = admin.get("/fleet/trips").get_data(as_text=True)
    assert "已撤销" in listing and f"/fleet/trip/{trip.id}/edit" not in listing
    response = admin.get(f"/fleet/trip/{trip.id}/edit")
    assert response.status_code == 302


def test_amending_a_sealing_to_an_exemption(org, spring, car, admin, make_report):
    sealing = add_sealing(car, spring, place="车库", actor=audit.SYSTEM)
    report, _ = make_report(car, seen_at=local(16, 10))
    assert "sealed" in score_parts(report)
    form = admin.get(f"/fleet/sealing/{sealing.id}/edit").get_data(as_text=True)
    assert 'value="车库"' in form
    data = {
        "plate": "藏A11111",
        "holiday_period_id": spring.id,
        "place": "车库",
        "exempt": "y",
        "exemption_reason": "值班",
        "exemption_approver": "李书记",
        "reason": "节日值班车辆",
    }
    response = admin.post(f"/fleet/sealing/{sealing.id}/edit", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.refresh(sealing)
    assert sealing.exempt is True
    db.session.refresh(report)
    assert "sealed" not in score_parts(report)
    assert "节日值班车辆" in admin.get(f"/fleet/sealing/{sealing.id}").get_data(as_text=True)


def test_another_countys_admin_gets_404(org, trip, spring, car, login_as):
    sealing = add_sealing(car, spring, actor=audit.SYSTEM)
    stranger, _ = login_as("fleet_admin", org["b"])
    for url in (f"/fleet/trip/{trip.id}", f"/fleet/trip/{trip.id}/edit"):
        assert stranger.get(url).status_code == 404
    response = stranger.post(
        f"/fleet/sealing/{sealing.id}/cancel", data={"reason": "x", "confirm": "y"}
    )
    assert response.status_code == 404
    db.session.refresh(sealing)
    assert sealing.cancelled_at is None
