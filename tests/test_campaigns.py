"""Holiday campaigns and their weekly rounds: derivation, round assignment at the edges,
the in-campaign evidence, the admin's holiday data and the queue's round filter."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from vehiclewatch import audit
from vehiclewatch.calendar.models import HolidayPeriod
from vehiclewatch.calendar.rounds import build_campaigns, load_campaigns, round_for
from vehiclewatch.extensions import db
from vehiclewatch.fleet.stickers import issue_sticker
from vehiclewatch.reports.models import Report

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_overlapping_holidays_give_one_campaign():
    campaigns = build_campaigns(
        [
            ("春节", date(2026, 2, 15), date(2026, 2, 23)),
            ("藏历新年", date(2026, 2, 18), date(2026, 2, 24)),
            ("清明节", date(2026, 4, 4), date(2026, 4, 6)),
        ]
    )
    assert [(c.start, c.end) for c in campaigns] == [
        (date(2026, 2, 8), date(2026, 3, 3)),
        (date(2026, 3, 28), date(2026, 4, 13)),
    ]
    assert campaigns[0].holidays == ("春节", "藏历新年")
    assert "春节、藏历新年" in campaigns[0].name


def test_windows_that_touch_merge_and_campaigns_never_overlap():
    campaigns = build_campaigns(
        [("甲", date(2026, 5, 1), date(2026, 5, 3)), ("乙", date(2026, 5, 18), date(2026, 5, 19))]
    )
    # 5-3 + 7 = 5-10 and 5-18 - 7 = 5-11: adjacent days, one campaign.
    assert len(campaigns) == 1
    apart = build_campaigns(
        [("甲", date(2026, 5, 1), date(2026, 5, 3)), ("乙", date(2026, 5, 19), date(2026, 5, 20))]
    )
    assert len(apart) == 2 and apart[0].end < apart[1].start


def test_rounds_are_calendar_weeks_clipped_to_the_campaign():
    (campaign,) = build_campaigns([("春节", date(2026, 2, 15), date(2026, 2, 23))])
    rounds = campaign.rounds()
    assert campaign.start == date(2026, 2, 8)  # a Sunday
    assert (rounds[0].start, rounds[0].end) == (date(2026, 2, 8), date(2026, 2, 8))
    assert (rounds[1].start, rounds[1].end) == (date(2026, 2, 9), date(2026, 2, 15))
    assert rounds[1].start.weekday() == 0 and rounds[1].end.weekday() == 6
    assert rounds[-1].end == campaign.end == date(2026, 3, 2)
    assert [r.number for r in rounds] == list(range(1, len(rounds) + 1))
    days = sum((r.end - r.start).days + 1 for r in rounds)
    assert days == (campaign.end - campaign.start).days + 1


@pytest.fixture
def campaigns_2026(new_year_2026):
    return load_campaigns()


@pytest.mark.parametrize(
    "local, expected",
    [
        (datetime(2026, 2, 7, 23, 59), None),  # the day before the campaign
        (datetime(2026, 2, 8, 0, 0), date(2026, 2, 8)),  # its first day (a Sunday round)
        (datetime(2026, 2, 15, 23, 59), date(2026, 2, 9)),  # Sunday night: still that week
        (datetime(2026, 2, 16, 0, 0), date(2026, 2, 16)),  # Monday: the next round
        (datetime(2026, 3, 3, 23, 59), date(2026, 3, 2)),  # the campaign's last day
        (datetime(2026, 3, 4, 0, 0), None),  # the day after
    ],
)
def test_round_assignment_at_the_edges(campaigns_2026, local, expected):
    found = round_for(local.date(), campaigns_2026)
    assert (found.start if found else None) == expected


def test_reports_are_linked_to_their_round_by_local_seen_at(
    campaigns_2026, org, make_vehicle, make_report
):
    car = make_vehicle(org["a-jy"])
    issue_sticker(car, actor=audit.SYSTEM)
    # 2026-02-15 16:30 UTC is Monday 00:30 in Shanghai: the round of 2-16, not 2-9.
    monday, _ = make_report(car, seen_at=datetime(2026, 2, 15, 16, 30, tzinfo=ZoneInfo("UTC")))
    assert monday.round_start == date(2026, 2, 16)
    assert "in_campaign" in monday.score_details
    outside, _ = make_report(car, seen_at=datetime(2026, 3, 20, 4, 0, tzinfo=ZoneInfo("UTC")))
    assert outside.round_start is None and "in_campaign" not in outside.score_details


def test_adding_a_holiday_relinks_existing_reports(app, org, make_vehicle, make_report, login_as):
    car = make_vehicle(org["a-jy"])
    issue_sticker(car, actor=audit.SYSTEM)
    seen = datetime.now(SHANGHAI) - timedelta(days=2)
    report, _ = make_report(car, seen_at=seen)
    assert report.round_start is None
    admin, _ = login_as("sysadmin", org["city"])
    day = seen.date()
    response = admin.post(
        "/admin/holidays",
        data={
            "name": "雪顿节",
            "start": day.isoformat(),
            "end": day.isoformat(),
            "region": "local",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    linked = db.session.get(Report, report.id)
    assert linked.round_start is not None and linked.score >= 10
    officer, _ = login_as("officer", org["a"])
    listing = officer.get(f"/review/?round={linked.round_start.isoformat()}").get_data(as_text=True)
    assert f"/review/reports/{report.id}" in listing
    assert f"/review/reports/{report.id}" not in officer.get("/review/?round=2020-01-06").get_data(
        as_text=True
    )
    page = officer.get("/campaigns").get_data(as_text=True)
    assert "雪顿节" in page
    # Deleting it unlinks again.
    period = db.session.execute(select(HolidayPeriod)).scalar_one()
    admin.post(f"/admin/holidays/{period.id}/delete")
    db.session.expire_all()
    assert db.session.get(Report, report.id).round_start is None


def test_holiday_form_refuses_bad_dates(app, org, login_as):
    admin, _ = login_as("sysadmin", org["city"])
    response = admin.post(
        "/admin/holidays",
        data={
            "name": "错",
            "start": "2026-05-05",
            "end": "2026-05-01",
            "region": "national",
            "makeup_workdays": "五月一日",
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "结束日期不能早于开始日期" in page and "YYYY-MM-DD" in page
