"""The only module that drives Terraform: commands built by python-terraform, run here.

python-terraform 0.10 builds correct command lines but runs them badly against Terraform 1.x
(it sends the removed `-force`, waits for approval on `apply`, and cannot stream and keep the
output at once). So it builds every argument list (`generate_cmd_string`) and this module runs
them, streaming each line to a callback while keeping the text for error reporting."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass
from difflib import get_close_matches
from pathlib import Path
from typing import Any

from python_terraform import IsFlagged, IsNotFlagged
from python_terraform import Terraform as _PythonTerraform

from retailake.config import Environment, detect_plugin_mirror
from retailake.errors import ConfigError, TerraformError
from retailake.plan import PlanSummary, summarize_plan

LineCallback = Callable[[str], None]
# Terraform's warning for a tfvars entry no variable declares (wrapped at any space).
_UNDECLARED = re.compile(
    r'does\s+not\s+declare\s+a\s+variable\s+named\s+"([^"]+)"\s+but\s+a\s+value\s+was'
    r'\s+found\s+in\s+file\s+"([^"]+)"'
)
_DECLARED = re.compile(r'^\s*variable\s+"([^"]+)"', re.MULTILINE)


@dataclass(frozen=True)
class Run:
    """A finished Terraform command."""

    returncode: int
    stdout: str
    stderr: str


@dataclass
class Plan:
    """A saved plan: what it would change, and the file `apply` executes."""

    path: Path
    summary: PlanSummary


def terraform_binary() -> str:
    """The terraform executable: RETAILAKE_TERRAFORM_BIN, else `terraform` on PATH."""
    name = os.environ.get("RETAILAKE_TERRAFORM_BIN", "terraform")
    found = shutil.which(name)
    if not found:
        raise ConfigError(
            f"'{name}' was not found on PATH: install Terraform >= 1.11 "
            "(https://developer.hashicorp.com/terraform/install) or set RETAILAKE_TERRAFORM_BIN"
        )
    return found


def cli_config_file(home: Path) -> Path | None:
    """A Terraform CLI config naming the provider mirror, when there is one, so that init
    needs no registry; None leaves the user's own configuration alone."""
    mirror = detect_plugin_mirror()
    if mirror is None:
        return None
    path = home / "terraformrc"
    text = f'provider_installation {{\n  filesystem_mirror {{\n    path = "{mirror}"\n  }}\n}}\n'
    if not path.is_file() or path.read_text() != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return path


def _process_alive(pid: str) -> bool:
    """Whether a process of that id runs (a plan file names its process)."""
    if not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _stop(process: subprocess.Popen[str], lines: list[str]) -> None:
    """Ctrl-C during a Terraform command: Terraform stops as on its own Ctrl-C (it finishes
    the calls under way and writes the state), and is waited for, never left running. A
    second Ctrl-C is passed on too, and Terraform then quits at once."""
    while process.poll() is None:
        try:
            # to its process group, as a terminal would: a wrapper script's Terraform too
            os.killpg(process.pid, signal.SIGINT)
            assert process.stdout is not None
            lines.extend(process.stdout)  # it exits once it has said its last
            process.wait()
        except KeyboardInterrupt:
            continue


def error_lines(text: str) -> str:
    """The diagnostic boxes of Terraform's output (`Error: ...` and its context), unboxed;
    without boxes (`-no-color`), each `Error:` or `Warning:` line and the lines after it."""
    blocks: list[list[str]] = []
    current: list[str] | None = None
    plain: list[str] | None = None
    for raw in text.splitlines():
        line = raw.rstrip()
        if line.startswith("╷"):
            current, plain = [], None
        elif line.startswith("╵"):
            if current is not None:
                blocks.append(current)
            current = None
        elif current is not None:
            current.append(line.removeprefix("│").strip())
        elif line.startswith(("Error:", "Warning:")):
            plain = [line]
            blocks.append(plain)
        elif plain is not None:
            plain.append(line.strip())
    errors = [block for block in blocks if block and block[0].startswith("Error")]
    chosen = errors or blocks
    if not chosen:
        tail = [line for line in text.strip().splitlines() if line.strip()][-15:]
        return "\n".join(tail)
    return "\n\n".join("\n".join(line for line in block if line) for block in chosen)


class Terraform:
    """One environment's Terraform working directory, state and variables."""

    def __init__(
        self,
        env: Environment,
        variables: dict[str, Any] | None = None,
        var_files: list[Path] | None = None,
        on_line: LineCallback | None = None,
    ) -> None:
        self.env = env
        self.on_line = on_line
        self.var_files = [path.resolve() for path in var_files or []]
        for path in self.var_files:
            if not path.is_file():
                raise ConfigError(f"variables file {path} does not exist")
        self.data_dir = env.state_dir / "tfdata"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        # The CLI's own variables (the twin's endpoint) as -var arguments, after the user's
        # files, so they win. python-terraform would write a temporary file per command and
        # delete every one after any command, which breaks two commands run at once.
        self.cli_variables = [
            f"-var={name}={value if isinstance(value, str) else json.dumps(value)}"
            for name, value in (variables or {}).items()
        ]
        self._tf = _PythonTerraform(
            working_dir=str(env.terraform_dir),
            var_file=[str(path) for path in self.var_files] or None,
            terraform_bin_path=terraform_binary(),
        )

    @property
    def local_state(self) -> Path:
        """The local twin's state file (its backend is `local`)."""
        return self.env.state_dir / "terraform.tfstate"

    def state_version(self) -> tuple[int, int] | None:
        """The local state file's modification time and size; None on a remote backend or
        before the first apply. Equal before and after a command: nothing wrote the state."""
        if not self.env.is_local or not self.local_state.is_file():
            return None
        stat = self.local_state.stat()
        return stat.st_mtime_ns, stat.st_size

    # -- running -------------------------------------------------------------------------

    def _environment(self) -> dict[str, str]:
        environ = dict(os.environ)
        environ.update(TF_DATA_DIR=str(self.data_dir), TF_IN_AUTOMATION="1", TF_INPUT="0")
        if self.env.is_local:  # the twin's keys, in the environment (a -var shows in `ps`)
            from retailake.local.emulator import twin_keys

            for variable in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):  # the user's own, not for it
                environ.pop(variable, None)
            environ.update(twin_keys(self.env).as_environment())
        config = cli_config_file(self.env.home)
        if config:
            environ["TF_CLI_CONFIG_FILE"] = str(config)
        return environ

    def _run(self, command: str, *args: str, stream: bool = True, **options: Any) -> Run:
        argv = self._tf.generate_cmd_string(command, *args, **options)
        process = subprocess.Popen(
            argv,
            cwd=self._tf.working_dir,
            env=self._environment(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
            # its own process group: a terminal's Ctrl-C reaches retailake alone, which
            # passes Terraform exactly one (a second makes Terraform quit on the spot)
            start_new_session=True,
        )
        stdout, stderr = process.stdout, process.stderr
        assert stdout is not None and stderr is not None  # both are pipes, opened above
        stderr_chunks: list[str] = []
        drain = threading.Thread(
            target=lambda: stderr_chunks.append(stderr.read()), daemon=True
        )
        drain.start()
        stdout_lines: list[str] = []
        try:
            for line in stdout:
                stdout_lines.append(line)
                if stream and self.on_line:
                    self.on_line(line.rstrip("\n"))
            process.wait()
        except KeyboardInterrupt:
            _stop(process, stdout_lines)
            raise TerraformError(
                f"interrupted: terraform {command} stopped, keeping what it had done in the "
                "state; run the command again to finish"
            ) from None
        drain.join()
        return Run(process.returncode, "".join(stdout_lines), "".join(stderr_chunks))

    def _check(self, run: Run, doing: str) -> Run:
        if run.returncode != 0:
            text = run.stderr + run.stdout
            hint = ""
            if "Saved plan is stale" in text:
                hint = (f"\nThe state of '{self.env.name}' changed since this plan was made: "
                        "make and review a new one (`retailake plan --out FILE`).")
            elif "Error acquiring the state lock" in text:
                hint = (f"\nAnother command holds the state lock of '{self.env.name}' (a "
                        "deploy, plan or destroy under way): run again when it is done.")
            elif "No valid credential sources found" in text:
                hint = (f"\nTerraform found no AWS credentials for '{self.env.name}': set "
                        "AWS_PROFILE (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) for its "
                        "account, or run `aws sso login` for that profile.")
            # Terraform writes its diagnostics to stderr; stdout is progress ("Creating...")
            said = error_lines(run.stderr if run.stderr.strip() else run.stdout)
            raise TerraformError(f"terraform {doing} failed:\n{said}{hint}")
        return run

    # -- commands -----------------------------------------------------------------------

    def _init_fingerprint(self) -> str:
        """What init depends on: the configuration tree, the mirror and the backend settings."""
        digest = hashlib.sha256()
        root = self.env.terraform_dir.parent.parent
        for path in sorted(root.rglob("*.tf")) + sorted(root.rglob("*.hcl")):
            if ".terraform" not in path.parts:
                digest.update(str(path.relative_to(root)).encode())
                digest.update(path.read_bytes())
        backend = self._backend_config()
        digest.update(json.dumps(backend, sort_keys=True).encode())
        if isinstance(backend, str):  # a file, which may live outside the tree above
            digest.update(Path(backend).read_bytes())
        digest.update(str(detect_plugin_mirror()).encode())
        return digest.hexdigest()

    def _backend_config(self) -> dict[str, str] | str:
        if self.env.is_local:
            return {"path": str(self.local_state)}
        configured = os.environ.get("RETAILAKE_BACKEND_CONFIG")
        path = Path(configured) if configured else self.env.terraform_dir / "backend.hcl"
        if not path.is_file():
            raise ConfigError(
                f"no backend settings for '{self.env.name}' at {path}: create it from "
                f"backend.hcl.example or set RETAILAKE_BACKEND_CONFIG"
            )
        return str(path.resolve())

    def init(self) -> bool:
        """Initialise the working directory unless nothing it depends on has changed.

        Returns whether init actually ran."""
        stamp = self.data_dir / "retailake-init.sha256"
        fingerprint = self._init_fingerprint()
        if stamp.is_file() and stamp.read_text() == fingerprint:
            return False
        run = self._run(
            "init",
            backend_config=self._backend_config(),
            reconfigure=IsFlagged,
            input=False,
            no_color=IsFlagged,
            stream=False,
        )
        self._check(run, "init")
        stamp.write_text(fingerprint)
        return True

    def _in_plan_file(self, kind: str, fill: Callable[[Path], PlanSummary]) -> Plan:
        """A plan that `fill` puts into an owner-only file of this process's own (two commands
        at once must not apply each other's plan) and summarises. The caller deletes the file
        (it may hold secrets); a refused or interrupted one leaves none behind, and a crashed
        run's is cleared here."""
        for stale in self.env.state_dir.glob("*.tfplan"):
            if not _process_alive(stale.stem.rpartition("-")[2]):
                stale.unlink(missing_ok=True)
        path = self.env.state_dir / f"{kind}-{os.getpid()}.tfplan"
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600))  # kept 0600
        try:
            return Plan(path=path, summary=fill(path))
        except BaseException:
            path.unlink(missing_ok=True)
            raise

    def plan(self, destroy: bool = False) -> Plan:
        """Plan into a file and summarise it; nothing is changed."""
        return self._in_plan_file("destroy" if destroy else "deploy",
                                  lambda path: self._planned(path, destroy))  # fmt: skip

    def reviewed(self, write: Callable[[Path], None]) -> Plan:
        """A plan saved earlier, which `write` puts into the file given it, summarised as
        `plan` does; nothing is changed."""

        def copied(path: Path) -> PlanSummary:
            write(path)
            return self._summarize(path)

        return self._in_plan_file("reviewed", copied)

    def _planned(self, path: Path, destroy: bool) -> PlanSummary:
        run = self._run(
            "plan",
            *self.cli_variables,
            out=str(path),
            destroy=IsFlagged if destroy else IsNotFlagged,
            detailed_exitcode=IsFlagged,
            input=False,
            no_color=IsFlagged,
            lock_timeout="60s",
            var_file=self._tf.var_file,
        )
        if run.returncode not in (0, 2):
            self._refuse_bad_variables_files(run)
            self._check(run, "plan")
        self._refuse_undeclared_variables(run)
        summary = PlanSummary.empty() if run.returncode == 0 else self._summarize(path)
        if run.returncode == 2 and not summary.terraform_changes:  # nothing shown, yet changes
            raise TerraformError(
                "terraform plans changes that retailake cannot summarise, so they cannot be "
                f"shown for approval: run `terraform plan` in {self.env.terraform_dir} to see "
                "them, and report this")
        return summary

    def _summarize(self, plan_path: Path) -> PlanSummary:
        run = self._check(
            self._run("show", str(plan_path), json=IsFlagged, no_color=IsFlagged, stream=False),
            "show",
        )
        return summarize_plan(json.loads(run.stdout))

    def _refuse_bad_variables_files(self, run: Run) -> None:
        """A plan that failed on a --var-file's own lines (its syntax, a value of the wrong
        type or one a variable's validation refuses) failed on the user's input: exit 2."""
        said = error_lines(run.stderr if run.stderr.strip() else run.stdout)
        if not said.startswith("Error"):  # only warnings: one names a file too (undeclared)
            return
        named = [str(path) for path in self.var_files if f"on {path} line " in said]
        if named:
            raise ConfigError(
                f"variables file {', '.join(named)} is not valid: nothing was changed\n{said}"
            )

    def _refuse_undeclared_variables(self, run: Run) -> None:
        """Terraform only warns about a value for an undeclared variable; a misspelt name in a
        tfvars file would then silently fall back to its default, so it is an error here."""
        found = sorted(set(_UNDECLARED.findall(run.stdout + run.stderr)))
        if not found:
            return
        declared: set[str] = set()
        for path in self.env.terraform_dir.glob("*.tf"):
            declared.update(_DECLARED.findall(path.read_text()))
        problems = []
        for name, file in found:
            close = get_close_matches(name, sorted(declared), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            problems.append(f"'{name}' in {file}{hint}")
        raise ConfigError(
            f"undeclared variable {'; '.join(problems)}: nothing was changed; "
            "fix the name and run again"
        )

    def apply(self, plan: Plan) -> None:
        """Apply exactly the saved plan that was shown (no re-plan, no approval prompt)."""
        run = self._run(
            "apply", str(plan.path), input=False, no_color=IsFlagged, lock_timeout="60s"
        )
        plan.path.unlink(missing_ok=True)
        self._check(run, "apply")

    def outputs(self) -> dict[str, Any]:
        """Every root output's value (empty when nothing is deployed)."""
        run = self._check(
            self._run("output", json=IsFlagged, no_color=IsFlagged, stream=False), "output"
        )
        text = run.stdout.strip()
        # a sensitive output is never kept: the CLI saves outputs in clear and prints them
        return {name: item["value"] for name, item in json.loads(text or "{}").items()
                if not item.get("sensitive")}  # fmt: skip
