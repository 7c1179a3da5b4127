"""Vehicles: plates, scope, add/edit/retire, import and export."""

import csv
import io

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from vehiclewatch.audit import AuditEntry
from vehiclewatch.extensions import db
from vehiclewatch.fleet.models import Vehicle
from vehiclewatch.fleet.plates import InvalidPlate, normalise_plate

from .conftest import count_rows, upload

HEADER = "车牌号,单位编码,编制类别,品牌型号,颜色,状态,公开标识\n"


@pytest.mark.parametrize(
    "typed, canonical",
    [
        ("藏A·12345", "藏A·12345"),
        ("藏a12345", "藏A·12345"),
        (" 藏A 123 45 ", "藏A·12345"),
        ("藏A.D12345", "藏A·D12345"),
        ("藏ad12345", "藏A·D12345"),
        ("京B·12345F", "京B·12345F"),
        ("藏A1234警", "藏A·1234警"),
    ],
)
def test_plate_normalisation(typed, canonical):
    assert normalise_plate(typed) == canonical


@pytest.mark.parametrize(
    "typed", ["", "12345", "藏A1234", "藏A1234567", "XA12345", "藏A12I45", "藏1·12345"]
)
def test_bad_plates_are_refused(typed):
    with pytest.raises(InvalidPlate):
        normalise_plate(typed)


def test_fleet_admin_adds_edits_and_retires_a_vehicle(org, login_as):
    client, _ = login_as("fleet_admin", org["a"])
    response = client.post(
        "/fleet/vehicles/new",
        data={
            "plate": "藏b 6688f",
            "unit_id": org["a-jy"].id,
            "category": "emergency",
            "brand_model": "丰田 普拉多",
            "colour": "白色",
            "publicly_marked": "y",
        },
    )
    assert response.status_code == 302
    vehicle = db.session.execute(select(Vehicle)).scalar_one()
    assert vehicle.plate == "藏B·6688F" and vehicle.unit_id == org["a-jy"].id
    listing = client.get("/fleet/vehicles?q=6688").get_data(as_text=True)
    assert "藏B·6688F" in listing and "应急保障用车" in listing

    response = client.post(
        f"/fleet/vehicles/{vehicle.id}",
        data={
            "plate": "藏B·6688F",
            "unit_id": org["a"].id,
            "category": "emergency",
            "colour": "黑色",
            "status": "repair",
        },
    )
    # Made confidential: back to the car's page, which says what the public now sees.
    assert response.headers["Location"] == f"/fleet/vehicles/{vehicle.id}"
    assert "公众现在看到的" in client.get(response.headers["Location"]).text
    db.session.refresh(vehicle)
    assert vehicle.colour == "黑色" and vehicle.status == "repair"
    assert vehicle.publicly_marked is False

    client.post(f"/fleet/vehicles/{vehicle.id}/retire", data={"reason": "报废"})
    db.session.refresh(vehicle)
    assert vehicle.status == "disposed"
    actions = [e.action for e in db.session.execute(select(AuditEntry)).scalars()]
    assert actions[-3:] == ["vehicle_created", "vehicle_updated", "vehicle_retired"]


def test_duplicate_plate_and_bad_plate_keep_the_form(org, login_as, make_vehicle):
    make_vehicle(org["a-jy"], plate="藏B·11111")
    client, _ = login_as("fleet_admin", org["a"])
    data = {"plate": "藏b11111", "unit_id": org["a"].id, "category": "other", "colour": "蓝色"}
    response = client.post("/fleet/vehicles/new", data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "该车牌号已登记" in page and 'value="蓝色"' in page
    response = client.post("/fleet/vehicles/new", data=data | {"plate": "123"})
    assert "车牌号格式不正确" in response.get_data(as_text=True)
    assert count_rows(Vehicle) == 1


def test_fleet_admin_of_county_a_never_sees_county_b(org, login_as, make_vehicle):
    mine = make_vehicle(org["a-jy"], plate="藏B·22222")
    theirs = make_vehicle(org["b-jy"], plate="藏C·33333")
    client, _ = login_as("fleet_admin", org["a"])
    assert client.get(f"/fleet/vehicles/{theirs.id}").status_code == 404
    assert (
        client.post(f"/fleet/vehicles/{theirs.id}/retire", data={"reason": "x"}).status_code == 404
    )
    assert client.get(f"/fleet/vehicles/{mine.id}").status_code == 200
    listing = client.get("/fleet/vehicles").get_data(as_text=True)
    assert "藏B·22222" in listing and "藏C·33333" not in listing
    exported = client.get("/fleet/vehicles/export.csv").get_data().decode("utf-8-sig")
    assert "藏B·22222" in exported and "藏C·33333" not in exported
    # Nor can a vehicle be moved into another county's unit.
    response = client.post(
        f"/fleet/vehicles/{mine.id}",
        data={
            "plate": "藏B·22222",
            "unit_id": org["b-jy"].id,
            "category": "other",
            "status": "in_use",
        },
    )
    assert response.status_code == 422
    db.session.refresh(mine)
    assert mine.unit_id == org["a-jy"].id


def test_city_fleet_admin_sees_the_whole_tree(org, login_as, make_vehicle):
    make_vehicle(org["a-jy"], plate="藏B·22222")
    make_vehicle(org["b-jy"], plate="藏C·33333")
    client, _ = login_as("fleet_admin", org["city"])
    listing = client.get("/fleet/vehicles").get_data(as_text=True)
    assert "藏B·22222" in listing and "藏C·33333" in listing


def test_import_csv_with_bom(org, login_as):
    client, _ = login_as("fleet_admin", org["city"])
    text = HEADER + "藏B12345,a-jy,执法执勤用车,红旗 H5,黑色,在用,是\n藏bd12345,a,other,,,,否\n"
    response = upload(client, "/fleet/vehicles/import", text.encode("utf-8-sig"), "v.csv")
    assert response.status_code == 302
    plates = set(db.session.execute(select(Vehicle.plate)).scalars())
    assert plates == {"藏B·12345", "藏B·D12345"}
    marked = db.session.execute(select(Vehicle).where(Vehicle.plate == "藏B·D12345")).scalar_one()
    assert marked.publicly_marked is False and marked.category == "other"


def test_import_gb18030_csv(org, login_as):
    client, _ = login_as("fleet_admin", org["city"])
    text = HEADER + "藏B·54321,a-jy,应急保障用车,比亚迪 汉,白色,维修,是\n"
    assert (
        upload(client, "/fleet/vehicles/import", text.encode("gb18030"), "v.csv").status_code == 302
    )
    vehicle = db.session.execute(select(Vehicle)).scalar_one()
    assert vehicle.brand_model == "比亚迪 汉" and vehicle.status == "repair"


def test_import_xlsx(org, login_as):
    client, _ = login_as("fleet_admin", org["city"])
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER.strip().split(","))
    sheet.append(["藏C·88888", "b-jy", "特种专业技术用车", "五菱", "银色", "在用", "是"])
    out = io.BytesIO()
    book.save(out)
    assert upload(client, "/fleet/vehicles/import", out.getvalue(), "v.xlsx").status_code == 302
    assert db.session.execute(select(Vehicle.plate)).scalar_one() == "藏C·88888"


def test_one_bad_row_imports_nothing_and_names_each_bad_row(org, login_as, make_vehicle):
    make_vehicle(org["a-jy"], plate="藏B·99999")
    client, _ = login_as("fleet_admin", org["city"])
    text = (
        HEADER
        + "藏B·10001,a-jy,执法执勤用车,,,,\n"  # line 2: good
        + "藏B10,a-jy,执法执勤用车,,,,\n"  # line 3: bad plate
        + "藏B·10002,nowhere,执法执勤用车,,,,\n"  # line 4: unknown unit
        + "藏B·10001,a-jy,飞行器,,,,\n"  # line 5: duplicate in file + bad category
        + "藏B·99999,a-jy,其他按规定配备用车,,,,\n"  # line 6: already registered
    )
    response = upload(client, "/fleet/vehicles/import", text.encode("utf-8"), "v.csv")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "没有导入任何记录" in page
    assert "第 3 行" in page and "格式不正确" in page
    assert "第 4 行" in page and "nowhere" in page
    assert "第 5 行" in page and "与第 2 行重复" in page and "飞行器" in page
    assert "第 6 行" in page and "已登记" in page
    assert "第 2 行：" not in page
    assert count_rows(Vehicle) == 1


def test_fleet_admin_cannot_import_into_another_county(org, login_as):
    client, _ = login_as("fleet_admin", org["a"])
    text = HEADER + "藏C·10001,b-jy,执法执勤用车,,,,\n"
    response = upload(client, "/fleet/vehicles/import", text.encode("utf-8"), "v.csv")
    assert response.status_code == 422
    assert "不在管辖范围" in response.get_data(as_text=True)
    assert count_rows(Vehicle) == 0


def test_unreadable_file_is_refused_clearly(org, login_as):
    client, _ = login_as("fleet_admin", org["city"])
    response = upload(client, "/fleet/vehicles/import", b"\xff\xfe\x00garbage\x81\x00", "v.csv")
    assert response.status_code == 422
    assert count_rows(Vehicle) == 0


def test_export_neutralises_formula_cells(org, login_as, make_vehicle):
    make_vehicle(org["a-jy"], plate="藏B·77777", brand_model="=cmd|' /C calc'!A0", colour="@SUM(1)")
    client, _ = login_as("fleet_admin", org["city"])
    text = client.get("/fleet/vehicles/export.csv").get_data().decode("utf-8-sig")
    row = next(r for r in csv.reader(io.StringIO(text)) if r[0] == "藏B·77777")
    assert row[4] == "'=cmd|' /C calc'!A0" and row[5] == "'@SUM(1)"
    book = load_workbook(io.BytesIO(client.get("/fleet/vehicles/export.xlsx").get_data()))
    cells = [c.value for c in next(r for r in book.active.iter_rows() if r[0].value == "藏B·77777")]
    assert cells[4].startswith("'=") and cells[5].startswith("'@")
    actions = [e.action for e in db.session.execute(select(AuditEntry)).scalars()]
    assert actions.count("vehicles_exported") == 2


def test_export_then_import_round_trips(org, login_as, make_vehicle, runner, tmp_path):
    make_vehicle(org["a-jy"], plate="藏B·70001", category="emergency")
    make_vehicle(org["b-jy"], plate="藏C·70002", publicly_marked=False)
    out = tmp_path / "all.xlsx"
    assert (
        runner.invoke(args=["export-vehicles", "--format", "xlsx", "--out", str(out)]).exit_code
        == 0
    )
    db.session.execute(Vehicle.__table__.delete())
    db.session.commit()
    result = runner.invoke(args=["import-vehicles", str(out)])
    assert result.exit_code == 0, result.output
    assert "imported 2 vehicles" in result.output
    hidden = db.session.execute(select(Vehicle).where(Vehicle.plate == "藏C·70002")).scalar_one()
    assert hidden.publicly_marked is False


def test_cli_import_reports_bad_rows(org, runner, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(HEADER + "藏B·1,a-jy,执法执勤用车,,,,\n", encoding="utf-8")
    result = runner.invoke(args=["import-vehicles", str(path)])
    assert result.exit_code != 0
    assert "line 2" in result.output and "nothing imported" in result.output


def test_a_unit_that_cannot_sit_there_is_explained_in_chinese(org, login_as):
    client, _ = login_as("sysadmin", org["city"])
    response = client.post(
        "/admin/units/new",
        data={"code": "c-x", "name": "丙县", "kind": "county", "parent_id": org["a-jy"].id},
        follow_redirects=True,
    )
    assert "无法保存单位：县（区）只能直接隶属于市本级。" in response.text


def test_a_print_start_past_the_sheet_is_explained(org, login_as, make_vehicle):
    make_vehicle(org["a-jy"])
    client, _ = login_as("fleet_admin", org["a"])
    response = client.post(
        "/fleet/stickers/print", data={"layout": "a4-6", "start": 7, "unit_id": 0}
    )
    assert "起始位置须在 1 到 6 之间，收到 7" in response.text
