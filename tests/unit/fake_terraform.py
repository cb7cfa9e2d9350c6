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
answer = scenario.get(command, {})
if answer.get("await"):
    # Stay running until another command has started (a test that two run at once).
    deadline = time.monotonic() + 10
    while not any(
        json.loads(line)["argv"][0] == answer["await"]
        for line in Path(os.environ["FAKE_TF_LOG"]).read_text().splitlines()
    ):
        if time.monotonic() > deadline:
            sys.exit(f"fake terraform {command}: no '{answer['await']}' ran beside it")
        time.sleep(0.02)
for arg in sys.argv[2:]:
    if arg.startswith("-out="):
        Path(arg[len("-out=") :]).write_text("fake plan")
sys.stdout.write(answer.get("stdout", ""))
sys.stderr.write(answer.get("stderr", ""))
sys.exit(answer.get("exit", 0))
