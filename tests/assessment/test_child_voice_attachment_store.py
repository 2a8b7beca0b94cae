"""The attachment stores behind children's drawings: the local folder (default) and the S3-compatible one
(against a boto3-style client; boto3 itself is not a dependency)."""

from __future__ import annotations

import io
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from sop_assessment.attachments.store import LocalFolderStore, S3Store, build_store


async def test_the_local_folder_keeps_and_returns_the_bytes(tmp_path: Path) -> None:
    store = LocalFolderStore(tmp_path)
    await store.put("case/drawing-1", b"\x89PNG", "image/png")
    assert await store.get("case/drawing-1") == b"\x89PNG"
    assert not list(tmp_path.rglob("*.part"))
    await store.delete("case/drawing-1")
    assert not (tmp_path / "case" / "drawing-1").exists()


@pytest.mark.parametrize("key", ["../escape", "/etc/passwd", "case/../../x", ""])
async def test_a_key_cannot_leave_the_folder(tmp_path: Path, key: str) -> None:
    with pytest.raises(ValueError):
        await LocalFolderStore(tmp_path / "inside").put(key, b"x", "image/png")


class FakeS3:
    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], tuple[bytes, str]] = {}

    def put_object(self, *, Bucket: str, Key: str, Body: bytes, ContentType: str) -> None:
        self.objects[(Bucket, Key)] = (Body, ContentType)

    def get_object(self, *, Bucket: str, Key: str) -> dict[str, Any]:
        return {"Body": io.BytesIO(self.objects[(Bucket, Key)][0])}

    def delete_object(self, *, Bucket: str, Key: str) -> None:
        self.objects.pop((Bucket, Key), None)


async def test_the_s3_store_talks_to_a_boto3_style_client() -> None:
    client = FakeS3()
    store = S3Store(client, "sop-drawings", prefix="assessment/")
    await store.put("case/drawing-1", b"\xff\xd8\xff", "image/jpeg")
    assert client.objects[("sop-drawings", "assessment/case/drawing-1")] == (b"\xff\xd8\xff", "image/jpeg")
    assert await store.get("case/drawing-1") == b"\xff\xd8\xff"


def test_the_default_store_is_a_folder_under_the_data_dir(tmp_path: Path) -> None:
    settings = SimpleNamespace(attachments_backend="local", attachments_dir=None, data_dir=tmp_path)
    store = build_store(settings)
    assert isinstance(store, LocalFolderStore) and store.root == tmp_path / "attachments"


def test_the_s3_backend_without_boto3_refuses_to_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)  # as in this project: boto3 is not installed
    settings = SimpleNamespace(attachments_backend="s3", attachments_s3_bucket="b", attachments_s3_endpoint_url="")
    with pytest.raises(RuntimeError, match="boto3"):
        build_store(settings)
