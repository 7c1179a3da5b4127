"""Forms for holiday periods and spot checks."""

import re
from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import DataRequired, Length, NumberRange

from ..formutil import choices
from ..reports.models import CATEGORY_LABELS as REPORT_CATEGORY_LABELS
from .models import SPOT_CHECK_RESULT_LABELS

REGION_LABELS = {"national": _l("全国"), "local": _l("地方（如藏历新年、雪顿节）")}


class HolidayForm(FlaskForm):
    name = StringField(_l("名称"), validators=[DataRequired(), Length(max=60)])
    start = DateField(_l("开始日期"), validators=[DataRequired()])
    end = DateField(_l("结束日期（含）"), validators=[DataRequired()])
    region = SelectField(_l("范围"), choices=lambda: choices(REGION_LABELS.items()))
    makeup_workdays = StringField(
        _l("调休上班日"),
        validators=[Length(max=200)],
        description=_l("多个日期用逗号或空格分隔，如 2026-02-14, 2026-02-28"),
    )

    def validate_end(self, field):
        if self.start.data and field.data and field.data < self.start.data:
            raise ValidationError(_l("结束日期不能早于开始日期。"))

    def validate_makeup_workdays(self, field):
        try:
            self.makeup_dates()
        except ValueError:
            raise ValidationError(_l("调休上班日的日期格式应为 YYYY-MM-DD。")) from None

    def makeup_dates(self) -> list[date]:
        return [
            date.fromisoformat(d)
            for d in re.split(r"[\s,，;；]+", self.makeup_workdays.data or "")
            if d
        ]


class DrawForm(FlaskForm):
    round_key = SelectField(_l("轮次"))
    per_jurisdiction = IntegerField(
        _l("每个辖区抽取车辆数"), default=5, validators=[DataRequired(), NumberRange(1, 200)]
    )
    reason = StringField(
        _l("重新抽取的理由（仅重抽时填写，将公开记录）"), validators=[Length(max=200)]
    )


class ResultForm(FlaskForm):
    result = SelectField(_l("检查结果"), choices=lambda: choices(SPOT_CHECK_RESULT_LABELS.items()))
    category = SelectField(
        _l("问题类型（发现问题时）"), choices=lambda: choices(REPORT_CATEGORY_LABELS.items())
    )
    note = TextAreaField(_l("情况说明"), validators=[Length(max=1000)])
