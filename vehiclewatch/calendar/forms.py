"""The holiday period form."""

import re
from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, ValidationError
from wtforms.validators import DataRequired, Length

from ..formutil import choices

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

    def period(self) -> tuple:
        """name, start, end, region and makeup workdays, as the services take them."""
        data = (self.name.data, self.start.data, self.end.data, self.region.data)
        return (*data, self.makeup_dates())

    def makeup_dates(self) -> list[date]:
        return [
            date.fromisoformat(d)
            for d in re.split(r"[\s,，;；]+", self.makeup_workdays.data or "")
            if d
        ]
