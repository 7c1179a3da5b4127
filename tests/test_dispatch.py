"""Trip approvals (派车单) and sealing (封存登记): entry, import, scope, and the evidence
check each report is scored with — at filing, and again when the data arrives later."""

import io
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from vehiclewatch import audit
from vehiclewatch.audit import AuditEntry
from vehiclewatch.calendar.services import add_holiday_period
from vehiclewatch.dispatch.models import Sealing, TripApproval
from vehiclewatch.dispatch.queries import dispatch_evidence
from vehiclewatch.dispatch.services import (
    add_sealing,
    add_trip_approval,
    import_trip_approvals,
    parse_local_time,
)
from vehiclewatch.extensions import db
from vehiclewatch.fleet.stickers import issue_sticker
from vehiclewatch.reports.scoring import score_parts
from vehiclewatch.tables import ImportRejected

from .conftest import upload

ZONE = ZoneInfo("Asia/Shanghai")
TRIP_HEADER = "车牌号,事由,目的地,开始时间,结束时间,驾驶员,审批人,应急\n"
SEALING_HEADER = "车牌号,节假日,年份,停放地点,钥匙保管人,免于封存,免封原因,免封批准人\n"
DISPATCH_KEYS = {"sealed", "no_dispatch_cover", "late_dispatch"}


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in February 2026, local time, as UTC."""
    return datetime(2026, 2, day, hour, minute, tzinfo=ZONE).astimezone(UTC)


@pytest.fixture
def car(org, make_vehicle):
    return make_vehicle(org["a-jy"], plate="藏A·11111")


@pytest.fixture
def officer(org, login_as):
    client, _ = login_as("officer", org["a"])
    return client


def _trip(vehicle, start, end, purpose="下乡检查", **kwargs):
    return add_trip_approval(
        vehicle,
        purpose=purpose,
        start_at=start,
        end_at=end,
        approver="王局长",
        **{"actor": audit.SYSTEM, **kwargs},
    )


def _report_page(client, report) -> str:
    response = client.get(f"/review/reports/{report.id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


# --- the evidence check, case by case -------------------------------------------------


def test_sealed_car_scores_40_and_is_flagged(spring, car, make_report, officer):
    add_sealing(car, spring, place="机关大院车库", key_holder="张三", actor=audit.SYSTEM)
    report, _ = make_report(car, seen_at=local(16, 10))
    parts = score_parts(report)
    assert parts["sealed"] == 40
    assert report.flagged is True
    assert report.score == 40 + 10  # and in the 春节 campaign
    page = _report_page(officer, report)
    assert "派车与封存" in page and "封存期" in page
    assert "机关大院车库" in page and "张三" in page


def test_exempted_car_gets_no_sealed_points(spring, car, make_report, officer):
    add_sealing(
        car,
        spring,
        exempt=True,
        exemption_reason="值班",
        exemption_approver="李四",
        actor=audit.SYSTEM,
    )
    report, _ = make_report(car, seen_at=local(16, 10))
    assert DISPATCH_KEYS.isdisjoint(score_parts(report))
    assert report.flagged is False
    page = _report_page(officer, report)
    assert "免于封存" in page and "值班" in page and "李四" in page


def test_sealing_for_another_holiday_does_not_count(app, car, make_report):
    other = add_holiday_period(
        "雪顿节", date(2026, 8, 1), date(2026, 8, 7), "local", [], actor=audit.SYSTEM
    )
    add_sealing(car, other, actor=audit.SYSTEM)
    report, _ = make_report(car, seen_at=local(16, 10))
    assert "sealed" not in score_parts(report)


def test_unit_data_without_cover_scores_30_and_is_flagged(
    org, car, make_vehicle, make_report, officer
):
    colleague = make_vehicle(org["a-jy"])
    _trip(colleague, local(16, 8), local(16, 18))
    _trip(car, local(16, 14), local(16, 16))  # the car's own trip, but not at 10:00
    report, _ = make_report(car, seen_at=local(16, 10))
    assert score_parts(report) == {"no_dispatch_cover": 30}
    assert report.flagged is True
    assert "当日有派车数据，但没有覆盖该时间的派车单" in _report_page(officer, report)


def test_covering_approval_means_no_points_and_shows_the_purpose(car, make_report, officer):
    _trip(car, local(16, 9), local(16, 12), purpose="下乡检查防疫工作", destination="扎囊县")
    report, _ = make_report(car, seen_at=local(16, 10))
    assert DISPATCH_KEYS.isdisjoint(score_parts(report))
    assert report.flagged is False
    page = _report_page(officer, report)
    assert "下乡检查防疫工作" in page and "扎囊县" in page and "王局长" in page
    assert "补录" not in page


def test_approval_entered_after_the_report_is_late(org, car, make_report, officer, login_as):
    report, _ = make_report(car, seen_at=local(16, 10))
    assert report.flagged is False and DISPATCH_KEYS.isdisjoint(score_parts(report))
    version = report.version
    admin, _ = login_as("fleet_admin", org["a"])
    response = admin.post(
        "/fleet/trips/new",
        data={
            "plate": "藏a11111",
            "purpose": "接待调研",
            "start_at": "2026-02-16T09:00",
            "end_at": "2026-02-16T12:00",
            "driver": "赵师傅",
            "approver": "钱主任",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.refresh(report)
    assert score_parts(report) == {"late_dispatch": 30}
    assert report.flagged is True
    assert report.version == version  # a rescore is not an edit
    page = _report_page(officer, report)
    assert "接待调研" in page and "补录" in page


def test_no_dispatch_data_is_shown_without_a_flag(org, car, make_vehicle, make_report, officer):
    elsewhere = make_vehicle(org["b-jy"])
    _trip(elsewhere, local(16, 8), local(16, 18))  # another unit's data does not count
    _trip(car, local(17, 8), local(17, 18))  # nor the car's data on another day
    report, _ = make_report(car, seen_at=local(16, 10))
    assert DISPATCH_KEYS.isdisjoint(score_parts(report))
    assert report.flagged is False
    assert "该单位当日无派车数据" in _report_page(officer, report)


def test_the_day_is_the_local_day(app, org, car, make_vehicle):
    colleague = make_vehicle(org["a-jy"])
    # 15 Feb 20:00–22:00 local is the same UTC day as 16 Feb 07:00 local, not the same local day.
    _trip(colleague, local(15, 20), local(15, 22))
    seen = local(16, 7)
    assert seen.date() == local(15, 20).date()
    found = dispatch_evidence(car, seen, seen + timedelta(hours=1))
    assert not found.data_exists and not found.not_covered
    _trip(colleague, local(16, 23), local(17, 2))
    assert dispatch_evidence(car, seen, seen + timedelta(hours=1)).not_covered


# --- re-check when data arrives -------------------------------------------------------


def test_sealing_import_raises_an_existing_reports_score(org, spring, car, make_report, login_as):
    report, _ = make_report(car, seen_at=local(16, 10))
    before, version = report.score, report.version
    assert report.flagged is False
    admin, _ = login_as("fleet_admin", org["a"])
    text = SEALING_HEADER + "藏A11111,春节,2026,机关大院,张三,否,,\n"
    response = upload(admin, "/fleet/sealing/import", text.encode("utf-8-sig"))
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.refresh(report)
    assert report.score == before + 40
    assert report.flagged is True and score_parts(report)["sealed"] == 40
    assert report.version == version
    audit = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "sealings_imported")
    ).scalar_one()
    assert '"count": 1' in audit.after


def test_trip_import_rechecks_the_whole_unit(org, car, make_vehicle, make_report, login_as):
    colleague = make_vehicle(org["a-jy"], plate="藏A·22222")
    report, _ = make_report(car, seen_at=local(16, 10))
    assert report.flagged is False
    admin, _ = login_as("fleet_admin", org["a"])
    text = TRIP_HEADER + "藏A·22222,开会,市委,2026-02-16 08:00,2026-02-16 18:00,赵,钱,否\n"
    assert upload(admin, "/fleet/trips/import", text.encode("gb18030")).status_code == 302
    db.session.refresh(report)
    assert score_parts(report) == {"no_dispatch_cover": 30} and report.flagged is True
    approval = db.session.execute(select(TripApproval)).scalar_one()
    assert approval.vehicle_id == colleague.id and approval.start_at == local(16, 8)


# --- entry and import -----------------------------------------------------------------


def test_import_is_all_or_nothing_and_names_each_bad_row(org, car, login_as):
    admin, _ = login_as("fleet_admin", org["a"])
    text = (
        TRIP_HEADER
        + "藏A11111,开会,市委,2026-02-16 08:00,2026-02-16 18:00,赵,钱,否\n"  # line 2: good
        + "藏A11111,开会,市委,2026-02-16 18:00,2026-02-16 08:00,赵,钱,否\n"  # 3: ends first
        + "藏A99999,开会,市委,2026-02-16 08:00,2026-02-16 18:00,赵,钱,否\n"  # 4: unknown car
        + "藏A11111,,市委,明天上午,2026-02-16 18:00,赵,钱,也许\n"  # 5: four problems
    )
    response = upload(admin, "/fleet/trips/import", text.encode("utf-8"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "没有导入任何记录" in page
    assert "第 2 行" not in page
    assert "第 3 行" in page and "结束时间应晚于开始时间" in page
    assert "第 4 行" in page and "未登记或不在您的管理范围内" in page
    assert "第 5 行" in page and "缺少事由" in page and "明天上午" in page and "应急" in page
    assert db.session.execute(select(func.count(TripApproval.id))).scalar_one() == 0


def test_sealing_import_checks_holidays_exemptions_and_duplicates(
    org, spring, car, make_vehicle, login_as
):
    make_vehicle(org["a-jy"], plate="藏A·22222")
    add_sealing(make_vehicle(org["a-jy"], plate="藏A·33333"), spring, actor=audit.SYSTEM)
    admin, _ = login_as("fleet_admin", org["a"])
    text = (
        SEALING_HEADER
        + "藏A11111,春节,2026,大院,张三,否,,\n"  # 2: good
        + "藏A11111,春节,2026,大院,张三,否,,\n"  # 3: repeats line 2
        + "藏A22222,中秋节,2026,大院,张三,否,,\n"  # 4: no such holiday
        + "藏A22222,春节,2026,大院,张三,是,,\n"  # 5: exemption without reason
        + "藏A33333,春节,2026,大院,张三,否,,\n"  # 6: already registered
    )
    response = upload(admin, "/fleet/sealing/import", text.encode("utf-8"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "第 3 行" in page and "与第 2 行重复" in page
    assert "第 4 行" in page and "中秋节" in page
    assert "第 5 行" in page and "免封批准人" in page
    assert "第 6 行" in page and "已有封存登记" in page
    assert db.session.execute(select(func.count(Sealing.id))).scalar_one() == 1


def test_xlsx_import_takes_excel_date_times(org, car, login_as):
    admin, _ = login_as("fleet_admin", org["a"])
    book = Workbook()
    sheet = book.active
    sheet.append(TRIP_HEADER.strip().split(","))
    sheet.append(
        [
            "藏A·11111",
            "送文件",
            "市委",
            datetime(2026, 2, 16, 9, 30),
            datetime(2026, 2, 16, 11),
            "",
            "",
            "是",
        ]
    )
    out = io.BytesIO()
    book.save(out)
    assert upload(admin, "/fleet/trips/import", out.getvalue(), "t.xlsx").status_code == 302
    approval = db.session.execute(select(TripApproval)).scalar_one()
    assert approval.start_at == local(16, 9, 30) and approval.emergency is True
    assert approval.entered_by_id is not None and approval.entered_at is not None


def test_local_times_parse_in_the_deployment_zone(app):
    assert parse_local_time("2026-02-16 10:00") == local(16, 10)
    assert parse_local_time("2026/02/16 10:00:00") == local(16, 10)
    assert parse_local_time("46069.5") == local(16, 12)  # an Excel serial without its format
    assert parse_local_time("16.2.2026") is None


def test_sealing_form_records_an_exemption(org, spring, car, login_as):
    admin, user = login_as("fleet_admin", org["a"])
    page = admin.get("/fleet/sealing/new").get_data(as_text=True)
    assert "2026 春节" in page
    data = {"plate": "藏A11111", "holiday_period_id": spring.id, "exempt": "y"}
    response = admin.post("/fleet/sealing/new", data=data)
    assert response.status_code == 422 and "免于封存须填写原因" in response.get_data(as_text=True)
    data |= {"exemption_reason": "应急", "exemption_approver": "孙书记", "place": "大院"}
    assert admin.post("/fleet/sealing/new", data=data).status_code == 302
    sealing = db.session.execute(select(Sealing)).scalar_one()
    assert sealing.exempt and sealing.exemption_reason == "应急"
    assert sealing.entered_by_id == user.id
    again = admin.post("/fleet/sealing/new", data=data)
    assert again.status_code == 422 and "已有封存登记" in again.get_data(as_text=True)
    listing = admin.get("/fleet/sealing").get_data(as_text=True)
    assert "藏A·11111" in listing and "孙书记" in listing


def test_trip_form_refuses_an_end_before_the_start(org, car, login_as):
    admin, _ = login_as("fleet_admin", org["a"])
    data = {
        "plate": "藏A11111",
        "purpose": "开会",
        "start_at": "2026-02-16T12:00",
        "end_at": "2026-02-16T09:00",
    }
    response = admin.post("/fleet/trips/new", data=data)
    assert response.status_code == 422 and "返回时间应晚于出车时间" in response.get_data(
        as_text=True
    )


# --- scope ----------------------------------------------------------------------------


def test_county_admin_cannot_touch_another_countys_cars(org, spring, make_vehicle, login_as):
    mine = make_vehicle(org["a-jy"], plate="藏A·11111")
    theirs = make_vehicle(org["b-jy"], plate="藏B·22222")
    _trip(mine, local(16, 8), local(16, 9), purpose="本县公务")
    _trip(theirs, local(16, 8), local(16, 9), purpose="外县公务")
    add_sealing(theirs, spring, place="乙县车库", actor=audit.SYSTEM)
    admin, _ = login_as("fleet_admin", org["a"])

    trips = admin.get("/fleet/trips").get_data(as_text=True)
    assert "本县公务" in trips and "外县公务" not in trips
    assert "乙县车库" not in admin.get("/fleet/sealing").get_data(as_text=True)
    assert admin.get(f"/fleet/trips/new?vehicle={theirs.id}").status_code == 404
    assert admin.get(f"/fleet/sealing/new?vehicle={theirs.id}").status_code == 404
    assert "藏A·11111" in admin.get(f"/fleet/trips/new?vehicle={mine.id}").get_data(as_text=True)

    form = {"plate": "藏B22222", "purpose": "x", "start_at": "2026-02-16T09:00"}
    form["end_at"] = "2026-02-16T10:00"
    response = admin.post("/fleet/trips/new", data=form)
    assert response.status_code == 422
    assert "不在您的管理范围内" in response.get_data(as_text=True)

    text = SEALING_HEADER + "藏B22222,春节,2026,大院,张三,否,,\n"
    response = upload(admin, "/fleet/sealing/import", text.encode("utf-8"))
    assert response.status_code == 422
    assert "第 2 行" in response.get_data(as_text=True)
    assert db.session.execute(select(func.count(Sealing.id))).scalar_one() == 1


def test_service_refuses_a_car_out_of_scope(org, make_vehicle, make_user):
    from vehiclewatch.fleet.guards import OutOfScope

    theirs = make_vehicle(org["b-jy"])
    admin = make_user("fleet_admin", org["a"])
    with pytest.raises(OutOfScope):
        _trip(theirs, local(16, 8), local(16, 9), actor=admin)
    db.session.rollback()
    csv = TRIP_HEADER + f"{theirs.plate},开会,,2026-02-16 08:00,2026-02-16 09:00,,,\n"
    with pytest.raises(ImportRejected) as caught:
        import_trip_approvals(csv.encode(), actor=admin)
    assert caught.value.errors[0].line == 2


# --- the scan page --------------------------------------------------------------------


def test_scan_page_shows_a_car_sealed_today(app, org, make_vehicle):
    today = datetime.now(ZONE).date()
    period = add_holiday_period(
        "测试假期", today - timedelta(days=1), today, "national", [], actor=audit.SYSTEM
    )
    earlier = add_holiday_period(
        "上个假期",
        today - timedelta(days=30),
        today - timedelta(days=28),
        "national",
        [],
        actor=audit.SYSTEM,
    )
    sealed, exempt, free, last_time = (make_vehicle(org["a-jy"]) for _ in range(4))
    add_sealing(sealed, period, actor=audit.SYSTEM)
    add_sealing(
        exempt,
        period,
        exempt=True,
        exemption_reason="值班",
        exemption_approver="李四",
        actor=audit.SYSTEM,
    )
    add_sealing(last_time, earlier, actor=audit.SYSTEM)
    client = app.test_client()
    for vehicle, expected in ((sealed, True), (exempt, False), (free, False), (last_time, False)):
        token = issue_sticker(vehicle, actor=audit.SYSTEM).token
        page = client.get(f"/v/{token}").get_data(as_text=True)
        assert ("节假日封存中" in page) is expected, vehicle.plate


def test_a_holiday_with_sealing_records_cannot_be_deleted(app, org, login_as, make_vehicle):
    from vehiclewatch.calendar.models import HolidayPeriod
    from vehiclewatch.dispatch import services as dispatch

    period = add_holiday_period(
        "春节", date(2026, 2, 15), date(2026, 2, 23), "national", [], actor=audit.SYSTEM
    )
    car = make_vehicle(org["a-jy"])
    _, fleet_admin = login_as("fleet_admin", org["a"])
    dispatch.add_sealing(
        vehicle=car, period=period, place="机关大院", key_holder="办公室", actor=fleet_admin
    )
    admin, _ = login_as("sysadmin", org["city"])
    page = admin.post(f"/admin/holidays/{period.id}/delete", follow_redirects=True)
    assert page.status_code == 200 and "已有封存登记，不能删除" in page.get_data(as_text=True)
    count = db.session.execute(select(func.count()).select_from(HolidayPeriod)).scalar_one()
    assert count == 1
