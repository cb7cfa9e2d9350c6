"""The local warehouse's S3 mirror: only changed objects are downloaded, gone ones removed,
hidden markers skipped."""

from __future__ import annotations

from pathlib import Path

import pytest

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


def test_a_sync_stopped_part_way_leaves_no_file_the_next_one_keeps_by_mistake(tmp_path):
    """The first sync copies a month, then is stopped (Ctrl-C) before it has noted it; the
    job then rewrites that month under a new file name. The old file must go, or the local
    warehouse reads the month twice."""
    s3 = FakeS3()
    s3.objects = {"t/m=1/part-a.parquet": ("e1", b"a"), "t/m=2/part-b.parquet": ("e2", b"b")}
    copy = s3.download_file

    def stopped_at_the_second(bucket: str, key: str, path: str) -> None:
        if key.endswith("part-b.parquet"):
            Path(path).write_bytes(b"half")  # a partial download, under its hidden name
            raise KeyboardInterrupt
        copy(bucket, key, path)

    s3.download_file = stopped_at_the_second
    with pytest.raises(KeyboardInterrupt):
        mirror.sync(s3, "s3://lake/t/", tmp_path)
    s3.download_file = copy
    del s3.objects["t/m=1/part-a.parquet"]
    s3.objects["t/m=1/part-c.parquet"] = ("e3", b"c")
    s3.downloads.clear()
    result = mirror.sync(s3, "s3://lake/t/", tmp_path)
    folder = tmp_path / "lake" / "t"
    assert files(folder) == {"m=1/part-c.parquet": b"c", "m=2/part-b.parquet": b"b"}
    assert not [p for p in folder.rglob("*.part")]
    assert (result.downloaded, result.removed) == (2, 1)


def test_a_damaged_etag_file_costs_a_copy_again_not_the_command(tmp_path):
    s3 = FakeS3()
    s3.objects = {"t/a.parquet": ("e1", b"a")}
    mirror.sync(s3, "s3://lake/t/", tmp_path)
    (tmp_path / "lake" / "t" / ".etags.json").write_text('{"a.parq')  # a kill mid-write
    s3.downloads.clear()
    result = mirror.sync(s3, "s3://lake/t/", tmp_path)
    assert (result.files, result.downloaded, s3.downloads) == (1, 1, ["t/a.parquet"])
    assert files(tmp_path / "lake" / "t") == {"a.parquet": b"a"}


def test_a_copy_never_noted_goes_with_its_object(tmp_path):
    """A sync killed outright (kill -9) notes nothing: a copied file the ETag file does not
    name, and a partial download, are still told from the files on disk."""
    s3 = FakeS3()
    s3.objects = {"t/m=1/part-a.parquet": ("e1", b"a"), "t/m=2/part-b.parquet": ("e2", b"b")}
    mirror.sync(s3, "s3://lake/t/", tmp_path)
    folder = tmp_path / "lake" / "t"
    (folder / ".etags.json").unlink()  # as if the kill came before it was written
    (folder / "m=3").mkdir()
    (folder / "m=3" / ".part-c.parquet.part").write_bytes(b"hal")  # a download cut short
    del s3.objects["t/m=1/part-a.parquet"]
    result = mirror.sync(s3, "s3://lake/t/", tmp_path)
    assert files(folder) == {"m=2/part-b.parquet": b"b"}
    assert not list(folder.rglob("*.part"))
    assert (result.files, result.removed) == (1, 1)


def test_only_the_folders_the_catalog_names_are_copied_and_kept(tmp_path):
    """A partition's new generation named: the one it replaces, still in S3 for readers
    already in it, leaves the mirror; a table with no partition named copies nothing."""
    s3 = FakeS3()
    s3.objects = {"t/m=1/gen=a/part-0.parquet": ("e1", b"a"),
                  "t/m=2/gen=a/part-0.parquet": ("e2", b"b")}  # fmt: skip
    both = ["s3://lake/t/m=1/gen=a", "s3://lake/t/m=2/gen=a/"]
    assert mirror.sync(s3, "s3://lake/t", tmp_path, within=both).files == 2
    s3.objects["t/m=1/gen=b/part-0.parquet"] = ("e3", b"A")
    moved = mirror.sync(s3, "s3://lake/t", tmp_path,
                        within=["s3://lake/t/m=1/gen=b", "s3://lake/t/m=2/gen=a"])  # fmt: skip
    assert (moved.files, moved.downloaded, moved.removed) == (2, 1, 1)
    assert files(tmp_path / "lake" / "t") == {"m=1/gen=b/part-0.parquet": b"A",
                                              "m=2/gen=a/part-0.parquet": b"b"}  # fmt: skip
    none = mirror.sync(s3, "s3://lake/t", tmp_path, within=[])
    assert (none.files, files(tmp_path / "lake" / "t")) == (0, {})
