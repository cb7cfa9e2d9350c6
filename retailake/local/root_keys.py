"""The twin's root credentials: made at random for each home, kept beside the emulator's
state (owner-only file, owner-only folder). The emulator answers requests signed with them
(the CLI, Terraform, the Glue runner) or with a session its own STS gave out, and refuses
every other caller: on a shared machine, another user could otherwise read the lake and the
PII key through the loopback port with made-up keys."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass, field
from pathlib import Path

from retailake.errors import EmulatorError
from retailake.jsonfile import create_json_once, read_json_object

FILE_NAME = "root-keys.json"
_KEY_ALPHABET = string.ascii_uppercase + string.digits


@dataclass(frozen=True)
class RootKeys:
    access_key: str
    secret_key: str = field(repr=False)  # never in a log line or a traceback's locals

    def as_environment(self) -> dict[str, str]:
        """For a process that reads the AWS SDK's variables (Terraform's provider)."""
        return {"AWS_ACCESS_KEY_ID": self.access_key, "AWS_SECRET_ACCESS_KEY": self.secret_key}


def root_keys(state_dir: Path) -> RootKeys:
    """The keys of the twin whose emulator keeps its state in `state_dir`, made on first use
    (an access key shaped as AWS's long-term ones, never an STS session's `ASIA`)."""
    path = state_dir / FILE_NAME
    if not path.is_file():
        access = "AKIA" + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(16))
        create_json_once(path, {"access_key": access, "secret_key": secrets.token_hex(20)})
    try:
        found = read_json_object(path)
        return RootKeys(str(found["access_key"]), str(found["secret_key"]))
    except (ValueError, KeyError) as error:
        raise EmulatorError(f"the twin's root keys in {path} are damaged ({error}): stop its "
                            "emulator (`retailake local down`) and remove the file; the twin "
                            "makes new ones") from None
