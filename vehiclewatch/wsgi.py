"""Entry point for an external WSGI server: `gunicorn vehiclewatch.wsgi:app`."""

from . import create_app
from .config import check_production
from .reports.keys import check_contact_keys

app = create_app()
check_production(app)
with app.app_context():
    check_contact_keys()  # ContactKeysMissing names the column and the fix
