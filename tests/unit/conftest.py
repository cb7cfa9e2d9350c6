"""Unit-test fixtures: an isolated RETAILAKE_HOME and a recording fake terraform."""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path

import pytest

FAKE = Path(__file__).with_name("fake_terraform.py")


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch):
    monkeypatch.setenv("RETAILAKE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("RETAILAKE_ENV", raising=False)
    return tmp_path / "home"


class FakeTerraform:
    """Set what each terraform subcommand answers; read back the calls made."""

    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.scenario_path = tmp_path / "scenario.json"
        self.log_path = tmp_path / "calls.jsonl"
        self.scenario: dict[str, dict] = {}
        self.save()
        binary = tmp_path / "bin" / "terraform"
        binary.parent.mkdir()
        binary.write_text(f"#!{sys.executable}\nexec(open({str(FAKE)!r}).read())\n")
        binary.chmod(binary.stat().st_mode | stat.S_IEXEC)
        monkeypatch.setenv("RETAILAKE_TERRAFORM_BIN", str(binary))
        monkeypatch.setenv("FAKE_TF_SCENARIO", str(self.scenario_path))
        monkeypatch.setenv("FAKE_TF_LOG", str(self.log_path))

    def answer(
        self,
        command: str,
        stdout: str | list[str] = "",
        stderr: str = "",
        exit: int = 0,
        await_: str = "",
        touch: str = "",
        until_interrupted: str = "",
    ) -> None:
        """`stdout` as a list: one per call, the last repeated. `await_`: the command keeps
        running until that other command has started. `touch`: a file it writes first.
        `until_interrupted`: it runs until a SIGINT, then writes how many it got there."""
        self.scenario[command] = {"stdout": stdout, "stderr": stderr, "exit": exit,
                                  "await": await_, "touch": touch,
                                  "until_interrupted": until_interrupted}  # fmt: skip
        self.save()

    def save(self) -> None:
        self.scenario_path.write_text(json.dumps(self.scenario))

    @property
    def calls(self) -> list[dict]:
        if not self.log_path.exists():
            return []
        return [json.loads(line) for line in self.log_path.read_text().splitlines()]

    def commands(self) -> list[str]:
        return [call["argv"][0] for call in self.calls]


@pytest.fixture
def fake_terraform(tmp_path, monkeypatch) -> FakeTerraform:
    return FakeTerraform(tmp_path, monkeypatch)


def plan_json(*changes: tuple[str, str, list[str]]) -> str:
    return json.dumps(
        {
            "resource_changes": [
                {"address": a, "type": t, "mode": "managed", "change": {"actions": acts}}
                for a, t, acts in changes
            ]
        }
    )
