"""Forms for vehicles and imports."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    ValidationError,
)
from wtforms.validators import DataRequired, Length, NumberRange

from ..formutil import choices
from .models import CATEGORY_LABELS, STATUS_LABELS
from .plates import InvalidPlate, normalise_plate


class VehicleForm(FlaskForm):
    plate = StringField(_l("车牌号"), validators=[DataRequired(), Length(max=20)])
    unit_id = SelectField(_l("所属单位"), coerce=int)
    category = SelectField(_l("编制类别"), choices=lambda: choices(CATEGORY_LABELS.items()))
    brand_model = StringField(_l("品牌型号"), validators=[Length(max=80)])
    colour = StringField(_l("颜色"), validators=[Length(max=40)])
    status = SelectField(
        _l("状态"),
        choices=lambda: choices((k, v) for k, v in STATUS_LABELS.items() if k != "disposed"),
    )
    publicly_marked = BooleanField(
        _l("公开标识（涉密车辆不勾选：不发监督码，公开查询不显示）"), default=True
    )

    def validate_plate(self, field):
        try:
            field.data = normalise_plate(field.data)
        except InvalidPlate:
            raise ValidationError(_l("车牌号格式不正确，例如 藏A·12345 或 藏A·D12345。")) from None


class RetireForm(FlaskForm):
    reason = StringField(_l("处置原因"), validators=[DataRequired(), Length(max=200)])


class IssueStickerForm(FlaskForm):
    """No fields: the CSRF token is the form."""


class ReissueForm(FlaskForm):
    reason = StringField(
        _l("补发原因"),
        validators=[DataRequired(), Length(max=200)],
        description=_l("如：损毁、丢失"),
    )


class PrintForm(FlaskForm):
    unit_id = SelectField(_l("单位（含下级单位）"), coerce=int)
    needs_reprint = BooleanField(_l("只打印待打印的监督码（从未打印过，或标记为“需重印”）"))
    vehicle = SelectMultipleField(_l("选定车辆"), coerce=int, validate_choice=False)
    layout = SelectField(_l("标签纸规格"))
    start = IntegerField(
        _l("从第几个标签位置开始"),
        default=1,
        validators=[NumberRange(min=1, max=8, message=_l("起始位置超出这张标签纸的范围。"))],
    )
    back = BooleanField(_l("加印背面“八不准”（双面打印）"))
