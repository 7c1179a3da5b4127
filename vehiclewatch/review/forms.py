"""Officers' forms: one for the workflow's actions, one for entering calls and letters."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..formutil import choices
from ..reports.forms import PlateReportForm
from ..reports.states import FINDING_LABELS, METHOD_LABELS, OUTCOME_LABELS, VERIFY_METHODS


def _blank_first(labels):
    return lambda: choices([("", _l("请选择"))]) + choices(labels.items())


def _choice(label, labels) -> SelectField:
    # Not every action needs this field; transition() checks the values it needs.
    return SelectField(label, choices=_blank_first(labels), validate_choice=False, default="")


class ActionForm(FlaskForm):
    """Every detail an action may need; reports.workflow.transition says which it needs."""

    version = HiddenField(validators=[DataRequired()])
    assignee = SelectField(_l("承办人"), coerce=int, validate_choice=False, default=0)
    reason = TextAreaField(_l("不予受理理由（举报人可见）"), validators=[Length(max=1000)])
    duplicate_of = IntegerField(_l("与第几号举报重复"), validators=[Optional()])
    transferred_to = StringField(_l("转办至"), validators=[Length(max=120)])
    method = _choice(_l("核查方式"), {m: METHOD_LABELS[m] for m in VERIFY_METHODS})
    finding = _choice(_l("核查结论"), FINDING_LABELS)
    outcome = _choice(_l("处理结果"), OUTCOME_LABELS)
    reply = TextAreaField(_l("答复举报人（举报人可见）"), validators=[Length(max=2000)])
    note = TextAreaField(_l("内部备注"), validators=[Length(max=2000)])


CHANNEL_LABELS = {"phone": _l("来电（12388 等）"), "letter": _l("来信"), "visit": _l("来访")}


class EntryForm(PlateReportForm):
    """A report received by phone (12388), letter or visit, entered by an officer."""

    channel = SelectField(_l("来源"), choices=lambda: choices(CHANNEL_LABELS.items()))
