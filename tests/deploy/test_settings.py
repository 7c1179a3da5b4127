"""deploy/'s environment template lists exactly the settings the code reads, and the
systemd unit uses only settings the template defines."""

import re

from vehiclewatch import PACKAGE_DIR
from vehiclewatch.config import Defaults

DEPLOY = PACKAGE_DIR.parent / "deploy"
TEMPLATE = DEPLOY / "vehiclewatch.env"
# A line `NAME=value`, or `# NAME=default` for a setting left at its default.
ASSIGNMENT = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=", re.MULTILINE)
# app.config["NAME"] / config.get("NAME") (not an assignment), and os.environ reads.
CONFIG_READ = re.compile(
    r'(?:config|cfg)(?:\.get\(\s*"([A-Z][A-Z0-9_]+)"|\["([A-Z][A-Z0-9_]+)"\](?!\s*=[^=]))'
)
ENVIRON_READ = re.compile(r'os\.environ(?:\.get\(\s*|\[)"([A-Z][A-Z0-9_]+)"')
# Read under another name: the database URL comes from DATABASE_URL.
RENAMED = {"SQLALCHEMY_DATABASE_URI": "DATABASE_URL"}
# Read by gunicorn's command line in the systemd unit, not by the application.
SERVER_SETTINGS = {"WEB_CONCURRENCY"}
# Set by Werkzeug's reloader for its child process (the demo), never by a person.
NOT_SETTINGS = {"WERKZEUG_RUN_MAIN"}


def _template_names() -> set[str]:
    return set(ASSIGNMENT.findall(TEMPLATE.read_text()))


def _setting(name: str) -> str:
    return RENAMED.get(name) or f"VEHICLEWATCH_{name}"


def settings_the_code_reads() -> set[str]:
    names = {_setting(name) for name in vars(Defaults) if name.isupper()}
    for source in PACKAGE_DIR.rglob("*.py"):
        text = source.read_text()
        for match in CONFIG_READ.finditer(text):
            names.add(_setting(match.group(1) or match.group(2)))
        names.update(ENVIRON_READ.findall(text))
    return names - NOT_SETTINGS


def test_the_template_lists_every_setting_the_code_reads_and_no_other():
    code = settings_the_code_reads()
    template = _template_names()
    assert {"VEHICLEWATCH_SECRET_KEY", "DATABASE_URL", "VEHICLEWATCH_TRUSTED_PROXIES"} <= code
    assert sorted(code - template) == [], "settings missing from deploy/vehiclewatch.env"
    assert sorted(template - code - SERVER_SETTINGS) == [], "settings the code never reads"


def test_the_unit_uses_only_settings_the_template_defines():
    unit = (DEPLOY / "systemd" / "vehiclewatch.service").read_text()
    used = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)\}", unit))
    assert used == SERVER_SETTINGS
    defined = set(re.findall(r"^([A-Z][A-Z0-9_]*)=", TEMPLATE.read_text(), re.MULTILINE))
    assert used <= defined
