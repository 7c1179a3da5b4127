"""Entry point for an external WSGI server: `gunicorn vehiclewatch.wsgi:app` (add
`--logger-class vehiclewatch.gunicornlog.AddresslessLogger` to keep addresses out of its log)."""

import os

from . import create_app
from .config import check_production
from .reports.keys import check_contact_keys

app = create_app()
# gunicorn's own default for the number of workers; a -w on its command line is not seen here.
check_production(app, int(os.environ.get("WEB_CONCURRENCY", "1")))
with app.app_context():
    check_contact_keys()  # ContactKeysMissing names the column and the fix
