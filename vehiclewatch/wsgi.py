"""Entry point for an external WSGI server: `gunicorn vehiclewatch.wsgi:app`."""

from . import create_app
from .config import check_production

app = create_app()
check_production(app)
