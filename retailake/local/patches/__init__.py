"""Launcher-local fixes to moto 5.2.1 so Terraform's AWS provider can apply, re-plan and destroy.

Each module extends moto's response or model classes at run time (nothing in site-packages is
edited) and says in its docstring which provider behaviour it unblocks.

Not patchable here: the ~55 s each `aws_s3_bucket_lifecycle_configuration` takes is the
provider's own fixed waiter (10 s delay, then 10 consecutive equal reads 5 s apart); moto's
answers already compare equal on the first read, so nothing the emulator answers shortens it.
"""

from __future__ import annotations

import importlib

MODULES = ("iam", "sts", "redshift", "lakeformation", "cloudtrail", "glue", "s3", "ec2", "dispatch")
_applied = False


def apply_all() -> None:
    """Apply every patch once per process."""
    global _applied
    if _applied:
        return
    for name in MODULES:
        importlib.import_module(f"{__name__}.{name}").apply()
    _applied = True
