"""The demo data and the command-line tools an operator uses first."""

from sqlalchemy import func, select

from vehiclewatch import asset_dir
from vehiclewatch.auth.models import Unit, User
from vehiclewatch.auth.scope import case_unit_ids
from vehiclewatch.extensions import db
from vehiclewatch.fleet.models import Vehicle

from .conftest import count_rows


def test_seed_loads_the_demo_city_once(runner):
    result = runner.invoke(args=["seed"])
    assert result.exit_code == 0, result.output
    assert "20 units" in result.output and "300 vehicles" in result.output
    assert count_rows(Unit) == 20 and count_rows(Vehicle) == 300
    categories = set(db.session.execute(select(Vehicle.category)).scalars())
    assert len(categories) == 5
    assert (
        db.session.execute(
            select(func.count()).where(Vehicle.publicly_marked.is_(False))
        ).scalar_one()
        > 0
    )
    again = runner.invoke(args=["seed"])
    assert "already has data" in again.output
    assert count_rows(Vehicle) == 300


def test_demo_accounts_log_in_and_scopes_follow_the_tree(runner, client):
    runner.invoke(args=["seed"])
    roles = set(db.session.execute(select(User.role)).scalars())
    assert roles == {"sysadmin", "fleet_admin", "officer", "leader"}
    response = client.post("/login", data={"username": "fleet-cg", "password": "demo-pass-2026"})
    # The password is right; the account sets up its second factor next.
    assert response.status_code == 302 and "/login/enrol" in response.headers["Location"]
    # The county's own 纪委监委 is escalated: its cars go to the city, not to the county.
    officer = db.session.execute(select(User).where(User.username == "officer-cg")).scalar_one()
    visible = set(
        db.session.execute(select(Unit.code).where(Unit.id.in_(case_unit_ids(officer)))).scalars()
    )
    assert "cg-ga" in visible and "cg" in visible
    assert "cg-jw" not in visible and "ds-ga" not in visible
    city = db.session.execute(select(User).where(User.username == "officer-city")).scalar_one()
    city_visible = set(
        db.session.execute(select(Unit.code).where(Unit.id.in_(case_unit_ids(city)))).scalars()
    )
    assert "cg-jw" in city_visible


def test_seed_files_name_no_real_person():
    text = (asset_dir("seeds") / "accounts.csv").read_text(encoding="utf-8")
    assert all(line.split(",")[1].startswith("演示") for line in text.splitlines()[1:])


def test_create_user_command(runner, org):
    result = runner.invoke(
        args=[
            "create-user",
            "li-officer",
            "--name",
            "测试干部",
            "--role",
            "officer",
            "--unit",
            "a",
        ],
        input="long enough password\nlong enough password\n",
    )
    assert result.exit_code == 0, result.output
    user = db.session.execute(select(User).where(User.username == "li-officer")).scalar_one()
    assert user.unit.code == "a" and user.role == "officer"
    short = runner.invoke(
        args=["create-user", "x", "--name", "x", "--role", "officer", "--unit", "a"],
        input="short\nshort\n",
    )
    assert short.exit_code != 0


def test_every_command_has_help(runner):
    for command in (
        "init",
        "seed",
        "serve",
        "create-user",
        "import-vehicles",
        "export-vehicles",
        "print-stickers",
    ):
        result = runner.invoke(args=[command, "--help"])
        assert result.exit_code == 0 and "Usage" in result.output
        assert len(result.output.splitlines()) > 3
    assert "verify" in runner.invoke(args=["audit", "--help"]).output
    assert "sweep" in runner.invoke(args=["photos", "--help"]).output
