"""A stand-in `terraform` for unit tests: records each call and answers from a scenario file.

Unit tests only; the integration tests drive the real binary."""

import json
import os
import sys
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
for arg in sys.argv[2:]:
    if arg.startswith("-out="):
        Path(arg[len("-out=") :]).write_text("fake plan")
sys.stdout.write(answer.get("stdout", ""))
sys.stderr.write(answer.get("stderr", ""))
sys.exit(answer.get("exit", 0))
