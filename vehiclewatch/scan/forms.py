"""The citizen's own forms: track, add information, object."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from ..reports.forms import PhotoUploads

RECEIPT_HELP = _l("提交举报后页面上显示的查询码，如 ABCD-EFGH-JKLM-NPQR-STUV")


class TrackForm(FlaskForm):
    receipt = StringField(
        _l("查询码"),
        validators=[DataRequired(message=_l("请填写查询码。")), Length(max=40)],
        description=RECEIPT_HELP,
    )


class AddInformationForm(PhotoUploads, TrackForm):
    text = TextAreaField(_l("补充说明"), validators=[Length(max=1000)])
    photos = MultipleFileField(_l("补充照片（最多 3 张）"))


class ObjectionForm(TrackForm):
    text = TextAreaField(
        _l("异议理由和新的情况"),
        validators=[DataRequired(message=_l("请说明异议理由和新的情况。")), Length(max=1000)],
    )
