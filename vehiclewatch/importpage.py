"""The one page for every all-or-nothing table import (vehicles, trip approvals, sealing):
upload, the row errors when a file is refused, a message and a redirect when it lands."""

from collections.abc import Callable

from flask import flash, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired

from .tables import ImportRejected


class ImportForm(FlaskForm):
    file = FileField(_l("文件（CSV 或 .xlsx）"), validators=[FileRequired()])


def import_page(
    template: str,
    run: Callable,
    done: Callable[[int], str],
    back: str,
    columns: dict,
    required: tuple,
):
    """`run(data, actor=, filename=)` imports the upload and returns what it added (a count
    or the new records); `done(n)` says so; `back` is the endpoint to return to."""
    form = ImportForm()
    errors = []
    status = 200
    if form.validate_on_submit():
        upload = form.file.data
        try:
            added = run(upload.read(), actor=current_user, filename=upload.filename or "")
        except ImportRejected as exc:
            errors = exc.errors
            status = 422
        else:
            flash(done(added if isinstance(added, int) else len(added)), "info")
            return redirect(url_for(back))
    return render_template(
        template, form=form, errors=errors, columns=list(columns), required=required
    ), status
