"""The fixed public texts a sticker carries and the scan page repeats: the sticker's title,
its slogan, the national reporting line and the eight rules for official cars (八不准).

They stay Chinese here (a printed sticker is not in the language of the page that printed
it); N_ marks them for the citizens' catalogue, and a page shows `_(text)`."""


def N_(text: str) -> str:
    """Marks a string for the catalogue without translating it (gettext's convention)."""
    return text


TITLE = N_("公务用车监督码")
SLOGAN = (N_("一车一码亮身份"), N_("公车监督随时扫"))
HOTLINE_NATIONAL = "12388"
RULES_TITLE = N_("公务用车“八不准”")
EIGHT_RULES = (
    N_("不准酒后驾驶公务用车"),
    N_("不准公车私用、接送子女上下学"),
    N_("不准用公车办理婚丧喜庆事宜"),
    N_("不准用公车学习驾驶技术"),
    N_("不准驾驶公车出入娱乐场所"),
    N_("不准用公车旅游"),
    N_("不准将公车外借他人"),
    N_("不准遮挡、损毁公务用车标识"),
)
