"""A stand-in `terraform` for unit tests: records each call and answers from a scenario file.

Unit tests only; the integration tests drive the real binary."""

import json
import os
import sys
import time
from pathlib import Path

scenario = json.loads(Path(os.environ["FAKE_TF_SCENARIO"]).read_text())
command = sys.argv[1]
with open(os.environ["FAKE_TF_LOG"], "a") as log:
    log.write(
        json.dumps(
            {
                "argv": sys.argv[1:],
                "cwd": os.getcwd(),
                "tf_data_dir": os.environ.get("TF_DATA_DIR"),
                "cli_config": os.environ.get("TF_CLI_CONFIG_FILE"),
            }
        )
        + "\n"
    )

def commands_so_far() -> list[str]:
    lines = Path(os.environ["FAKE_TF_LOG"]).read_text().splitlines()
    return [json.loads(line)["argv"][0] for line in lines]


answer = scenario.get(command, {})
if answer.get("await"):
    # Stay running until another command has started (a test that two run at once).
    deadline = time.monotonic() + 10
    while answer["await"] not in commands_so_far():
        if time.monotonic() > deadline:
            sys.exit(f"fake terraform {command}: no '{answer['await']}' ran beside it")
        time.sleep(0.02)
if answer.get("until_interrupted"):  # an apply that runs until it is sent SIGINT
    import signal

    interrupts: list[float] = []
    signal.signal(signal.SIGINT, lambda *_: interrupts.append(time.monotonic()))
    print("Applying...", flush=True)
    deadline = time.monotonic() + 10
    while not interrupts and time.monotonic() < deadline:
        time.sleep(0.02)
    Path(answer["until_interrupted"]).write_text(f"{len(interrupts)} SIGINT")
    print("Interrupt received. Gracefully shutting down...", flush=True)
    sys.exit(1)
if answer.get("touch"):  # as another process writing the state meanwhile would
    Path(answer["touch"]).write_text(f"written by {command}")
for arg in sys.argv[2:]:
    if arg.startswith("-out="):
        Path(arg[len("-out=") :]).write_text("fake plan")
stdout = answer.get("stdout", "")
if isinstance(stdout, list):  # one answer per call, the last one repeated
    stdout = stdout[min(commands_so_far().count(command), len(stdout)) - 1]
sys.stdout.write(stdout)
sys.stderr.write(answer.get("stderr", ""))
sys.exit(answer.get("exit", 0))
