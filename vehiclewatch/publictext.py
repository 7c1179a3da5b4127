"""The fixed public texts a sticker carries and the scan page repeats: the sticker's title,
its slogan, the national reporting line and the eight rules for official cars (八不准)."""

TITLE = "公务用车监督码"
SLOGAN = ("一车一码亮身份", "公车监督随时扫")
HOTLINE_NATIONAL = "12388"
RULES_TITLE = "公务用车“八不准”"
EIGHT_RULES = (
    "不准酒后驾驶公务用车",
    "不准公车私用、接送子女上下学",
    "不准用公车办理婚丧喜庆事宜",
    "不准用公车学习驾驶技术",
    "不准驾驶公车出入娱乐场所",
    "不准用公车旅游",
    "不准将公车外借他人",
    "不准遮挡、损毁公务用车标识",
)
