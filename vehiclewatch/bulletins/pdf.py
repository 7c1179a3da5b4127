"""The printable bulletin: A4, real (extractable) Chinese text in the sticker sheets' font."""

import io
from datetime import date
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import (
    HRFlowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from ..fonts import Font
from ..reports.models import CATEGORY_LABELS, Category
from .linebreak import break_lines
from .models import Bulletin
from .queries import Figures

HEADING = "每周一督通报"
MM = 72 / 25.4
RED = colors.Color(0.75, 0, 0)
MARGIN = 25 * MM
# The text column: the page between the margins, less the frame's padding (6 pt a side).
TEXT_WIDTH = A4[0] - 2 * MARGIN - 12
CLOSING = "各地各单位要以案为鉴、引以为戒，严格执行公务用车管理规定，自觉接受群众监督。"


def cn_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def category_label(code: str) -> str:
    try:
        return str(CATEGORY_LABELS[Category(code)])
    except ValueError:
        return code


def figure_rows(figures: Figures) -> list[tuple[str, int]]:
    return [
        ("收到举报（件）", figures.received),
        ("受理（件）", figures.accepted),
        ("查实（含部分属实，件）", figures.substantiated),
        ("随机抽查车辆（辆）", figures.spot_checks_done),
        ("抽查发现问题（个）", figures.problems_found),
    ]


def case_sentence(case) -> str:
    who = case.unit_name + (case.person_position or "")
    plate = f"（车牌号{case.plate}）" if case.plate else ""
    happened = case.what_happened.rstrip("。；;.")
    return (
        f"{who}，{cn_date(case.occurred_on)}{plate}：{happened}。"
        f"处理结果：{case.outcome}（{case.deciding_body}）。"
    )


def _styles(font: str) -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("body", fontName=font, fontSize=12, leading=20, wordWrap="CJK")
    return {
        "heading": ParagraphStyle(
            "heading", base, fontSize=26, leading=36, alignment=TA_CENTER, textColor=RED
        ),
        "issuer": ParagraphStyle("issuer", base, alignment=TA_CENTER),
        "title": ParagraphStyle("title", base, fontSize=16, leading=26, alignment=TA_CENTER),
        "section": ParagraphStyle("section", base, fontSize=14, leading=24, spaceBefore=8),
        "subsection": ParagraphStyle("subsection", base, spaceBefore=8, spaceAfter=4),
        "body": ParagraphStyle("body-indent", base, firstLineIndent=24, spaceAfter=4),
        "cell": ParagraphStyle("cell", base, fontSize=10.5, leading=15),
        "sign": ParagraphStyle("sign", base, alignment=TA_RIGHT),
        "mark": ParagraphStyle("mark", base, alignment=TA_CENTER, textColor=RED),
        "anchor": ParagraphStyle(
            "anchor", base, fontSize=8, leading=12, spaceBefore=12, textColor=colors.grey
        ),
    }


def _text(text: str, style: ParagraphStyle) -> Paragraph:
    """Plain text, its lines broken here by Chinese rules (reportlab's own CJK wrapping
    would start lines with closing punctuation); reportlab only sets the lines."""
    width = TEXT_WIDTH - style.leftIndent - style.rightIndent
    lines = break_lines(
        text,
        lambda ch: stringWidth(ch, style.fontName, style.fontSize),
        width,
        width - style.firstLineIndent,
    )
    return Paragraph("<br/>".join(escape(line) for line in lines), style)


def _table(rows: list[tuple[str, int]], header: tuple[str, str], style, font: str) -> Table:
    data = [[Paragraph(escape(header[0]), style), Paragraph(escape(header[1]), style)]]
    data += [[Paragraph(escape(label), style), str(value)] for label, value in rows]
    table = Table(data, colWidths=[110 * MM, 40 * MM], hAlign="CENTER", repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), font, 10.5),
                ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.95, 0.95, 0.95)),
                ("ALIGN", (1, 1), (1, -1), "RIGHT"),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    return table


def bulletin_pdf(
    bulletin: Bulletin, figures: Figures, font: Font, *, issued_on: date | None = None
) -> bytes:
    """The bulletin as PDF bytes; a bulletin not yet approved is marked as a draft."""
    s = _styles(font.name)
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=22 * MM,
        bottomMargin=22 * MM,
        title=f"{HEADING} {bulletin.title}",
        author=bulletin.issuer,
    )
    story = [
        Paragraph(HEADING, s["heading"]),
        Paragraph(escape(bulletin.issuer), s["issuer"]),
    ]
    if bulletin.doc_number:
        story.append(Paragraph(escape(bulletin.doc_number), s["issuer"]))
    story += [
        HRFlowable(width="100%", thickness=1.5, color=RED, spaceBefore=4, spaceAfter=10),
    ]
    if bulletin.is_draft:
        story.append(Paragraph("（草稿，未经审定，不得外传）", s["mark"]))
    if bulletin.is_correction:
        story.append(Paragraph("更　正", s["mark"]))
    story += [
        _text(bulletin.title, s["title"]),
        Spacer(0, 4 * MM),
        _text(
            f"督查时段：{cn_date(bulletin.round_start)}至{cn_date(bulletin.round_end)}", s["body"]
        ),
    ]
    if bulletin.is_correction:
        corrected = bulletin.corrects.doc_number or bulletin.corrects.title
        story.append(
            _text(f"本通报更正{corrected}。更正内容：{bulletin.correction_note}", s["body"])
        )
    story += [
        Paragraph("一、总体情况", s["section"]),
        _text(
            f"本轮共收到群众举报{figures.received}件，受理{figures.accepted}件，"
            f"经核查属实（含部分属实）{figures.substantiated}件；"
            f"随机抽查公务用车{figures.spot_checks_done}辆，发现问题{figures.problems_found}个。",
            s["body"],
        ),
        _table(figure_rows(figures), ("项目", "数量"), s["cell"], font.name),
    ]
    # The same tables as the page (bulletins/_figures.html), under the same headings.
    breakdowns = [
        (
            "按问题类型",
            ("问题类型", "举报（件）"),
            [(category_label(c), n) for c, n in figures.by_category.items()],
        ),
        ("按地区", ("地区", "举报（件）"), list(figures.by_jurisdiction.items())),
    ]
    for heading, header, rows in breakdowns:
        if rows:
            story += [
                Paragraph(heading, s["subsection"]),
                _table(rows, header, s["cell"], font.name),
            ]
    story.append(Paragraph("二、典型问题", s["section"]))
    if bulletin.cases:
        for number, case in enumerate(bulletin.cases, 1):
            story.append(KeepTogether(_text(f"{number}. {case_sentence(case)}", s["body"])))
    else:
        story.append(_text("本轮未发现需通报的典型问题。", s["body"]))
    story += [
        _text(CLOSING, s["body"]),
        Spacer(0, 10 * MM),
        Paragraph(escape(bulletin.issuer), s["sign"]),
    ]
    if issued_on is not None:
        story.append(Paragraph(cn_date(issued_on), s["sign"]))
    if bulletin.audit_anchor:
        story.append(
            Paragraph(
                "审定时审计日志锚点（条目数:末条哈希），保存本通报者可据此核验审计日志"
                f'此后未被改写或截断：<br/><font name="Courier">{bulletin.audit_anchor}</font>',
                s["anchor"],
            )
        )

    def footer(canvas, document):
        canvas.saveState()
        canvas.setFont(font.name, 9)
        canvas.drawCentredString(A4[0] / 2, 12 * MM, f"第 {document.page} 页")
        canvas.restoreState()

    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()
