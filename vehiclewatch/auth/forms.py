"""Forms for login (password, second factor), password change, accounts and units."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp

from ..formutil import choices
from .models import ROLE_LABELS, UNIT_KIND_LABELS


class LoginForm(FlaskForm):
    username = StringField(_l("用户名"), validators=[DataRequired(), Length(max=60)])
    password = PasswordField(_l("密码"), validators=[DataRequired(), Length(max=200)])


class CodeForm(FlaskForm):
    code = StringField(_l("动态验证码或恢复码"), validators=[DataRequired(), Length(max=20)])


class PasswordForm(FlaskForm):
    current = PasswordField(_l("当前密码"), validators=[DataRequired()])
    new = PasswordField(_l("新密码"), validators=[DataRequired(), Length(max=200)])
    confirm = PasswordField(
        _l("再次输入新密码"), validators=[EqualTo("new", message=_l("两次输入的新密码不一致。"))]
    )


class UserForm(FlaskForm):
    username = StringField(
        _l("用户名"),
        validators=[
            DataRequired(),
            Length(max=60),
            Regexp(
                r"^[A-Za-z0-9_.-]+$", message=_l("用户名只能包含字母、数字、点、横线和下划线。")
            ),
        ],
    )
    display_name = StringField(_l("姓名或称谓"), validators=[DataRequired(), Length(max=120)])
    role = SelectField(_l("角色"), choices=lambda: choices(ROLE_LABELS.items()))
    unit_id = SelectField(_l("所属单位"), coerce=int)
    can_reveal_contact = BooleanField(_l("可查看实名举报人联系方式"))
    active = BooleanField(_l("启用"), default=True)
    password = PasswordField(_l("初始密码"), validators=[Optional(), Length(max=200)])


class UnitForm(FlaskForm):
    code = StringField(
        _l("单位编码"),
        validators=[
            DataRequired(),
            Length(max=40),
            Regexp(r"^[a-z0-9-]+$", message=_l("编码只能包含小写字母、数字和横线。")),
        ],
    )
    name = StringField(_l("单位名称"), validators=[DataRequired(), Length(max=120)])
    kind = SelectField(_l("类型"), choices=lambda: choices(UNIT_KIND_LABELS.items()))
    parent_id = SelectField(_l("上级单位"), coerce=int)
    escalated = BooleanField(_l("上级管辖（本单位车辆的举报由上一级受理）"))
