"""A fleet admin's car page in Chromium: retiring warns that the sticker goes void, and a car
marked confidential says what the public now sees, which is what a citizen then sees."""

from playwright.sync_api import expect

from .conftest import shot


def test_retire_warning_and_what_the_public_sees_of_a_confidential_car(new_context, server, staff):
    # A car of 东山县交通局, which no other browser test scans.
    ((vehicle_id, plate, token, code),) = server.query(
        "SELECT v.id, v.plate, s.token, s.short_code FROM vehicle v "
        "JOIN sticker s ON s.vehicle_id = v.id JOIN unit u ON u.id = v.unit_id "
        "WHERE u.code = 'ds-jt' AND s.revoked_at IS NULL ORDER BY s.id LIMIT 1"
    )
    fleet = staff("fleet-ds").new_page()
    fleet.goto(f"/fleet/vehicles/{vehicle_id}")
    expect(fleet.locator("#retire-warning")).to_contain_text("立即作废")
    expect(fleet.locator("#retire-warning")).to_contain_text(f"{code[:4]}-{code[4:]}")

    fleet.locator("input[name=publicly_marked]").uncheck()
    fleet.get_by_role("button", name="保存", exact=True).click()
    public_view = fleet.locator("#public-view")
    expect(public_view).to_contain_text("公众现在看到的")
    expect(public_view).to_contain_text("“未找到该监督码”")
    expect(public_view).to_contain_text("“未找到该车辆”")
    shot(fleet, "confidential-car")

    citizen = new_context().new_page()
    for path, heading in (
        (f"/v/{token}", "未找到该监督码"),
        (f"/v?q={code}", "未找到该监督码"),
        (f"/v?q={plate}", "未找到该车辆"),
    ):
        citizen.goto(path)
        expect(citizen.locator("h1")).to_have_text(heading)
