"""Where export files are kept: a folder on this machine by default, S3-compatible object storage
when configured. Not in the database, so big files do not swell its WAL, backups and replicas.

Each attempt at a job writes its own file (named by the job and the runner's claim), so a runner
that lost its claim can never add to the file of the one that won; the job's row says which
runner's file is the finished one.

- LocalFileStore (GUIDE_EXPORT_STORE unset or `local`): `instance/exports/<job>/<claim>/<part>`,
  each part encrypted with the app's keys (AES-GCM, guide/crypto.py), served through the app.
  One machine only: another machine cannot read this one's disk.
- S3FileStore (GUIDE_EXPORT_STORE=s3, GUIDE_S3_BUCKET, optional GUIDE_S3_ENDPOINT for any
  S3-compatible server, credentials the usual AWS way): one object per file, written as a
  multipart upload, encrypted at rest by the server (SSE, AES-256); the download is a
  presigned link that works for GUIDE_S3_LINK_SECONDS (60) and names the file.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

from flask import Flask

from .crypto import KeyRing

CONTEXT = "export_files"
_SAFE = re.compile(r"[0-9a-f]{1,64}")


def _safe(name: str) -> str:
    if not _SAFE.fullmatch(name or ""):
        raise ValueError("job ids and claims are hex")
    return name


class LocalFileStore:
    def __init__(self, folder: Path, keyring: KeyRing):
        self.folder, self.keyring = Path(folder), keyring

    def _dir(self, job_id: str, claim: str | None = None) -> Path:
        path = self.folder / _safe(job_id)
        return path / _safe(claim) if claim else path

    def start(self, job_id: str, claim: str) -> LocalFile:
        """A new, empty file for this attempt; earlier attempts' files go."""
        self.delete(job_id)
        return LocalFile(self._dir(job_id, claim), self.keyring)

    def read(self, job_id: str, claim: str) -> Iterator[str]:
        folder = self._dir(job_id, claim)
        for part in sorted(folder.glob("*.part")):
            yield self.keyring.decrypt(part.read_text(), CONTEXT).decode()

    def link(self, job_id: str, claim: str, filename: str, mimetype: str) -> str | None:
        return None  # served through the app, which decrypts it

    def delete(self, job_id: str) -> None:
        shutil.rmtree(self._dir(job_id), ignore_errors=True)


class LocalFile:
    def __init__(self, folder: Path, keyring: KeyRing):
        self.folder, self.keyring, self.seq = folder, keyring, 0
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)

    def write(self, text: str) -> None:
        path = self.folder / f"{self.seq:06d}.part"
        temporary = path.with_suffix(".tmp")
        temporary.write_text(self.keyring.encrypt(text.encode(), CONTEXT))
        os.replace(temporary, path)  # a part is there whole or not at all
        self.seq += 1

    def finish(self) -> None:
        pass


class S3FileStore:
    MIN_PART = 5 << 20  # S3's smallest part but the last

    def __init__(self, bucket: str, endpoint: str | None = None, region: str | None = None, link_seconds: int = 60):
        import boto3
        self.bucket, self.link_seconds = bucket, link_seconds
        self.client = boto3.client("s3", endpoint_url=endpoint or None, region_name=region or "eu-west-2")

    @staticmethod
    def _key(job_id: str, claim: str) -> str:
        return f"exports/{_safe(job_id)}/{_safe(claim)}"

    def start(self, job_id: str, claim: str) -> S3File:
        self.delete(job_id)
        return S3File(self, self._key(job_id, claim))

    def read(self, job_id: str, claim: str) -> Iterator[str]:
        body = self.client.get_object(Bucket=self.bucket, Key=self._key(job_id, claim))["Body"]
        yield from (piece.decode() for piece in iter(lambda: body.read(1 << 20), b""))

    def link(self, job_id: str, claim: str, filename: str, mimetype: str) -> str | None:
        return self.client.generate_presigned_url("get_object", ExpiresIn=self.link_seconds, Params={
            "Bucket": self.bucket, "Key": self._key(job_id, claim), "ResponseContentType": mimetype,
            "ResponseContentDisposition": f"attachment; filename={filename}"})

    def delete(self, job_id: str) -> None:
        prefix = f"exports/{_safe(job_id)}/"
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                self.client.delete_object(Bucket=self.bucket, Key=item["Key"])
        for upload in self.client.list_multipart_uploads(Bucket=self.bucket, Prefix=prefix).get("Uploads", []):
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"])


class S3File:
    """A multipart upload: parts of at least 5 MB go up as they fill; the last on finish."""

    def __init__(self, store: S3FileStore, key: str):
        self.store, self.key, self.parts, self.buffer = store, key, [], []
        self.size = 0
        self.upload = store.client.create_multipart_upload(
            Bucket=store.bucket, Key=key, ServerSideEncryption="AES256")["UploadId"]

    def write(self, text: str) -> None:
        data = text.encode()
        self.buffer.append(data)
        self.size += len(data)
        if self.size >= S3FileStore.MIN_PART:
            self._send()

    def _send(self) -> None:
        number = len(self.parts) + 1
        answer = self.store.client.upload_part(Bucket=self.store.bucket, Key=self.key, UploadId=self.upload,
                                               PartNumber=number, Body=b"".join(self.buffer))
        self.parts.append({"PartNumber": number, "ETag": answer["ETag"]})
        self.buffer, self.size = [], 0

    def finish(self) -> None:
        if self.buffer or not self.parts:
            self._send()
        self.store.client.complete_multipart_upload(Bucket=self.store.bucket, Key=self.key, UploadId=self.upload,
                                                    MultipartUpload={"Parts": self.parts})


def make_store(app: Flask):
    if (app.config.get("EXPORT_STORE") or "local") == "s3":
        return S3FileStore(app.config["S3_BUCKET"], app.config.get("S3_ENDPOINT"), app.config.get("S3_REGION"),
                           int(app.config.get("S3_LINK_SECONDS") or 60))
    folder = app.config.get("EXPORT_FOLDER") or Path(app.instance_path) / "exports"
    return LocalFileStore(Path(folder), app.extensions["keyring"])


def init_file_store(app: Flask) -> None:
    app.extensions["file_store"] = make_store(app)
