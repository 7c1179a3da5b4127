"""deploy/nginx/photos-s3.conf in the site file, in front of the service with its photos in
an S3-compatible store (moto's server mode): nginx fetches the presigned URL the application
hands it after the scope check.

Skipped, with the reason, when nginx is not installed (.ci/run installs it)."""

import re
from pathlib import Path

import pytest

from ..conftest import S3_CREDENTIALS, new_bucket, s3_client
from .test_nginx import NGINX, check_photos_come_from_nginx, running_stack

SNIPPET = Path(__file__).resolve().parents[2] / "deploy" / "nginx" / "photos-s3.conf"
ENDPOINT = "https://minio.example.cn:9000/"

pytestmark = pytest.mark.skipif(
    NGINX is None, reason="nginx not installed: deploy checks skipped (apt-get install nginx)"
)


def _with_s3_photos(endpoint: str):
    """The site file with its local /_photos/ block replaced by photos-s3.conf, pointed at
    the test's store, as deploy/README.md says to do."""
    snippet = SNIPPET.read_text()
    assert ENDPOINT in snippet, f"{SNIPPET} no longer contains {ENDPOINT!r}"
    block = "\n".join(
        "    " + line for line in snippet.splitlines() if line and not line.startswith("#")
    )
    block = block.replace(ENDPOINT, f"{endpoint}/")

    def edit(site: str) -> str:
        local = re.compile(r"^    location /_photos/ \{\n.*?^    \}\n", re.MULTILINE | re.DOTALL)
        assert len(local.findall(site)) == 1, "the site file's /_photos/ block moved"
        return local.sub(lambda _: block + "\n", site)

    return edit


@pytest.fixture(scope="module")
def s3_stack(tmp_path_factory, s3_endpoint):
    bucket = new_bucket(s3_endpoint)
    settings = {
        "VEHICLEWATCH_PHOTO_STORE": f"s3://{bucket}/reports",
        "VEHICLEWATCH_PHOTO_STORE_ENDPOINT": s3_endpoint,
    } | {f"VEHICLEWATCH_{k}": v for k, v in S3_CREDENTIALS.items()}
    folder = tmp_path_factory.mktemp("nginx-s3")
    with running_stack(folder, settings, _with_s3_photos(s3_endpoint)) as stack:
        yield stack, bucket, s3_endpoint


def test_photos_come_from_the_store_through_nginx_after_the_scope_check(s3_stack):
    stack, bucket, endpoint = s3_stack

    def stored(name: str) -> bytes:
        return s3_client(endpoint).get_object(Bucket=bucket, Key=f"reports/{name}")["Body"].read()

    check_photos_come_from_nginx(stack, stored, f"/_photos/{bucket}/reports/")
    assert not list(stack.instance.rglob("*.jpg"))  # nothing on the host's disk
