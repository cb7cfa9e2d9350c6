"""The twin's root keys: made once per home, owner-only, the same for every reader."""

from __future__ import annotations

import stat
import threading

import pytest

from retailake.errors import EmulatorError
from retailake.local.root_keys import FILE_NAME, root_keys


def test_keys_are_made_once_owner_only_and_kept(tmp_path):
    first = root_keys(tmp_path / "emulator")
    assert first.access_key.startswith("AKIA") and len(first.access_key) == 20
    assert not first.access_key.startswith("ASIA")  # never taken for an STS session's
    assert len(first.secret_key) == 40
    assert stat.S_IMODE((tmp_path / "emulator" / FILE_NAME).stat().st_mode) == 0o600
    assert root_keys(tmp_path / "emulator") == first
    assert root_keys(tmp_path / "another-home") != first  # random for each twin


def test_of_processes_racing_to_make_them_all_read_the_same_keys(tmp_path):
    found = []
    racers = [threading.Thread(target=lambda: found.append(root_keys(tmp_path)))
              for _ in range(8)]  # fmt: skip
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join(10)
    assert len(found) == 8 and len(set(found)) == 1
    assert [p.name for p in tmp_path.iterdir()] == [FILE_NAME]  # no temporary file left


def test_damaged_keys_are_named_with_what_to_do(tmp_path):
    (tmp_path / FILE_NAME).write_text("{not json")
    with pytest.raises(EmulatorError, match=r"root keys in .*root-keys.json are damaged.*"
                                            r"local down.*remove the file"):
        root_keys(tmp_path)
