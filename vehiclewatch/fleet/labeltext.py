"""The fixed texts of a label, front and back, drawn once per sheet as PDF forms that every
label places; and the draft mark across a label whose Tibetan nobody has reviewed yet."""

from ..publictext import EIGHT_RULES, HOTLINE_NATIONAL, RULES_TITLE, SLOGAN, TITLE
from ..stickertext import DRAFT_MARK, HOTLINE_LABEL, Wording
from .layouts import MM, SAFE_MM, Frame, Layout, Slot
from .lettering import RED, Pen, fit, text_width, wrap

RULE_NUMBERS = "一二三四五六七八"
DRAFT_RED = (1.0, 0.78, 0.78)  # light enough that black text and codes read through it
DRAFT_ANGLE = 25.0


def fixed_text(key: str, lang: str, hotline_local: str, wording: Wording) -> str:
    """What a slot says in a language."""
    zh = {
        "title": TITLE,
        "hotline_label": HOTLINE_LABEL,
        "hotline": f"{HOTLINE_LABEL} {HOTLINE_NATIONAL}",
        "hotlines": f"{HOTLINE_LABEL} {HOTLINE_NATIONAL}  {hotline_local}",
        "local": hotline_local,
        "slogan0": SLOGAN[0],
        "slogan1": SLOGAN[1],
    }
    if key == "slogan":
        return " · ".join(SLOGAN) if lang == "zh" else " ".join(map(wording.bo, SLOGAN))
    return zh[key] if lang == "zh" else wording.bo(zh[key])


def draw_slot(pen: Pen, slot: Slot, text: str) -> None:
    color = RED if slot.red else None
    if slot.lang == "bo":
        size, lines = wrap(
            text, pen.tibetan_font, slot.width, slot.size, slot.min_size, slot.lines, True
        )
        for i, line in enumerate(lines):
            # A title that fits one line sits between the two lines it could have taken.
            y = slot.y + (i + (slot.lines - len(lines)) / 2) * slot.pitch
            pen.tibetan(slot.x, y, line, size, align=slot.align, color=color)
        return
    size = fit(text, pen.font, slot.width, slot.size, slot.min_size)
    pen.text(slot.x, slot.y, text, size, align=slot.align, bold=slot.bold, color=color)


def draft_mark(pen: Pen, w: float, h: float) -> None:
    """翻译未审核 across the label, as large as fits inside the safe area at its angle."""
    c = pen.c
    text = DRAFT_MARK
    length = text_width(text, pen.font, 1) * MM  # points per point of size
    cos, sin = 0.9063, 0.4226  # DRAFT_ANGLE
    room_w, room_h = (w - 2 * SAFE_MM - 2) * MM, (h - 2 * SAFE_MM - 2) * MM
    size = min(room_w / (length * cos + sin), room_h / (length * sin + cos))
    c.saveState()
    c.translate(w / 2 * MM, -h / 2 * MM)
    c.rotate(DRAFT_ANGLE)
    c.setFont(pen.font, size)
    c.setFillColorRGB(*DRAFT_RED)
    # The glyphs' middle, not their baseline, on the label's centre.
    c.drawCentredString(0, -0.35 * size, text)
    c.restoreState()


def front_template(
    pen: Pen, layout: Layout, frame: Frame, wording: Wording, hotline_local: str
) -> None:
    """The text every label shares, drawn once as a form and placed on each label."""
    c = pen.c
    w, h = layout.label_w_mm, layout.label_h_mm
    c.beginForm("front", 0, -h * MM, w * MM, 0)
    if wording.draft:
        draft_mark(pen, w, h)
    for slot in frame.slots:
        draw_slot(pen, slot, fixed_text(slot.key, slot.lang, hotline_local, wording))
    if frame.rule_y is not None:
        c.setStrokeColorRGB(*RED)
        c.setLineWidth(0.6)
        right = frame.text_x + frame.text_w
        c.line(frame.text_x * MM, -frame.rule_y * MM, right * MM, -frame.rule_y * MM)
        c.setStrokeColorRGB(0, 0, 0)
    c.endForm()


def back_template(pen: Pen, layout: Layout, wording: Wording) -> None:
    """The 八不准, Tibetan above each Chinese line on a bilingual sticker."""
    c = pen.c
    w, h = layout.label_w_mm, layout.label_h_mm
    c.beginForm("back", 0, -h * MM, w * MM, 0)
    if wording.draft:
        draft_mark(pen, w, h)
    lines = [f"{n}、{rule}" for n, rule in zip(RULE_NUMBERS, EIGHT_RULES, strict=True)]
    if wording.bilingual:
        _bilingual_rules(pen, w, h, lines, wording)
    else:
        size = fit(RULES_TITLE, pen.font, w - 6, 13, 8)
        pen.text(w / 2, 7.5, RULES_TITLE, size, align="centre", bold=True, color=RED)
        room = h - 15.0 - 3.5  # between the first and the last baseline
        pitch = min(9.5, room / (len(lines) - 1))
        first = 15.0 + (room - pitch * (len(lines) - 1)) / 2
        size = min(fit(line, pen.font, w - 12, 12) for line in lines)
        size = min(size, pitch * MM * 0.6)  # keep a gap between lines on short labels
        x = (w - max(text_width(line, pen.font, size) for line in lines)) / 2
        for i, line in enumerate(lines):
            pen.text(x, first + i * pitch, line, size)
    c.endForm()


# Of the em, measured on Noto Serif Tibetan and WenQuanYi Micro Hei: Tibetan vowel signs
# rise 1.16 above the baseline and stacks hang 0.69 below it; Chinese spans 0.82 and 0.10.
BO_UP, BO_DOWN, ZH_UP, ZH_DOWN = 1.16, 0.69, 0.82, 0.10
GAP = 0.3  # mm between one line's lowest ink and the next one's highest


def _bilingual_rules(pen: Pen, w: float, h: float, lines: list[str], wording: Wording) -> None:
    """Both titles, then each rule's Tibetan right above its Chinese, all the same size."""
    room = w - 2 * SAFE_MM - 4
    bo_title = wording.bo(RULES_TITLE)
    size = min(fit(RULES_TITLE, pen.font, room, 11, 8), 10.0)
    size = min(size, wrap(bo_title, pen.tibetan_font, room, 10, 7, 1, True)[0])
    em = size / MM
    bo_y = SAFE_MM + GAP + BO_UP * em
    pen.tibetan(w / 2, bo_y, bo_title, size, align="centre", color=RED)
    zh_y = bo_y + (BO_DOWN + ZH_UP) * em + GAP
    pen.text(w / 2, zh_y, RULES_TITLE, size, align="centre", bold=True, color=RED)
    top = zh_y + ZH_DOWN * em + GAP
    pitch = (h - SAFE_MM - GAP - top) / len(lines)
    rules = [wording.bo(rule) for rule in EIGHT_RULES]
    size = min(
        (pitch - 2 * GAP) * MM / (BO_UP + BO_DOWN + ZH_UP + ZH_DOWN),
        *(fit(line, pen.font, room, 12) for line in lines),
        *(wrap(rule, pen.tibetan_font, room, 12, 5, 1, True)[0] for rule in rules),
    )
    em = size / MM
    widest = max(
        *(text_width(line, pen.font, size) for line in lines),
        *(text_width(rule, pen.tibetan_font, size, True) for rule in rules),
    )
    x = (w - widest) / 2
    for i, (line, rule) in enumerate(zip(lines, rules, strict=True)):
        bo_y = top + i * pitch + GAP + BO_UP * em
        pen.tibetan(x, bo_y, rule, size)
        pen.text(x, bo_y + (BO_DOWN + ZH_UP) * em + GAP, line, size)
