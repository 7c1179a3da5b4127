"""Forms for spot-check draws and results."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange

from ..formutil import choices
from ..reports.models import CATEGORY_LABELS as REPORT_CATEGORY_LABELS
from .models import SPOT_CHECK_RESULT_LABELS


class DrawForm(FlaskForm):
    round_key = SelectField(_l("轮次"))
    per_jurisdiction = IntegerField(
        _l("每个辖区抽取车辆数"), default=5, validators=[DataRequired(), NumberRange(1, 200)]
    )
    public_source = StringField(
        _l("将采用的公开开奖"),
        validators=[DataRequired(), Length(max=200)],
        description=_l(
            "本轮名单将由种子和这期开奖号码共同决定，须是抽取之后才开奖的一期，"
            "如：中国福利彩票双色球第2026141期"
        ),
    )
    reason = StringField(
        _l("重新抽取的理由（仅重抽时填写，将公开记录）"), validators=[Length(max=200)]
    )


class PublicValueForm(FlaskForm):
    value = StringField(
        _l("开奖号码"),
        validators=[DataRequired(), Length(max=200)],
        description=_l("按官方公布的顺序照录，号码之间用空格分隔，如：03 07 12 19 25 31 09"),
    )


class ResultForm(FlaskForm):
    result = SelectField(_l("检查结果"), choices=lambda: choices(SPOT_CHECK_RESULT_LABELS.items()))
    category = SelectField(
        _l("问题类型（发现问题时）"), choices=lambda: choices(REPORT_CATEGORY_LABELS.items())
    )
    note = TextAreaField(_l("情况说明"), validators=[Length(max=1000)])
