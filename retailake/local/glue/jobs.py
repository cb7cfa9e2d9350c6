"""Run one Glue job's own script in the warm local SparkSession, as Glue would start it.

The definition comes from GetJob: Command.ScriptLocation, DefaultArguments (with
--extra-py-files) and NonOverridableArguments. Script and extra files are fetched from the
emulator's S3; the script runs in-process with `runpy` so it shares the runner's SparkContext,
with Glue's argv, the `awsglue` shim on sys.path, and AWS_* variables aimed at the emulator
(credentials of a session of the job's role, as S3A's: see roles).
Everything it changes in the process (argv, path, environment, modules, logging) is restored."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import os
import re
import runpy
import secrets
import shutil
import sys
import time
import traceback
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from retailake.local.glue import roles
from retailake.local.glue.history import FAILED, SUCCEEDED, NodeError
from retailake.local.glue.spark import SparkRuntime

SHIM_DIR = Path(__file__).resolve().parent / "shim"
_CLEARED_VARIABLES = ("AWS_PROFILE", "AWS_SECURITY_TOKEN")
_MESSAGE_LINES = 4
_MESSAGE_CHARS = 800
_ACCESS_DENIED = re.compile(r"AccessDenied|403 Forbidden")  # S3A's words for S3's refusal


@dataclass
class JobRunResult:
    run_id: str
    state: str
    started: dt.datetime
    ended: dt.datetime
    duration_seconds: float
    arguments: dict[str, str]
    error: NodeError | None = None


def new_run_id() -> str:
    """An id shaped like Glue's (`jr_` and 64 hex digits)."""
    return "jr_" + secrets.token_hex(32)


def job_arguments(definition: Mapping[str, Any], overrides: Mapping[str, str]) -> dict[str, str]:
    """DefaultArguments, then the trigger's and the run's overrides, then NonOverridable ones."""
    merged = dict(definition.get("DefaultArguments") or {})
    merged.update(overrides)
    merged.update(definition.get("NonOverridableArguments") or {})
    return merged


def job_argv(script: str, job_name: str, run_id: str, arguments: Mapping[str, str]) -> list[str]:
    """sys.argv as Glue builds it: the script, JOB_NAME, JOB_RUN_ID, then each argument."""
    argv = [script, "--JOB_NAME", job_name, "--JOB_RUN_ID", run_id]
    for key, value in arguments.items():
        if key in ("--JOB_NAME", "--JOB_RUN_ID"):
            continue
        argv += [key if key.startswith("--") else f"--{key}", str(value)]
    return argv


def _download(s3: Any, location: str, folder: Path) -> Path:
    if not location.startswith(("s3://", "s3a://")):
        return Path(location)  # a local path: for tests and experiments
    bucket, key = location.split("://", 1)[1].split("/", 1)
    target = folder / key.rsplit("/", 1)[-1]
    s3.download_file(bucket, key, str(target))
    return target


def _summary(error: BaseException) -> str:
    """The first meaningful lines of an exception's text (Java stack frames dropped)."""
    lines = [
        line.strip() for line in str(error).splitlines()
        if line.strip() and not line.lstrip().startswith("at ") and "JVM stacktrace" not in line
    ]
    return " | ".join(lines[:_MESSAGE_LINES])[:_MESSAGE_CHARS] or type(error).__name__


def _frame_text(frame: traceback.FrameSummary, workdir: Path) -> str:
    name = frame.filename
    with contextlib.suppress(ValueError):
        name = str(Path(frame.filename).relative_to(workdir))
    return f"{name}:{frame.lineno} in {frame.name}"


def describe_failure(error: BaseException, script: Path, workdir: Path) -> NodeError:
    """Type, message, the script's innermost frame, and the job code's innermost frame."""
    frames = traceback.extract_tb(error.__traceback__)
    in_script = [f for f in frames if Path(f.filename) == script]
    own = [f for f in frames if f.filename.startswith(str(workdir))]
    where = _frame_text(in_script[-1], workdir) if in_script else None
    origin = _frame_text(own[-1], workdir) if own else None
    return NodeError(
        type=type(error).__name__,
        message=_summary(error),
        where=where,
        origin=origin if origin != where else None,
        traceback="".join(traceback.format_exception(error))[-8000:],
    )


@contextlib.contextmanager
def _patched_process(argv: list[str], paths: list[str], variables: Mapping[str, str],
                     log: IO[str], workdir: Path) -> Iterator[None]:
    """argv, sys.path, AWS_* variables, stdout and logging set for one run, then restored."""
    import boto3

    saved_argv, saved_path = sys.argv, list(sys.path)
    saved_env = {k: os.environ.get(k) for k in [*variables, *_CLEARED_VARIABLES]}
    root = logging.getLogger()
    saved_level, saved_handlers = root.level, list(root.handlers)
    handler = logging.StreamHandler(log)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    modules_before = set(sys.modules)
    sys.argv = argv
    sys.path[:0] = paths
    for key in _CLEARED_VARIABLES:
        os.environ.pop(key, None)
    os.environ.update(variables)
    boto3.DEFAULT_SESSION = None
    for existing in saved_handlers:  # the job's logging goes to its log file only
        root.removeHandler(existing)
    root.addHandler(handler)  # present first, so a script's basicConfig() adds no terminal one
    root.setLevel(logging.INFO)
    logging.captureWarnings(True)
    try:
        with contextlib.redirect_stdout(log):
            yield
    finally:
        logging.captureWarnings(False)
        for current in list(root.handlers):
            root.removeHandler(current)
        for existing in saved_handlers:
            root.addHandler(existing)
        root.setLevel(saved_level)
        boto3.DEFAULT_SESSION = None
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        sys.argv, sys.path[:] = saved_argv, saved_path
        for path in paths:
            sys.path_importer_cache.pop(path, None)
        for name in set(sys.modules) - modules_before:
            module_file = getattr(sys.modules[name], "__file__", None) or ""
            if name.split(".")[0] == "awsglue" or module_file.startswith(str(workdir)):
                del sys.modules[name]


def run_job(glue: Any, sts: Any, runtime: SparkRuntime, job_name: str, *, run_id: str,
            overrides: Mapping[str, str], log_file: Path) -> JobRunResult:
    """Run the registered job once, as its role (which fetches the script, too); a failing
    script gives a FAILED result, never an exception (KeyboardInterrupt aside). Emulator
    errors while fetching the definition or assuming the role do raise."""
    definition = glue.get_job(JobName=job_name)["Job"]
    role = roles.assume(sts, definition["Role"], roles.JOB_SESSION)
    s3 = role.client("s3", runtime.endpoint_url, runtime.region)
    arguments = job_arguments(definition, overrides)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    started, began = dt.datetime.now(dt.UTC), time.monotonic()
    spark = runtime.session()  # started before the script, so getOrCreate() finds it
    workdir = runtime.job_folder()
    error: NodeError | None = None
    try:
        script = _download(s3, definition["Command"]["ScriptLocation"], workdir).resolve()
        extra = [
            _download(s3, location.strip(), workdir)
            for location in arguments.get("--extra-py-files", "").split(",") if location.strip()
        ]
        for path in extra:
            if path.suffix in (".zip", ".egg", ".py"):
                runtime.add_py_file(_stable_copy(path, runtime))
        paths = [str(SHIM_DIR), *(str(p if p.suffix != ".py" else p.parent) for p in extra),
                 str(script.parent)]
        variables = _aws_variables(runtime, role)
        argv = job_argv(str(script), job_name, run_id, arguments)
        with open(log_file, "a", encoding="utf-8") as log:
            log.write(f"=== {job_name} {run_id} {started.isoformat()}\n{argv}\n")
            log.flush()
            try:
                with runtime.acting_as(role), _patched_process(argv, paths, variables, log,
                                                                workdir):
                    spark.sparkContext.setJobGroup(run_id, job_name)
                    runpy.run_path(str(script), run_name="__main__")
            except SystemExit as stop:
                if stop.code not in (None, 0):
                    error = NodeError("SystemExit", f"the script exited with code {stop.code}")
            except Exception as failure:
                error = describe_failure(failure, script, workdir)
                if _ACCESS_DENIED.search(error.message):
                    error.message += (f" [the job ran as {role.role_arn}: the emulator's log, "
                                      "shown by `retailake local status`, names each request "
                                      "the role's policies refused]")
            if error is not None:
                log.write(error.traceback or f"{error.type}: {error.message}\n")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    ended = dt.datetime.now(dt.UTC)
    return JobRunResult(run_id, FAILED if error else SUCCEEDED, started, ended,
                        time.monotonic() - began, arguments, error)


def _aws_variables(runtime: SparkRuntime, role: roles.RoleSession) -> dict[str, str]:
    """What the script's boto3 calls see: the emulator, the region, the role's session."""
    return {
        "AWS_ENDPOINT_URL": runtime.endpoint_url,
        **role.environment(),
        "AWS_DEFAULT_REGION": runtime.region,
        "AWS_REGION": runtime.region,
    }


def _stable_copy(path: Path, runtime: SparkRuntime) -> Path:
    """A copy that outlives the job's temp dir (Spark workers load py files lazily), named by
    content for archives, since addPyFile refuses a second file of the same name."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    folder = runtime.log_file.parent / "py-files"
    folder.mkdir(parents=True, exist_ok=True)
    name = path.name if path.suffix == ".py" else f"{path.stem}-{digest}{path.suffix}"
    target = folder / name
    if not target.exists():
        shutil.copy2(path, target)
    return target

