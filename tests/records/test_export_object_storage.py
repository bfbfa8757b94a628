"""Export files in S3-compatible object storage: encrypted at rest, downloaded through a short-lived link.

Against a real S3-compatible server on loopback (moto's server): the one the scaled-out run
starts (TEST_S3_ENDPOINT), or one this module starts and stops itself.
"""

import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from sqlalchemy import text as sql

from guide.models import utcnow

from tests.conftest import SMALL_CONTENT, Client, build_app
from tests.records.test_export_jobs import COPIES, _ask, _clone_records, _wait_until_ready
from tests.records.test_records_officer import save


@pytest.fixture(scope="module")
def s3_endpoint():
    if os.environ.get("TEST_S3_ENDPOINT"):
        yield os.environ["TEST_S3_ENDPOINT"]
        return
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(endpoint + "/moto-api/", timeout=1)
            break
        except OSError:
            assert time.monotonic() < deadline, "moto_server did not start"
            time.sleep(0.1)
    yield endpoint
    server.terminate()
    server.wait(10)


@pytest.fixture
def s3_app(tmp_path, s3_endpoint, monkeypatch):
    for name, value in (("AWS_ACCESS_KEY_ID", "test"), ("AWS_SECRET_ACCESS_KEY", "test"), ("AWS_DEFAULT_REGION", "eu-west-2")):
        monkeypatch.setenv(name, value)
    bucket = f"guide-exports-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="eu-west-2")
    client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
    app = build_app(tmp_path, SMALL_CONTENT, EXPORT_JOB_THRESHOLD=5, EXPORT_CHUNK_ROWS=3, EXPORT_STORE="s3",
                    S3_BUCKET=bucket, S3_ENDPOINT=s3_endpoint, S3_LINK_SECONDS=60)
    save(Client(app).sign_in("practitioner"), [("purpose", "no")], subject_ref="CHILD-1")
    _clone_records(app, COPIES)
    app.s3, app.bucket = client, bucket
    return app


def test_an_export_goes_to_object_storage_encrypted_and_downloads_through_a_short_lived_link(s3_app):
    officer = Client(s3_app).sign_in("records")
    job_id = _ask(officer, "csv")
    _wait_until_ready(officer, job_id)
    objects = s3_app.s3.list_objects_v2(Bucket=s3_app.bucket, Prefix=f"exports/{job_id}/")["Contents"]
    assert len(objects) == 1  # one file, whatever the number of parts
    assert s3_app.s3.head_object(Bucket=s3_app.bucket, Key=objects[0]["Key"])["ServerSideEncryption"] == "AES256"
    with s3_app.extensions["db_engine"].connect() as connection:
        assert connection.execute(sql("SELECT count(*) FROM export_chunks")).scalar() == 0  # not in the database

    download = officer.get(f"/records/exports/{job_id}/download")
    assert download.status_code == 303
    link = download.location
    assert parse_qs(urlsplit(link).query)["X-Amz-Expires"] == ["60"]
    with urllib.request.urlopen(link) as response:
        assert "attachment; filename=decision-records.csv" == response.headers["Content-Disposition"]
        body = response.read().decode()
    assert body == officer.get("/records/export.csv").get_data(as_text=True)


def test_an_expired_export_is_removed_from_object_storage(s3_app):
    officer = Client(s3_app).sign_in("records")
    job_id = _ask(officer, "json")
    _wait_until_ready(officer, job_id)
    with s3_app.extensions["db_engine"].begin() as connection:
        connection.execute(sql("UPDATE export_jobs SET expires_at = :at WHERE id = :id"),
                           {"at": utcnow() - timedelta(minutes=1), "id": job_id})
    assert "Expired 1 export job(s)" in s3_app.test_cli_runner().invoke(args=["records", "run-exports"]).output
    assert "Contents" not in s3_app.s3.list_objects_v2(Bucket=s3_app.bucket, Prefix=f"exports/{job_id}/")
