"""deploy/'s nginx site file, run by Debian's nginx with a certificate made on the fly, in
front of the real service (gunicorn): what a phone and an officer get through it, and what
nginx writes in its access log.

Skipped, with the reason, when nginx is not installed (.ci/run installs it)."""

import getpass
import grp
import http.client
import io
import os
import re
import secrets
import shutil
import ssl
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie
from ipaddress import IPv4Address
from pathlib import Path

import pyotp
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from PIL import Image

from vehiclewatch import asset_dir

from ..conftest import fresh_database
from ..e2e.conftest import Server, _free_port, _server_env, _stop, _wait_until_up

NGINX = shutil.which("nginx", path=f"/usr/sbin:/usr/bin:{os.environ.get('PATH', '')}")
SITE = Path(__file__).resolve().parents[2] / "deploy" / "nginx" / "vehiclewatch.conf"
DOMAIN = "vehiclewatch.example.cn"
DEMO_PASSWORD = "demo-pass-2026"
REPORT_LIMIT = 3  # per client address per hour, for this server
HSTS = "max-age=31536000"

pytestmark = pytest.mark.skipif(
    NGINX is None, reason="nginx not installed: deploy checks skipped (apt-get install nginx)"
)


@dataclass(frozen=True)
class Stack:
    https_port: int
    http_port: int
    folder: Path
    ca: Path
    instance: Path
    server_log: Path
    query: Callable[..., list[tuple]]

    @property
    def access_log(self) -> Path:
        return self.folder / "log" / "vehiclewatch.access.log"


def _certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for the site's domain and 127.0.0.1."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, DOMAIN)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(DOMAIN), x509.IPAddress(IPv4Address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def _site(folder: Path, https_port: int, http_port: int, app_port: int, instance: Path) -> str:
    """The site file with this machine's ports and paths; every replaced line must exist, so
    the file and this test cannot drift apart."""
    cert, key = _certificate(folder)
    text = SITE.read_text()
    replacements = {
        "listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl http2;",
        "listen [::]:443 ssl http2;": "",
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen [::]:80;": "",
        f"/etc/letsencrypt/live/{DOMAIN}/fullchain.pem": str(cert),
        f"/etc/letsencrypt/live/{DOMAIN}/privkey.pem": str(key),
        "server 127.0.0.1:8000;": f"server 127.0.0.1:{app_port};",
        "/opt/vehiclewatch/venv/share/vehiclewatch/static/": f"{asset_dir('static')}/",
        "/var/lib/vehiclewatch/photos/": f"{instance / 'photos'}/",
        "/var/log/nginx/": f"{folder / 'log'}/",
        "/var/www/html": str(folder),
    }
    for old, new in replacements.items():
        assert old in text, f"{SITE} no longer contains {old!r}"
        text = text.replace(old, new)
    return text


def _nginx_conf(folder: Path, site: Path) -> Path:
    group = grp.getgrgid(os.getgid()).gr_name
    conf = folder / "nginx.conf"
    temp = "\n".join(
        f"    {kind}_temp_path {folder / 'temp' / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    conf.write_text(
        f"""daemon off;
user {getpass.getuser()} {group};
worker_processes 1;
pid {folder / "nginx.pid"};
error_log {folder / "log" / "error.log"} warn;
events {{ worker_connections 64; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
{temp}
    include {site};
}}
"""
    )
    return conf


def _wait_for_port(port: int, process: subprocess.Popen, log: Path) -> None:
    import socket

    for _ in range(100):
        if process.poll() is not None:
            pytest.fail(f"nginx exited with {process.returncode}:\n{log.read_text()}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    pytest.fail(f"nginx did not listen on {port}:\n{log.read_text()}")


@contextmanager
def running_stack(folder: Path, settings: dict[str, str], site_edit=lambda text: text):
    """gunicorn (`vehiclewatch serve`, one trusted proxy, photos via X-Accel-Redirect, extra
    settings) on the demo data, and nginx in front of it from deploy/'s site file (changed
    by `site_edit`)."""
    for sub in ("log", "temp"):
        (folder / sub).mkdir()
    instance = folder / "instance"
    instance.mkdir()
    https_port, http_port, app_port = _free_port(), _free_port(), _free_port()
    command = str(Path(sys.executable).parent / "vehiclewatch")
    with fresh_database(instance) as database_url:
        env = _server_env(instance, f"https://{DOMAIN}", database_url) | {
            "VEHICLEWATCH_TRUSTED_PROXIES": "1",
            "VEHICLEWATCH_PHOTO_ACCEL_PREFIX": "/_photos/",
            "VEHICLEWATCH_REPORT_RATE_LIMIT": f"{REPORT_LIMIT}/hour",
            **settings,
        }
        for step in ("init", "seed"):
            done = subprocess.run([command, step], env=env, capture_output=True, text=True)
            assert done.returncode == 0, f"vehiclewatch {step}:\n{done.stdout}{done.stderr}"
        server_log = instance / "server.log"
        with server_log.open("w") as out:
            # One worker: the limiter's memory store is then the only one.
            app = subprocess.Popen(
                [command, "serve", "--port", str(app_port), "--workers", "1"],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        site = folder / "vehiclewatch.conf"
        site.write_text(site_edit(_site(folder, https_port, http_port, app_port, instance)))
        conf = _nginx_conf(folder, site)
        nginx_log = folder / "log" / "nginx.out"
        with nginx_log.open("w") as out:
            nginx = subprocess.Popen(
                [NGINX, "-p", str(folder), "-c", str(conf), "-e", str(folder / "log/error.log")],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:
            _wait_until_up(app, f"http://127.0.0.1:{app_port}", server_log)
            _wait_for_port(https_port, nginx, nginx_log)
            reader = Server("", database_url, server_log)
            yield Stack(
                https_port,
                http_port,
                folder,
                folder / "cert.pem",
                instance,
                server_log,
                reader.query,
            )
        finally:
            _stop(nginx)
            _stop(app)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """The stack with photos in the instance's directory."""
    with running_stack(tmp_path_factory.mktemp("nginx"), {}) as running:
        yield running


class Visitor:
    """A browser of sorts: its own cookies, connecting from its own loopback address."""

    def __init__(self, stack: Stack, address: str):
        self.stack, self.address = stack, address
        self.cookies: dict[str, str] = {}
        self.context = ssl.create_default_context(cafile=str(stack.ca))

    def connect(self, https: bool) -> http.client.HTTPConnection:
        port = self.stack.https_port if https else self.stack.http_port
        source = (self.address, 0)
        if https:
            return http.client.HTTPSConnection(
                "127.0.0.1", port, context=self.context, source_address=source, timeout=60
            )
        return http.client.HTTPConnection("127.0.0.1", port, source_address=source, timeout=60)

    def request(self, method, path, *, body=None, headers=None, https=True):
        conn = self.connect(https)
        sent = {"Host": DOMAIN} | (headers or {})
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            conn.request(method, path, body=body, headers=sent)
            response = conn.getresponse()
            data = response.read()
        finally:
            conn.close()
        for value in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(value).items():
                self.cookies[name] = morsel.value
        return response, data

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post_form(self, path, fields: dict, files: dict | None = None, headers=None):
        """POST multipart/form-data, as the report form does."""
        boundary = uuid.uuid4().hex
        parts = []
        for name, value in fields.items():
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                f"{value}\r\n".encode()
            )
        for name, (filename, content) in (files or {}).items():
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                f'filename="{filename}"\r\nContent-Type: image/jpeg\r\n\r\n'.encode()
                + content
                + b"\r\n"
            )
        parts.append(f"--{boundary}--\r\n".encode())
        sent = {"Content-Type": f"multipart/form-data; boundary={boundary}"} | (headers or {})
        return self.request("POST", path, body=b"".join(parts), headers=sent)


def form_fields(page: str) -> dict[str, str]:
    """The hidden inputs (CSRF token, one-time submission id) and the prefilled time."""
    fields = {}
    for tag in re.findall(r"<input[^>]*>", page):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name and value and ('type="hidden"' in tag or name.group(1) == "seen_at"):
            fields[name.group(1)] = value.group(1)
    return fields


def token_of(stack: Stack, unit: str, nth: int = 0) -> str:
    rows = stack.query(
        "SELECT s.token FROM sticker s JOIN vehicle v ON v.id = s.vehicle_id "
        "JOIN unit u ON u.id = v.unit_id WHERE u.code = :unit AND s.revoked_at IS NULL "
        "ORDER BY s.id",
        unit=unit,
    )
    return rows[nth][0]


def file_report(visitor: Visitor, token: str, description: str, photo=None, headers=None):
    response, page = visitor.get(f"/v/{token}/report", headers=headers)
    assert response.status == 200
    fields = form_fields(page.decode()) | {
        "category": "private_use",
        "place": "某超市门口",
        "description": description,
        "plate_matches": "yes",
    }
    files = {"photos": ("IMG_0001.jpg", photo)} if photo else None
    return visitor.post_form(f"/v/{token}/report", fields, files, headers)


def big_photo() -> bytes:
    """A 16-megapixel phone-sized JPEG of noise: just over 20 MB, under the 20 MiB limit."""
    width, height = 4608, 3456
    image = Image.frombytes("RGB", (width, height), secrets.token_bytes(width * height * 3))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=96)
    return out.getvalue()


def test_scan_page_over_https_with_security_headers_and_hsts(stack):
    phone = Visitor(stack, "127.0.0.2")
    token = token_of(stack, "cg-jy")
    response, page = phone.get(f"/v/{token}")
    assert response.status == 200 and "公务用车监督码" in page.decode()
    headers = response.headers
    assert headers["Strict-Transport-Security"] == HSTS
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Frame-Options"] == "DENY"
    # Static files come from nginx itself, cached for a week, HSTS included.
    response, css = phone.get("/static/style.css")
    assert response.status == 200 and css == (asset_dir("static") / "style.css").read_bytes()
    assert "max-age=604800" in response.headers["Cache-Control"]
    assert response.headers["Strict-Transport-Security"] == HSTS
    # Plain HTTP only redirects.
    response, _ = phone.get(f"/v/{token}", https=False)
    assert response.status == 301
    assert response.headers["Location"] == f"https://{DOMAIN}/v/{token}"


def test_a_report_with_a_20_mb_photo(stack):
    photo = big_photo()
    assert 20_000_000 < len(photo) <= 20 * 1024 * 1024
    phone = Visitor(stack, "127.0.0.3")
    response, page = file_report(phone, token_of(stack, "cg-jy", 1), "二十兆的照片", photo)
    assert response.status == 200, page.decode()[-500:]
    assert "举报已提交" in page.decode()
    rows = stack.query(
        "SELECT p.width, p.height FROM report r JOIN report_photo p ON p.report_id = r.id "
        "WHERE r.description = :text",
        text="二十兆的照片",
    )
    assert rows == [(3000, 2250)]


def test_the_limiter_sees_each_client_behind_nginx(stack):
    token = token_of(stack, "cg-jy", 2)
    first, second = Visitor(stack, "127.0.0.4"), Visitor(stack, "127.0.0.5")
    statuses = [file_report(first, token, f"限流 {n}")[0].status for n in range(REPORT_LIMIT + 1)]
    assert statuses == [200] * REPORT_LIMIT + [429]
    # Another address through the same proxy still files.
    assert file_report(second, token, "另一个人")[0].status == 200
    # A forged header cannot make the first look like someone else: nginx appends the real
    # address, and the one trusted hop is all the service believes.
    forged = file_report(first, token, "伪造", headers={"X-Forwarded-For": "203.0.113.9"})
    assert forged[0].status == 429


def _login(visitor: Visitor, username: str) -> None:
    """Password, then the authenticator set up at the account's first login (TOTP stays on)."""
    response, page = visitor.get("/login")
    fields = form_fields(page.decode()) | {"username": username, "password": DEMO_PASSWORD}
    response, _ = visitor.post_form("/login", fields)
    assert response.status == 302, f"login as {username}: {response.status}"
    assert "/login/enrol" in response.getheader("Location")
    response, page = visitor.get("/login/enrol")
    secret = re.search(r'<code id="totp-secret">([A-Z2-7]+)</code>', page.decode()).group(1)
    fields = form_fields(page.decode()) | {"code": pyotp.TOTP(secret).now()}
    response, page = visitor.post_form("/login/enrol", fields)
    assert response.status == 200 and "恢复码" in page.decode(), f"enrol {username}"


def test_photos_come_from_nginx_after_the_scope_check(stack):
    check_photos_come_from_nginx(
        stack, lambda name: (stack.instance / "photos" / name).read_bytes(), "/_photos/"
    )


def check_photos_come_from_nginx(
    stack: Stack, stored: Callable[[str], bytes], internal_prefix: str
) -> None:
    """An officer in scope gets a report's photo, sent by nginx's internal location (with
    its own headers); one out of scope gets 404, and nobody reaches that location directly.
    `stored(name)` reads a stored photo; `internal_prefix` is where nginx finds it."""
    token = token_of(stack, "ds-ny")
    phone = Visitor(stack, "127.0.0.6")
    photo = io.BytesIO()
    Image.new("RGB", (800, 600), (30, 120, 60)).save(photo, "JPEG")
    assert file_report(phone, token, "照片交给 nginx", photo.getvalue())[0].status == 200
    photo_id, name = stack.query(
        "SELECT p.id, p.display_name FROM report_photo p JOIN report r ON r.id = p.report_id "
        "WHERE r.description = :text",
        text="照片交给 nginx",
    )[0]
    officer = Visitor(stack, "127.0.0.7")
    _login(officer, "officer-ds")
    response, data = officer.get(f"/review/photos/{photo_id}/display.jpg")
    assert response.status == 200
    assert data == stored(name)
    assert response.headers["Content-Type"] == "image/jpeg"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Strict-Transport-Security"] == HSTS
    # The worker only named the file; nginx's internal location sent it, with its own policy.
    assert "X-Accel-Redirect" not in response.headers
    assert response.headers["Content-Security-Policy"] == "default-src 'none'"
    outsider = Visitor(stack, "127.0.0.8")
    _login(outsider, "officer-cg")
    assert outsider.get(f"/review/photos/{photo_id}/display.jpg")[0].status == 404
    # The internal location is not reachable from outside.
    assert officer.get(f"{internal_prefix}{name}")[0].status == 404


def test_the_access_log_keeps_no_client_address(stack):
    visitor = Visitor(stack, "127.0.0.9")
    token = token_of(stack, "cg-jy")
    for path in (f"/v/{token}", f"/v/{token}/report", "/track", "/report", "/login", "/"):
        assert visitor.get(path)[0].status == 200, path
    lines = stack.access_log.read_text().splitlines()
    assert any('"GET /login"' in line for line in lines)
    assert not [line for line in lines if "127.0.0." in line]
    # The scan page, the report forms and tracking are not logged at all.
    assert not [line for line in lines if re.search(r'"\w+ /(v/|v"|report|track)', line)]
