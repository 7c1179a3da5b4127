"""Holiday data as the calendars people use give it: campaigns named by their holiday's
year, holidays corrected in place, a year imported at once, and the Tibetan-calendar
holidays computed rather than typed."""

import csv
import io
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from vehiclewatch import asset_dir, audit
from vehiclewatch.audit import AuditEntry
from vehiclewatch.bulletins.services import create_draft
from vehiclewatch.calendar.cli import tibetan_holidays
from vehiclewatch.calendar.models import HolidayPeriod
from vehiclewatch.calendar.rounds import build_campaigns, load_campaigns
from vehiclewatch.calendar.services import add_holiday_period
from vehiclewatch.dispatch.models import Sealing
from vehiclewatch.dispatch.services import add_sealing
from vehiclewatch.extensions import db
from vehiclewatch.reports.models import Report

from .conftest import upload

SHANGHAI = ZoneInfo("Asia/Shanghai")
HEADER = "名称,开始日期,结束日期,范围,调休上班日\n"


def test_a_campaign_is_named_by_the_year_of_its_holiday():
    (new_year,) = build_campaigns([("元旦", date(2027, 1, 1), date(2027, 1, 3))])
    assert new_year.start == date(2026, 12, 25)  # the window opens in the old year
    assert new_year.name == "2027年元旦专项监督"
    (national_day,) = build_campaigns([("国庆节", date(2026, 10, 1), date(2026, 10, 7))])
    assert national_day.name == "2026年国庆节专项监督"


def test_bulletin_titles_follow_the_campaign_name(app, org, make_user):
    add_holiday_period(
        "元旦", date(2027, 1, 1), date(2027, 1, 3), "national", [], actor=audit.SYSTEM
    )
    (campaign,) = load_campaigns()
    first_week = campaign.rounds()[0]
    assert first_week.start.year == 2026
    draft = create_draft(first_week.key, org["a"], make_user("officer", org["a"]))
    assert draft.title == "关于2027年元旦专项监督第1周公务用车监督检查情况的通报"


def test_editing_a_holiday_in_place_relinks_reports_and_keeps_sealing(
    app, org, login_as, make_vehicle, make_report
):
    car = make_vehicle(org["a-jy"])
    seen = datetime.now(SHANGHAI) - timedelta(days=1)
    day = seen.date()
    period = add_holiday_period(
        "雪顿节",
        day + timedelta(days=60),
        day + timedelta(days=62),
        "local",
        [],
        actor=audit.SYSTEM,
    )
    add_sealing(car, period, place="机关大院", key_holder="值班室", actor=audit.SYSTEM)
    report, _ = make_report(car, seen_at=seen)
    assert report.round_start is None
    admin, _ = login_as("sysadmin", org["city"])
    form = admin.get(f"/admin/holidays/{period.id}/edit").get_data(as_text=True)
    assert 'value="雪顿节"' in form
    response = admin.post(
        f"/admin/holidays/{period.id}/edit",
        data={
            "name": "雪顿节",
            "start": day.isoformat(),
            "end": (day + timedelta(days=2)).isoformat(),
            "region": "local",
            "makeup_workdays": "",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Report, report.id).round_start is not None
    assert db.session.execute(select(Sealing.holiday_period_id)).scalar_one() == period.id
    assert db.session.get(HolidayPeriod, period.id).start == day
    entry = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "holiday_changed")
    ).scalar_one()
    assert day.isoformat() in entry.after
    bad = admin.post(
        f"/admin/holidays/{period.id}/edit",
        data={"name": "雪顿节", "start": "2026-08-14", "end": "2026-08-12", "region": "local"},
    )
    assert bad.status_code == 422 and "结束日期不能早于开始日期" in bad.get_data(as_text=True)
    assert db.session.get(HolidayPeriod, period.id).start == day


def test_a_year_imports_from_csv_and_reports_follow(app, org, login_as, make_vehicle, make_report):
    car = make_vehicle(org["a-jy"])
    seen = datetime.now(SHANGHAI) - timedelta(days=1)
    report, _ = make_report(car, seen_at=seen)
    admin, _ = login_as("sysadmin", org["city"])
    day = seen.date()
    text = (
        HEADER
        + f"测试节,{day},{day + timedelta(days=1)},全国,{day + timedelta(days=6)}\n"
        + "雪顿节,2027-08-31,2027-09-02,地方,\n"
    )
    response = upload(admin, "/admin/holidays/import", text.encode("gb18030"))
    assert response.status_code == 302
    periods = db.session.execute(select(HolidayPeriod).order_by(HolidayPeriod.start)).scalars()
    rows = [(p.name, p.region, p.makeup_dates) for p in periods]
    assert rows == [
        ("测试节", "national", [day + timedelta(days=6)]),
        ("雪顿节", "local", []),
    ]
    db.session.expire_all()
    assert db.session.get(Report, report.id).round_start is not None
    assert "已导入 2 个节假日" in admin.get("/admin/holidays").get_data(as_text=True)


def test_one_bad_holiday_row_imports_nothing_and_names_each_bad_row(app, org, login_as):
    add_holiday_period(
        "春节", date(2027, 2, 5), date(2027, 2, 13), "national", [], actor=audit.SYSTEM
    )
    admin, _ = login_as("sysadmin", org["city"])
    text = (
        HEADER
        + "元旦,2027-01-01,2027-01-03,全国,\n"  # line 2: good
        + "清明节,2027-04-05,2027-04-03,全国,\n"  # line 3: ends before it starts
        + "劳动节,2027-5-1,2027-05-05,全国,2027-04-31\n"  # line 4: two bad dates
        + "元旦,2027-01-02,2027-01-02,全国,\n"  # line 5: duplicate of line 2
        + "春节,2027-02-05,2027-02-13,全国,\n"  # line 6: already entered for 2027
        + "端午节,2027-06-09,2027-06-09,省级,\n"  # line 7: unknown scope
    )
    response = upload(admin, "/admin/holidays/import", text.encode("utf-8-sig"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "没有导入任何记录" in page and "只能导入您管理范围内的车辆" not in page
    assert "第 3 行" in page and "结束日期不能早于开始日期" in page
    assert "第 4 行" in page and "2027-5-1" in page and "2027-04-31" in page
    assert "第 5 行" in page and "与第 2 行重复" in page
    assert "第 6 行" in page and "已有 2027 年的节假日“春节”" in page
    assert "第 7 行" in page and "省级" in page
    assert "第 2 行：" not in page
    assert db.session.scalar(select(func.count()).select_from(HolidayPeriod)) == 1
    missing = upload(admin, "/admin/holidays/import", "名称,开始日期\n元旦,2027-01-01\n".encode())
    assert missing.status_code == 422 and "缺少列：结束日期、范围" in missing.get_data(as_text=True)


def test_tibetan_holidays_by_the_phugpa_calendar():
    expected = {
        2025: (date(2025, 2, 28), date(2025, 8, 23)),
        2026: (date(2026, 2, 18), date(2026, 8, 12)),
        2027: (date(2027, 2, 7), date(2027, 8, 31)),
    }
    for year, (losar, shoton) in expected.items():
        found = {name: first for name, first, _days in tibetan_holidays(year)}
        assert found == {"藏历新年": losar, "雪顿节": shoton}


def test_suggested_rows_import_as_they_are(app, org, runner, tmp_path):
    suggested = runner.invoke(args=["holidays", "suggest", "2027"])
    assert suggested.exit_code == 0, suggested.output
    rows = list(csv.reader(io.StringIO(suggested.stdout)))
    assert rows == [
        ["名称", "开始日期", "结束日期", "范围", "调休上班日"],
        ["藏历新年", "2027-02-07", "2027-02-13", "地方", ""],
        ["雪顿节", "2027-08-31", "2027-09-02", "地方", ""],
    ]
    table = tmp_path / "2027.csv"
    table.write_text(suggested.stdout, encoding="utf-8")
    imported = runner.invoke(args=["holidays", "import", str(table)])
    assert imported.exit_code == 0 and "imported 2 holiday periods" in imported.output
    again = runner.invoke(args=["holidays", "import", str(table)])
    assert again.exit_code != 0 and "line 2" in again.output and "nothing imported" in again.output


def test_the_demo_seeds_agree_with_the_tibetan_calendar():
    with open(asset_dir("seeds") / "holidays.csv", encoding="utf-8", newline="") as handle:
        seeded = {(r["name"], r["start"]) for r in csv.DictReader(handle)}
    for year in (2026, 2027):
        for name, first, _days in tibetan_holidays(year):
            assert (name, first.isoformat()) in seeded
