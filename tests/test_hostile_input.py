"""What a hostile or careless client sends gets a clear answer, never a 500: control
characters, full-width text, oversized numbers and cursors, crafted tables and photos."""

import base64
import io
import json
import re
import zipfile

import pytest
from openpyxl import load_workbook
from PIL import Image
from sqlalchemy import select, text

from vehiclewatch import audit, tables
from vehiclewatch.extensions import db
from vehiclewatch.fleet.models import Vehicle
from vehiclewatch.reports.filing import MAX_REPORT_PHOTOS
from vehiclewatch.reports.models import Report
from vehiclewatch.reports.photos import PhotoRejected, process_photo

from .photo_samples import jpeg_bytes, processed_photo
from .test_citizen import _form_fields, _receipt, _report_data
from .test_fleet import HEADER

CONTROLS = "\x00\x01\x08\x0b\x0c\x1b\x7f"


def _post_report(client, path: str, **fields):
    page = client.get(path).get_data(as_text=True)
    data = _report_data(page, **fields)
    return client.post(path, data=data, content_type="multipart/form-data")


# --- control characters -----------------------------------------------------------------


def test_control_characters_are_stripped_and_the_report_is_kept(client, car):
    response = _post_report(
        client,
        f"/v/{car.live_sticker.token}/report",
        place=f"某某{CONTROLS}酒店",
        description=f"第一行\r\n第二行\t有{CONTROLS}喜糖",
        reporter_name="张\x00三",
    )
    assert response.status_code == 200
    assert _receipt(response.get_data(as_text=True))
    report = db.session.execute(select(Report)).scalar_one()
    assert report.place == "某某酒店"
    assert report.description == "第一行\r\n第二行\t有喜糖"


def test_a_nul_in_the_login_name_is_a_failed_login(client, make_user, org):
    user = make_user("officer", org["a"])
    response = client.post("/login", data={"username": f"{user.username}\x00", "password": "x"})
    assert response.status_code in (200, 401)
    assert "用户名或密码错误" in response.get_data(as_text=True)


def test_a_nul_in_a_query_is_stripped(client, car):
    response = client.get("/v?q=%00" + car.live_sticker.short_code)
    assert response.status_code == 302


def test_exports_write_cells_with_control_characters(make_report, car, login_as, org):
    # Stored past the form (PostgreSQL could not even hold a NUL): the export must cope.
    make_report(car, place="门口\x01\x1b")
    make_report(car, place="=\x02cmd|' /C calc'!A0")
    db.session.execute(
        text("UPDATE vehicle SET brand_model = :b WHERE id = :id"),
        {"b": "红旗\x1bH5", "id": car.id},
    )
    db.session.commit()
    officer, _ = login_as("officer", org["a"])
    response = officer.get("/review/export.xlsx")
    assert response.status_code == 200
    cells = [c for row in load_workbook(io.BytesIO(response.get_data())).active.values for c in row]
    assert "门口" in cells
    assert "'=cmd|' /C calc'!A0" in cells  # stripped first, then neutralised
    fleet, _ = login_as("fleet_admin", org["city"])
    response = fleet.get("/fleet/vehicles/export.xlsx")
    assert response.status_code == 200
    cells = [c for row in load_workbook(io.BytesIO(response.get_data())).active.values for c in row]
    assert "红旗H5" in cells


# --- photos on /track/add ---------------------------------------------------------------


def _add(client, receipt: str, count: int):
    photos = [(io.BytesIO(jpeg_bytes()), f"{n}.jpg") for n in range(count)]
    return client.post(
        "/track/add",
        data={"receipt": receipt, "text": "补充", "photos": photos},
        content_type="multipart/form-data",
    )


def test_an_addition_takes_three_photos_and_a_report_twelve(client, car, make_report):
    report, receipt = make_report(car, photos=[processed_photo() for _ in range(3)])
    response = _add(client, receipt, 4)
    assert response.status_code == 422
    assert "最多上传 3 张照片" in response.get_data(as_text=True)
    for _ in range(3):
        assert _add(client, receipt, 3).status_code == 200
    db.session.refresh(report)
    assert len(report.photos) == MAX_REPORT_PHOTOS
    response = _add(client, receipt, 1)
    assert response.status_code == 422
    assert "每件举报最多 12 张照片，还可以补充 0 张" in response.get_data(as_text=True)
    db.session.refresh(report)
    assert len(report.photos) == MAX_REPORT_PHOTOS


# --- full-width input -------------------------------------------------------------------


def test_full_width_plates_codes_and_receipts_are_understood(client, car):
    response = _post_report(client, "/report", plate="藏Ｂ·１２３４５")
    assert response.status_code == 200
    report = db.session.execute(select(Report)).scalar_one()
    assert report.vehicle_id == car.id
    receipt = _receipt(response.get_data(as_text=True))
    wide = receipt.translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)})
    found = client.post("/track", data={"receipt": wide})
    assert found.status_code == 200 and "举报" in found.get_data(as_text=True)
    code = car.live_sticker.short_code
    wide_code = code.translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)})
    assert client.get(f"/v?q={wide_code}").status_code == 302


# --- hidden fields ----------------------------------------------------------------------


@pytest.mark.parametrize("latitude", ["abc", "91", "nan", "inf"])
def test_a_bad_position_is_named_and_dropped(client, car, latitude):
    path = f"/v/{car.live_sticker.token}/report"
    response = _post_report(client, path, latitude=latitude, longitude="91.1")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "位置信息无效，已去掉" in page
    hidden = re.search(r'<input[^>]*name="latitude"[^>]*>', page).group(0)
    assert 'value=""' in hidden, hidden
    again = client.post(
        path, data=_report_data(page, latitude="", longitude=""), content_type="multipart/form-data"
    )
    assert again.status_code == 200


def test_a_missing_submission_id_is_named_and_renewed(client, car):
    path = f"/v/{car.live_sticker.token}/report"
    response = _post_report(client, path, submission_id="")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "表单缺少提交编号" in page
    assert _form_fields(page)["submission_id"]
    again = client.post(path, data=_report_data(page), content_type="multipart/form-data")
    assert again.status_code == 200


# --- numbers and cursors ----------------------------------------------------------------

HUGE = "99999999999999999999"
# Past PostgreSQL's INTEGER, within SQLite's.
BIG = "3000000000"


@pytest.mark.parametrize("number", [HUGE, BIG])
def test_oversized_ids_in_routes_are_404(client, login_as, org, number):
    assert client.get(f"/bulletins/{number}").status_code == 404
    officer, _ = login_as("officer", org["a"])
    assert officer.get(f"/review/reports/{number}").status_code == 404
    admin, _ = login_as("sysadmin", org["city"])
    assert admin.get(f"/admin/users/{number}").status_code == 404
    fleet, _ = login_as("fleet_admin", org["city"])
    assert fleet.get(f"/fleet/vehicles/{number}").status_code == 404


@pytest.mark.parametrize("number", [HUGE, BIG])
def test_oversized_numbers_in_queries_and_forms_are_400(login_as, org, make_report, car, number):
    officer, _ = login_as("officer", org["a"])
    assert officer.get(f"/review/?unit={number}").status_code == 400
    assert officer.get(f"/review/?jurisdiction={number}").status_code == 400
    fleet, _ = login_as("fleet_admin", org["city"])
    assert fleet.get(f"/fleet/vehicles?unit={number}").status_code == 400
    assert fleet.get(f"/fleet/vehicles?page={number}").status_code == 400
    assert fleet.get(f"/fleet/trips?page={number}").status_code == 400
    report, _ = make_report(car)
    response = officer.post(
        f"/review/reports/{report.id}",
        data={"action": "mark_duplicate", "version": report.version, "duplicate_of": number},
    )
    assert response.status_code in (400, 422)


def _cursor(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        _cursor([1e999, "2026-01-01T00:00:00+00:00", 1]),
        _cursor([10, "2026-01-01T00:00:00", 1]),
        _cursor([10, "2026-01-01T00:00:00+00:00", int(HUGE)]),
        _cursor([int(HUGE), "2026-01-01T00:00:00+00:00", 1]),
        _cursor("x"),
        "!!!",
    ],
)
def test_crafted_queue_cursors_are_400(login_as, org, cursor):
    officer, _ = login_as("officer", org["a"])
    assert officer.get("/review/", query_string={"after": cursor}).status_code == 400


# --- tables -----------------------------------------------------------------------------


def _upload(client, data: bytes, name: str):
    return client.post(
        "/fleet/vehicles/import",
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def _xlsx(rows) -> bytes:
    return tables.write_xlsx(rows[0], rows[1:])


def test_imported_cells_and_file_names_lose_their_control_characters(org, login_as):
    client, _ = login_as("fleet_admin", org["city"])
    table = HEADER + "藏B12345,a-jy,执法执勤用车,红旗\x00H5,黑\x1b色,在用,是\n"
    assert _upload(client, table.encode(), "v\x00.csv").status_code == 302
    vehicle = db.session.execute(select(Vehicle)).scalar_one()
    assert (vehicle.brand_model, vehicle.colour) == ("红旗H5", "黑色")
    entry = db.session.execute(
        select(audit.AuditEntry).where(audit.AuditEntry.action == "vehicles_imported")
    ).scalar_one()
    assert json.loads(entry.after)["file"] == "v.csv"


def test_a_csv_cell_past_the_csv_module_limit_is_refused(org, login_as):
    client, _ = login_as("fleet_admin", org["city"])
    table = HEADER + '藏B12345,a-jy,执法执勤用车,"' + "x" * 140_000 + '",黑色,在用,是\n'
    response = _upload(client, table.encode(), "v.csv")
    assert response.status_code == 422
    assert "单元格过长或引号不成对" in response.get_data(as_text=True)


def test_a_long_cell_is_refused_with_its_line(org, login_as):
    client, _ = login_as("fleet_admin", org["city"])
    table = HEADER + "藏B12345,a-jy,执法执勤用车,红旗,黑色,在用,是\n"
    table += "藏B12346,a-jy,执法执勤用车," + "x" * 5000 + ",黑色,在用,是\n"
    response = _upload(client, table.encode(), "v.csv")
    assert response.status_code == 422
    assert "单元格过长" in response.get_data(as_text=True)
    assert db.session.execute(select(Vehicle)).first() is None


def test_too_many_rows_are_refused_without_reading_them_all(org, login_as, monkeypatch):
    monkeypatch.setattr(tables, "MAX_TABLE_ROWS", 50)
    client, _ = login_as("fleet_admin", org["city"])
    rows = [HEADER.strip().split(",")] + [[f"藏B{10000 + n}", "a-jy", "其他"] for n in range(60)]
    for data, name in (
        (_xlsx(rows), "v.xlsx"),
        ("\n".join(",".join(r) for r in rows).encode(), "v.csv"),
    ):
        response = _upload(client, data, name)
        assert response.status_code == 422
        assert "行数过多（每个文件不超过 50 行）" in response.get_data(as_text=True)
    assert db.session.execute(select(Vehicle)).first() is None


def test_the_row_cap_is_at_least_fifty_thousand():
    assert tables.MAX_TABLE_ROWS >= 50_000


def _bomb(member: str, size: int) -> bytes:
    """A real workbook with one member inflated to `size` bytes (zeros compress ~1000:1)."""
    source = zipfile.ZipFile(io.BytesIO(_xlsx([HEADER.strip().split(",")])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info, source.read(info))
        with target.open(member, "w", force_zip64=True) as handle:
            chunk = b" " * (1024 * 1024)
            for _ in range(size // len(chunk)):
                handle.write(chunk)
    return out.getvalue()


def test_xlsx_that_unpacks_too_far_is_refused_before_parsing(org, login_as):
    client, _ = login_as("fleet_admin", org["city"])
    strings = _bomb("xl/sharedStrings.xml", tables.MAX_XLSX_SHARED_STRINGS + 2**20)
    unpacked = _bomb("xl/media/padding.bin", tables.MAX_XLSX_UNPACKED + 2**20)
    for data in (strings, unpacked):
        assert len(data) < 1024 * 1024
        response = _upload(client, data, "v.xlsx")
        assert response.status_code == 422
        assert "表格内容过多" in response.get_data(as_text=True)


def test_a_file_past_the_size_cap_is_refused(org, login_as, monkeypatch):
    monkeypatch.setattr(tables, "MAX_TABLE_BYTES", 1000)
    client, _ = login_as("fleet_admin", org["city"])
    response = _upload(client, (HEADER + "x" * 2000).encode(), "v.csv")
    assert response.status_code == 422
    assert "文件过大" in response.get_data(as_text=True)


def test_the_command_line_import_gives_the_same_answer(runner, org, tmp_path):
    path = tmp_path / "v.csv"
    path.write_text(HEADER + '藏B12345,a-jy,执法执勤用车,"' + "x" * 140_000 + '",黑色,在用,是\n')
    result = runner.invoke(args=["import-vehicles", str(path)])
    assert result.exit_code != 0
    assert "line 2:" in result.output and "nothing imported" in result.output


# --- photos -----------------------------------------------------------------------------


def test_a_large_progressive_jpeg_is_refused_and_a_baseline_one_decoded():
    image = Image.new("RGB", (1200, 900), (120, 60, 30))
    baseline, progressive = io.BytesIO(), io.BytesIO()
    image.save(baseline, "JPEG")
    image.save(progressive, "JPEG", progressive=True)
    with pytest.raises(PhotoRejected) as refused:
        process_photo(progressive.getvalue(), max_progressive_pixels=1_000_000)
    assert refused.value.reason == "too_many_pixels"
    assert process_photo(baseline.getvalue(), max_progressive_pixels=1_000_000).width == 1200
    assert process_photo(progressive.getvalue(), max_progressive_pixels=2_000_000).width == 1200


# --- logs -------------------------------------------------------------------------------


def test_database_errors_keep_statement_parameters_out(app):
    from sqlalchemy.exc import StatementError

    assert db.engine.hide_parameters
    secret = "某某大酒店门口的描述"
    with pytest.raises(StatementError) as failed:
        db.session.execute(text("SELECT :place FROM no_such_table"), {"place": secret})
    db.session.rollback()
    assert "no_such_table" in str(failed.value)
    assert secret not in str(failed.value)


def test_gunicorn_error_log_has_no_client_address(tmp_path):
    from gunicorn.config import Config

    from vehiclewatch.gunicornlog import AddresslessLogger

    config = Config()
    log_file = tmp_path / "error.log"
    config.set("errorlog", str(log_file))
    logger = AddresslessLogger(config)
    logger.warning("Invalid request from ip=203.0.113.9: Invalid HTTP request line: 'x'")
    logger.warning("Invalid request from ip=2001:db8::1: bad")
    logger.error("Worker (pid:%s) exited with code %s.", 42, 1)
    for handler in logger.error_log.handlers:
        handler.flush()
    written = log_file.read_text()
    assert "203.0.113.9" not in written and "2001:db8" not in written
    assert written.count("ip=-") == 2
    assert "Worker (pid:42) exited with code 1." in written
    assert re.search(r"Invalid HTTP request line", written)
