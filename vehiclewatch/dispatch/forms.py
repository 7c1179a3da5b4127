"""Forms for entering, correcting and withdrawing a trip approval or a sealing record."""

from datetime import UTC, datetime

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateTimeLocalField, SelectField, StringField, ValidationError
from wtforms.validators import DataRequired, Length

from ..fleet.plates import InvalidPlate, normalise_plate
from ..timeutil import local_zone

LOCAL_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]


def _utc(value: datetime) -> datetime:
    """A time typed in the deployment's zone, as UTC."""
    return value.replace(tzinfo=local_zone()).astimezone(UTC)


def local_naive(value: datetime) -> datetime:
    """A stored time as a datetime-local field shows it."""
    return value.astimezone(local_zone()).replace(tzinfo=None)


class PlateForm(FlaskForm):
    plate = StringField(_l("车牌号"), validators=[DataRequired(), Length(max=20)])

    def validate_plate(self, field):
        try:
            field.data = normalise_plate(field.data)
        except InvalidPlate:
            raise ValidationError(_l("车牌号格式不正确，例如 藏A·12345 或 藏A·D12345。")) from None


class TripApprovalForm(PlateForm):
    purpose = StringField(_l("事由"), validators=[DataRequired(), Length(max=200)])
    destination = StringField(_l("目的地"), validators=[Length(max=200)])
    start_at = DateTimeLocalField(_l("出车时间"), format=LOCAL_FORMATS, validators=[DataRequired()])
    end_at = DateTimeLocalField(_l("返回时间"), format=LOCAL_FORMATS, validators=[DataRequired()])
    driver = StringField(_l("驾驶员"), validators=[Length(max=60)])
    approver = StringField(_l("审批人"), validators=[Length(max=60)])
    emergency = BooleanField(_l("应急用车"))

    def validate_end_at(self, field):
        if self.start_at.data and field.data and field.data <= self.start_at.data:
            raise ValidationError(_l("返回时间应晚于出车时间。"))

    def start_at_utc(self) -> datetime:
        return _utc(self.start_at.data)

    def end_at_utc(self) -> datetime:
        return _utc(self.end_at.data)


class SealingForm(PlateForm):
    holiday_period_id = SelectField(_l("节假日"), coerce=int)
    place = StringField(_l("停放地点"), validators=[Length(max=200)])
    key_holder = StringField(_l("钥匙保管人"), validators=[Length(max=60)])
    exempt = BooleanField(_l("免于封存（值班、应急等，须经批准）"))
    exemption_reason = StringField(
        _l("免封原因"), validators=[Length(max=200)], description=_l("如：值班、应急")
    )
    exemption_approver = StringField(_l("免封批准人"), validators=[Length(max=60)])

    def validate_exemption_reason(self, field):
        if self.exempt.data and not (field.data or "").strip():
            raise ValidationError(_l("免于封存须填写原因。"))

    def validate_exemption_approver(self, field):
        if self.exempt.data and not (field.data or "").strip():
            raise ValidationError(_l("免于封存须填写批准人。"))


class ReasonMixin:
    reason = StringField(
        _l("修改原因"),
        validators=[DataRequired(message=_l("请填写原因。")), Length(max=200)],
        description=_l("将记入修改记录，纪检监察干部可见。"),
    )


class AmendTripForm(TripApprovalForm, ReasonMixin):
    pass


class AmendSealingForm(SealingForm, ReasonMixin):
    pass


class CancelForm(FlaskForm):
    reason = StringField(
        _l("撤销原因"), validators=[DataRequired(message=_l("请填写原因。")), Length(max=200)]
    )
    confirm = BooleanField(
        _l("我确认撤销：撤销后该记录不再作为证据，原记录及修改记录仍予保留"),
        validators=[DataRequired(message=_l("请勾选确认。"))],
    )
