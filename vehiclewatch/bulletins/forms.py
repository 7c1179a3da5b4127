"""Forms for a bulletin draft: its title and its typical cases, one sub-form each."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import HiddenInput

from .services import CaseText

REQUIRED = ("unit_name", "occurred_on", "what_happened", "outcome", "deciding_body")


class CaseForm(Form):
    """One typical case; a blank one (the spare row at the end) is ignored, so is one
    ticked for removal."""

    unit_name = StringField(_l("单位"), validators=[Optional(), Length(max=120)])
    person_position = StringField(
        _l("职务"), validators=[Optional(), Length(max=120)], description=_l("如：办公室主任")
    )
    occurred_on = DateField(_l("日期"), validators=[Optional()])
    plate = StringField(_l("车牌号"), validators=[Optional(), Length(max=20)])
    what_happened = TextAreaField(_l("问题经过"), validators=[Optional(), Length(max=2000)])
    outcome = StringField(_l("处理结果"), validators=[Optional(), Length(max=120)])
    deciding_body = StringField(_l("作出处理的机关"), validators=[Optional(), Length(max=120)])
    source_report_id = IntegerField(validators=[Optional()], widget=HiddenInput())
    remove = BooleanField(_l("删除此条"))

    def is_blank(self) -> bool:
        return not any(
            (self[name].data or "").strip() if isinstance(self[name].data, str) else self[name].data
            for name in ("unit_name", "person_position", "plate", "what_happened", "outcome")
        )

    def validate(self, extra_validators=None) -> bool:
        if self.remove.data or self.is_blank():
            return True
        valid = super().validate(extra_validators)
        for name in REQUIRED:
            field = self[name]
            if not field.data and not field.errors:
                field.errors = [*field.errors, _l("请填写%(label)s。", label=field.label.text)]
                valid = False
        return valid

    def case_text(self) -> CaseText:
        return CaseText(
            unit_name=self.unit_name.data,
            person_position=self.person_position.data or "",
            occurred_on=self.occurred_on.data,
            plate=self.plate.data or "",
            what_happened=self.what_happened.data,
            outcome=self.outcome.data,
            deciding_body=self.deciding_body.data,
            source_report_id=self.source_report_id.data,
        )


class BulletinForm(FlaskForm):
    version = HiddenField(validators=[DataRequired()])
    title = StringField(_l("标题"), validators=[DataRequired(), Length(max=200)])
    cases = FieldList(FormField(CaseForm), min_entries=0)

    def case_texts(self) -> list[CaseText]:
        return [
            entry.form.case_text()
            for entry in self.cases
            if not entry.form.remove.data and not entry.form.is_blank()
        ]


class ConfirmForm(FlaskForm):
    """A button that changes something: only the CSRF token."""


class StepForm(ConfirmForm):
    """Approve or publish: the CSRF token and the version the leader looked at."""

    version = HiddenField(validators=[DataRequired()])


class CorrectionForm(FlaskForm):
    """Start a correction (更正) of a published bulletin: what it changes, in words."""

    note = TextAreaField(
        _l("更正说明（将印在更正版上）"),
        validators=[DataRequired(_l("请说明更正了什么。")), Length(max=1000)],
        description=_l("如：第 2 条典型问题的处理结果由“诫勉谈话”更正为“批评教育”。"),
    )
