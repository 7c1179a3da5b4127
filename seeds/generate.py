#!/usr/bin/env python3
"""Deterministic generator for vehiclewatch demo seed data (fictional city 示例市).

Usage: python3 seeds/generate.py [OUTPUT_DIR]   (default: directory of this script)
All names are fictional demo labels; no real persons are referenced.
"""

import csv
import os
import random
import sys

RNG = random.Random(2026)

CATEGORIES = [
    "机要通信用车",
    "应急保障用车",
    "执法执勤用车",
    "特种专业技术用车",
    "其他按规定配备用车",
]

# code, name, parent_code, kind, escalated, dept_type
UNITS = [
    ("city", "示例市", "", "city", 0, None),
    ("city-jw", "示例市纪委监委", "city", "department", 1, "jw"),
    ("city-ga", "示例市公安局", "city", "department", 0, "ga"),
    ("city-jg", "示例市机关事务管理局", "city", "department", 0, "jg"),
    ("city-wj", "示例市卫生健康委员会", "city", "department", 0, "wj"),
    ("cg", "城关区", "city", "county", 0, None),
    ("cg-jw", "城关区纪委监委", "cg", "department", 1, "jw"),
    ("cg-ga", "示例市公安局城关分局", "cg", "department", 0, "ga"),
    ("cg-jy", "城关区教育局", "cg", "department", 0, "jy"),
    ("cg-zr", "城关区自然资源局", "cg", "department", 0, "zr"),
    ("ds", "东山县", "city", "county", 0, None),
    ("ds-jw", "东山县纪委监委", "ds", "department", 1, "jw"),
    ("ds-ga", "东山县公安局", "ds", "department", 0, "ga"),
    ("ds-ny", "东山县农业农村局", "ds", "department", 0, "ny"),
    ("ds-jt", "东山县交通运输局", "ds", "department", 0, "jt"),
    ("xh", "西河县", "city", "county", 0, None),
    ("xh-jw", "西河县纪委监委", "xh", "department", 1, "jw"),
    ("xh-ga", "西河县公安局", "xh", "department", 0, "ga"),
    ("xh-wj", "西河县卫生健康局", "xh", "department", 0, "wj"),
    ("xh-yj", "西河县应急管理局", "xh", "department", 0, "yj"),
]

# plate letter by jurisdiction (top-level ancestor below root, or root itself)
PLATE_LETTER = {"city": "A", "cg": "B", "ds": "C", "xh": "D"}

# category weights per department type (order = CATEGORIES)
CAT_WEIGHTS = {
    None: [1, 1, 1, 1, 3],  # county-level government car pool
    "jw": [3, 0, 5, 0, 1],
    "ga": [1, 2, 6, 1, 0],
    "jg": [5, 3, 0, 0, 4],
    "wj": [0, 5, 0, 4, 1],
    "jy": [1, 1, 0, 1, 5],
    "zr": [0, 1, 2, 6, 1],
    "ny": [0, 1, 2, 5, 2],
    "jt": [0, 3, 6, 2, 0],
    "yj": [1, 6, 1, 3, 0],
}

# vehicles per unit (sum must be 300, each >= 5)
VEHICLE_COUNTS = {
    "city-jw": 20,
    "city-ga": 40,
    "city-jg": 25,
    "city-wj": 18,
    "cg": 8,
    "cg-jw": 12,
    "cg-ga": 25,
    "cg-jy": 10,
    "cg-zr": 12,
    "ds": 7,
    "ds-jw": 10,
    "ds-ga": 20,
    "ds-ny": 12,
    "ds-jt": 16,
    "xh": 6,
    "xh-jw": 9,
    "xh-ga": 20,
    "xh-wj": 14,
    "xh-yj": 16,
}

BRANDS = {
    "sedan": [
        "大众 帕萨特",
        "丰田 凯美瑞",
        "红旗 H5",
        "红旗 H7",
        "比亚迪 汉EV",
        "比亚迪 秦PLUS",
        "本田 雅阁",
        "吉利 星瑞",
    ],
    "suv": [
        "丰田 普拉多",
        "丰田 兰德酷路泽",
        "长城 哈弗H6",
        "长安 CS75",
        "大众 途观L",
        "三菱 帕杰罗",
        "坦克 300",
    ],
    "mpv": ["五菱 宏光", "别克 GL8", "江淮 瑞风M4", "金杯 海狮"],
    "special": [
        "依维柯 救护车",
        "江铃 全顺 救护车",
        "五十铃 D-MAX 皮卡",
        "长城 炮 皮卡",
        "宇通 应急指挥车",
    ],
}
NEV_BRANDS = [
    "比亚迪 汉EV",
    "比亚迪 秦PLUS DM-i",
    "比亚迪 唐EV",
    "吉利 几何A",
    "广汽埃安 AION S",
    "红旗 E-QM5",
]
COLORS = ["白色", "黑色", "银色", "灰色", "深蓝色"]
POLICE_COLOR = "蓝白（警用涂装）"

PLATE_CHARS_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I, O
DIGITS = "0123456789"


def plate_letter(code):
    """A for city-level units, otherwise the letter of the owning county/district."""
    parents = {u[0]: u[2] for u in UNITS}
    while parents[code] not in ("", "city"):
        code = parents[code]
    return PLATE_LETTER.get(code, "A") if code.split("-")[0] != "city" else "A"


def ordinary_plate(letter):
    # 5 chars, mostly digits; sometimes one or two letters
    n_letters = RNG.choices([0, 1, 2], weights=[6, 3, 1])[0]
    chars = [RNG.choice(DIGITS) for _ in range(5)]
    for pos in RNG.sample(range(5), n_letters):
        chars[pos] = RNG.choice(PLATE_CHARS_LETTERS)
    return "藏{}·{}".format(letter, "".join(chars))


def nev_plate(letter):
    digits = "".join(RNG.choice(DIGITS) for _ in range(5))
    return f"藏{letter}·{RNG.choice('DF')}{digits}"


def police_plate(letter):
    return "藏{}·{}警".format(letter, "".join(RNG.choice(DIGITS) for _ in range(4)))


def brand_for(category):
    if category == "特种专业技术用车":
        pool = BRANDS["special"] + BRANDS["suv"]
    elif category == "应急保障用车":
        pool = BRANDS["suv"] + BRANDS["special"] + BRANDS["mpv"]
    elif category == "执法执勤用车":
        pool = BRANDS["suv"] + BRANDS["sedan"] + BRANDS["mpv"]
    elif category == "机要通信用车":
        pool = BRANDS["sedan"] + BRANDS["mpv"]
    else:
        pool = BRANDS["sedan"] + BRANDS["mpv"] + BRANDS["suv"]
    return RNG.choice(pool)


def build_vehicles():
    assert sum(VEHICLE_COUNTS.values()) == 300
    dept_type = {u[0]: u[5] for u in UNITS}
    used = set()
    vehicles = []

    def unique(fn, letter):
        while True:
            p = fn(letter)
            if p not in used:
                used.add(p)
                return p

    for code, count in VEHICLE_COUNTS.items():
        dtype = dept_type[code]
        letter = plate_letter(code)
        n_police = 3 if dtype == "ga" else 0
        for i in range(count):
            status = RNG.choices(["在用", "维修", "已处置"], weights=[90, 6, 4])[0]
            if i < n_police:
                plate = unique(police_plate, letter)
                cat = "执法执勤用车"
                brand = RNG.choice(BRANDS["suv"] + BRANDS["sedan"])
                color = POLICE_COLOR
            else:
                cat = RNG.choices(CATEGORIES, weights=CAT_WEIGHTS[dtype])[0]
                if RNG.random() < 0.11:
                    plate = unique(nev_plate, letter)
                    brand = RNG.choice(NEV_BRANDS)
                else:
                    plate = unique(ordinary_plate, letter)
                    brand = brand_for(cat)
                if dtype == "ga" and cat == "执法执勤用车" and RNG.random() < 0.5:
                    color = POLICE_COLOR
                else:
                    color = RNG.choice(COLORS)
            vehicles.append(
                {
                    "车牌号": plate,
                    "单位编码": code,
                    "编制类别": cat,
                    "品牌型号": brand,
                    "颜色": color,
                    "状态": status,
                    "公开标识": "是",
                }
            )

    # 6 confidential vehicles (国家安全/侦查办案 style): unmarked cars in 公安/纪委监委 units
    candidates = [
        v
        for v in vehicles
        if dept_type[v["单位编码"]] in ("ga", "jw")
        and v["颜色"] != POLICE_COLOR
        and v["状态"] == "在用"
        and v["编制类别"] in ("执法执勤用车", "机要通信用车")
    ]
    for v in RNG.sample(candidates, 6):
        v["公开标识"] = "否"
    return vehicles


HOLIDAYS = [
    # name, start, end, region, makeup_workdays
    ("元旦", "2026-01-01", "2026-01-03", "national", ["2026-01-04"]),
    ("春节", "2026-02-15", "2026-02-23", "national", ["2026-02-14", "2026-02-28"]),
    ("藏历新年", "2026-02-18", "2026-02-24", "local", []),
    ("清明节", "2026-04-04", "2026-04-06", "national", []),
    ("劳动节", "2026-05-01", "2026-05-05", "national", ["2026-05-09"]),
    ("端午节", "2026-06-19", "2026-06-21", "national", []),
    ("雪顿节", "2026-08-12", "2026-08-14", "local", []),
    ("中秋节", "2026-09-25", "2026-09-27", "national", []),
    ("国庆节", "2026-10-01", "2026-10-07", "national", ["2026-09-20", "2026-10-10"]),
    ("元旦", "2027-01-01", "2027-01-03", "national", []),
    ("春节", "2027-02-05", "2027-02-13", "national", ["2027-01-31", "2027-02-20"]),
    ("藏历新年", "2027-02-07", "2027-02-13", "local", []),
    ("清明节", "2027-04-03", "2027-04-05", "national", []),
    ("劳动节", "2027-05-01", "2027-05-05", "national", ["2027-04-25", "2027-05-08"]),
    ("端午节", "2027-06-09", "2027-06-09", "national", []),
    ("雪顿节", "2027-08-01", "2027-08-03", "local", []),
    ("中秋节", "2027-09-15", "2027-09-15", "national", []),
    ("国庆节", "2027-10-01", "2027-10-07", "national", ["2027-09-26", "2027-10-09"]),
]

PASSWORD = "demo-pass-2026"
ACCOUNTS = [
    # username, display_name, role, unit_code, can_reveal_contact
    ("admin", "演示系统管理员", "sysadmin", "city", 0),
    ("fleet-city", "演示车管员（示例市）", "fleet_admin", "city", 0),
    ("fleet-cg", "演示车管员（城关区）", "fleet_admin", "cg", 0),
    ("fleet-ds", "演示车管员（东山县）", "fleet_admin", "ds", 0),
    ("officer-city", "演示纪检干部（示例市）", "officer", "city", 1),
    ("officer-cg", "演示纪检干部（城关区）", "officer", "cg", 1),
    ("officer-ds", "演示纪检干部（东山县）", "officer", "ds", 0),
    ("leader-city", "演示领导（示例市）", "leader", "city", 0),
    ("leader-cg", "演示领导（城关区）", "leader", "cg", 0),
]


def write_csv(path, header, rows):
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    os.makedirs(out, exist_ok=True)
    write_csv(
        os.path.join(out, "units.csv"),
        ["code", "name", "parent_code", "kind", "escalated"],
        [u[:5] for u in UNITS],
    )
    vcols = ["车牌号", "单位编码", "编制类别", "品牌型号", "颜色", "状态", "公开标识"]
    write_csv(
        os.path.join(out, "vehicles.csv"), vcols, [[v[c] for c in vcols] for v in build_vehicles()]
    )
    write_csv(
        os.path.join(out, "holidays.csv"),
        ["name", "start", "end", "region", "makeup_workdays"],
        [[n, s, e, r, ";".join(m)] for n, s, e, r, m in HOLIDAYS],
    )
    write_csv(
        os.path.join(out, "accounts.csv"),
        ["username", "display_name", "role", "unit_code", "password", "can_reveal_contact"],
        [[u, d, r, c, PASSWORD, x] for u, d, r, c, x in ACCOUNTS],
    )
    print("seed files written to", out)


if __name__ == "__main__":
    main()
