"""The report form citizens and officers share (a sticker's page, a typed plate, an officer's
entry of a call or letter), and photo uploads."""

import math
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import (
    DateTimeLocalField,
    FloatField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from ..fleet.plates import InvalidPlate, normalise_plate
from ..formutil import choices
from ..timeutil import local_zone, utcnow
from .filing import NewReport
from .models import CATEGORY_LABELS
from .photos import PhotoRejected, ProcessedPhoto, process_photo
from .protection import new_submission_id

MAX_PHOTOS = 3


class PhotoUploads:
    """For forms with a `photos` field."""

    def uploads(self) -> list:
        """The files chosen in the photos field."""
        return [f for f in self.photos.data or [] if f and f.filename]

    def processed_photos(self) -> list[ProcessedPhoto]:
        """Decode and re-encode each upload; the first bad one stops everything, with an
        error on the photos field."""
        processed = []
        for number, upload in enumerate(self.uploads(), start=1):
            try:
                processed.append(process_photo(upload.read()))
            except PhotoRejected as exc:
                self.photos.errors.append(
                    _l("第 %(n)d 张照片：%(reason)s", n=number, reason=str(exc.message))
                )
                return []
        return processed

    def validate_photos(self, field):
        if len(self.uploads()) > MAX_PHOTOS:
            raise ValidationError(_l("最多上传 3 张照片。"))


LOCATION_INVALID = _l("位置信息无效，已去掉：可以重新添加位置，或在“地点”里用文字说明。")


class ReportForm(PhotoUploads, FlaskForm):
    # The hidden fields have an empty label (never shown): without one, WTForms would load
    # its own translations on every request to make one up from the name.
    submission_id = HiddenField(
        "",
        validators=[
            DataRequired(message=_l("表单缺少提交编号（页面可能已过期），请再提交一次。")),
            Length(max=64),
        ],
    )
    category = SelectField(_l("问题类型"), choices=lambda: choices(CATEGORY_LABELS.items()))
    seen_at = DateTimeLocalField(
        _l("看到的时间"),
        format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
        validators=[DataRequired(message=_l("请填写看到的时间。"))],
    )
    place = StringField(
        _l("地点"),
        validators=[Length(max=200)],
        description=_l("如：某某饭店门口、某景区停车场"),
    )
    latitude = FloatField("", validators=[Optional(), NumberRange(-90, 90, LOCATION_INVALID)])
    longitude = FloatField("", validators=[Optional(), NumberRange(-180, 180, LOCATION_INVALID)])
    description = TextAreaField(
        _l("看到了什么"),
        validators=[Length(max=1000, message=_l("描述最多 1000 字。"))],
        description=_l("简要说明即可，例如：车停在婚宴酒店门口，有人从车上搬运喜糖。"),
    )
    plate_matches = RadioField(
        _l("车上的车牌号与本页显示的是否一致？"),
        choices=lambda: choices(
            [("yes", _l("一致")), ("no", _l("不一致")), ("unsure", _l("没注意"))]
        ),
        default="unsure",
    )
    photos = MultipleFileField(
        _l("照片（可选，最多 3 张）"),
        description=_l("支持 JPEG、PNG、WebP、HEIC。照片中的位置等信息只供核查人员查看。"),
    )
    reporter_name = StringField(_l("姓名（可选）"), validators=[Length(max=60)])
    reporter_phone = StringField(
        _l("联系电话（可选）"),
        validators=[
            Optional(),
            Regexp(r"^[0-9+\- ]{5,20}$", message=_l("请填写正确的电话号码，或留空。")),
        ],
    )
    # A field people never see: a bot that fills it is refused.
    website = StringField(_l("请勿填写此项"))

    def validate_seen_at(self, field):
        if field.data is None:
            return
        seen = field.data.replace(tzinfo=local_zone())
        now = utcnow()
        if seen > now + timedelta(minutes=5):
            raise ValidationError(_l("时间不能晚于现在。"))
        max_age = timedelta(days=current_app.config["REPORT_MAX_AGE_DAYS"])
        if seen < now - max_age:
            raise ValidationError(
                _l("只能举报 %(days)d 天内看到的情况；更早的情况请拨打 12388。", days=max_age.days)
            )

    def validate_latitude(self, field):
        if field.data is not None and not math.isfinite(field.data):
            raise ValidationError(LOCATION_INVALID)

    validate_longitude = validate_latitude

    def keep_for_retry(self) -> None:
        """After a failed submission: a missing submission id gets a new one and a position
        that cannot be right is dropped, so that the form as shown can be sent again."""
        if self.submission_id.errors:
            self.submission_id.data = new_submission_id()
        for position in (self.latitude, self.longitude):
            if position.errors:
                position.raw_data, position.data = None, None
                position.errors = [LOCATION_INVALID]

    def seen_at_utc(self) -> datetime:
        return self.seen_at.data.replace(tzinfo=local_zone()).astimezone(utcnow().tzinfo)

    def new_report(self, photos: list[ProcessedPhoto], **facts) -> NewReport:
        """What the form says, as a report to file; facts the form cannot know (the car, the
        sticker, the source) come from the caller."""
        matches = getattr(self, "plate_matches", None)
        return NewReport(
            category=self.category.data,
            seen_at=self.seen_at_utc(),
            place=self.place.data or "",
            description=self.description.data or "",
            plate_matches={"yes": True, "no": False}.get(matches.data) if matches else None,
            latitude=self.latitude.data,
            longitude=self.longitude.data,
            reporter_name=self.reporter_name.data or "",
            reporter_phone=self.reporter_phone.data or "",
            photos=photos,
            **facts,
        )


class PlateReportForm(ReportForm):
    """A report without a sticker: the plate is typed (and normalised on validation)."""

    plate = StringField(
        _l("车牌号"), validators=[DataRequired(message=_l("请填写车牌号。")), Length(max=20)]
    )

    def validate_plate(self, field):
        try:
            field.data = normalise_plate(field.data)
        except InvalidPlate:
            raise ValidationError(_l("车牌号格式不正确，例如 藏A·12345。")) from None
