"""Where attachment bytes live: a storage interface, a local-folder backend (the default, under the data
dir) and an S3-compatible backend written against a boto3-style client. Plus the image checks: only PNG
and JPEG, recognised by their magic bytes, up to a configured size."""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path
from typing import Any, Protocol

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"
ALLOWED_TYPES = ("image/png", "image/jpeg")
_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9/_.-]{0,299}$")


def sniff_image(data: bytes) -> str | None:
    """The image type the bytes really are (by magic number), whatever the client declared."""
    if data.startswith(PNG_MAGIC):
        return "image/png"
    if data.startswith(JPEG_MAGIC):
        return "image/jpeg"
    return None


class AttachmentStore(Protocol):
    async def put(self, key: str, data: bytes, content_type: str) -> None: ...

    async def get(self, key: str) -> bytes: ...

    async def delete(self, key: str) -> None: ...


def _checked(key: str) -> str:
    if not _KEY.match(key) or ".." in key:
        raise ValueError(f"not a storage key: {key!r}")
    return key


class LocalFolderStore:
    """Files under one folder; written to a temporary name and renamed, so a reader never sees half a file."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / _checked(key)

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)

        def write() -> None:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + ".part")
            tmp.write_bytes(data)
            os.replace(tmp, path)

        await asyncio.to_thread(write)

    async def get(self, key: str) -> bytes:
        return await asyncio.to_thread(self._path(key).read_bytes)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._path(key).unlink, True)


class S3Store:
    """An S3-compatible bucket through a boto3-style client (`put_object`, `get_object`, `delete_object`).
    The project does not depend on boto3: pass a client, or install boto3 to have one built from settings."""

    def __init__(self, client: Any, bucket: str, prefix: str = "") -> None:
        self.client, self.bucket, self.prefix = client, bucket, prefix

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(
            self.client.put_object,
            Bucket=self.bucket,
            Key=self.prefix + _checked(key),
            Body=data,
            ContentType=content_type,
        )

    async def get(self, key: str) -> bytes:
        response = await asyncio.to_thread(self.client.get_object, Bucket=self.bucket, Key=self.prefix + _checked(key))
        body: bytes = response["Body"].read()
        return body

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self.client.delete_object, Bucket=self.bucket, Key=self.prefix + _checked(key))


def build_store(settings: Any) -> AttachmentStore:
    """The store the settings name. S3 needs boto3, which this project does not ship: without it the
    service refuses to start with that backend rather than losing drawings."""
    if settings.attachments_backend == "s3":
        try:
            import boto3
        except ImportError as exc:
            raise RuntimeError(
                "SOP_ASSESSMENT_ATTACHMENTS_BACKEND=s3 needs boto3, which is not installed; "
                "use the local backend or install boto3"
            ) from exc
        if not settings.attachments_s3_bucket:
            raise RuntimeError("SOP_ASSESSMENT_ATTACHMENTS_S3_BUCKET is required with the s3 backend")
        client = boto3.client("s3", endpoint_url=settings.attachments_s3_endpoint_url or None)
        return S3Store(client, settings.attachments_s3_bucket)
    return LocalFolderStore(settings.attachments_dir or settings.data_dir / "attachments")
