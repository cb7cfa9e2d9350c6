"""The local warehouse's S3 mirror: only changed objects are downloaded, gone ones removed,
hidden markers skipped."""

from __future__ import annotations

from pathlib import Path

from retailake.warehouse import mirror


class FakeS3:
    """list_objects_v2 pages and download_file over a dict of key -> (etag, bytes)."""

    def __init__(self) -> None:
        self.objects: dict[str, tuple[str, bytes]] = {}
        self.downloads: list[str] = []

    def get_paginator(self, name: str) -> FakeS3:
        assert name == "list_objects_v2"
        return self

    def paginate(self, Bucket: str, Prefix: str):
        keys = sorted(k for k in self.objects if k.startswith(Prefix))
        yield {"Contents": [{"Key": k, "ETag": self.objects[k][0]} for k in keys[:2]]}
        yield {"Contents": [{"Key": k, "ETag": self.objects[k][0]} for k in keys[2:]]}

    def download_file(self, bucket: str, key: str, path: str) -> None:
        self.downloads.append(key)
        Path(path).write_bytes(self.objects[key][1])


def files(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")
    }


def test_sync_copies_changes_only_and_mirrors_deletions(tmp_path):
    s3 = FakeS3()
    s3.objects = {
        "t/year=2025/month=10/part-0.parquet": ("e1", b"a"),
        "t/year=2025/month=11/part-0.parquet": ("e2", b"b"),
        "t/_SUCCESS": ("e3", b""),
        "t/year=2025/month=11/.part-0.parquet.crc": ("e4", b"c"),
        "other/part-0.parquet": ("e5", b"x"),
    }
    first = mirror.sync(s3, "s3://lake/t/", tmp_path)
    folder = tmp_path / "lake" / "t"
    assert (first.folder, first.files, first.downloaded, first.removed) == (folder, 2, 2, 0)
    assert files(folder) == {
        "year=2025/month=10/part-0.parquet": b"a",
        "year=2025/month=11/part-0.parquet": b"b",
    }

    s3.downloads.clear()
    again = mirror.sync(s3, "s3://lake/t", tmp_path)
    assert (again.files, again.downloaded, again.removed, s3.downloads) == (2, 0, 0, [])

    del s3.objects["t/year=2025/month=10/part-0.parquet"]
    s3.objects["t/year=2025/month=11/part-0.parquet"] = ("e6", b"B")
    s3.objects["t/year=2025/month=12/part-1.parquet"] = ("e7", b"c")
    changed = mirror.sync(s3, "s3://lake/t/", tmp_path)
    assert (changed.files, changed.downloaded, changed.removed) == (2, 2, 1)
    assert sorted(s3.downloads) == [
        "t/year=2025/month=11/part-0.parquet",
        "t/year=2025/month=12/part-1.parquet",
    ]
    assert files(folder) == {
        "year=2025/month=11/part-0.parquet": b"B",
        "year=2025/month=12/part-1.parquet": b"c",
    }


def test_a_key_that_is_no_file_name_is_not_copied_outside_the_mirror(tmp_path):
    s3 = FakeS3()
    escaped = tmp_path / "escaped.parquet"
    s3.objects = {f"t/{escaped}": ("e1", b"a"), "t/a//b.parquet": ("e2", b"b"),
                  "t/ok.parquet": ("e3", b"c")}  # fmt: skip
    result = mirror.sync(s3, "s3://lake/t/", tmp_path / "mirror")
    assert (result.files, s3.downloads) == (1, ["t/ok.parquet"])
    assert not escaped.exists()
