"""Deployment: what the last deploy saved (environment, region, outputs), and with
--check-drift what `terraform plan` would change now. Without it Terraform is not run at all:
the saved outputs cost nothing to read."""

from __future__ import annotations

from retailake.config import Environment
from retailake.errors import ConfigError
from retailake.outputs import Outputs, load_outputs
from retailake.status.model import DeploymentStatus, Drift


def read_deployment(env: Environment) -> tuple[DeploymentStatus, Outputs | None]:
    """The deployment as the last deploy left it; not deployed when it saved no outputs."""
    try:
        outputs = load_outputs(env)
        buckets = dict(outputs.buckets)
    except ConfigError as missing:
        return DeploymentStatus(env.name, env.region, False, env.endpoint_url,
                                message=str(missing)), None
    values = outputs.values
    return DeploymentStatus(
        environment=env.name,
        region=values.get("region", env.region),
        deployed=True,
        endpoint_url=env.endpoint_url,
        name_prefix=values.get("name_prefix"),
        account_id=values.get("account_id"),
        buckets=buckets,
        outputs=values,
    ), outputs


def check_drift(env: Environment) -> Drift:
    """A full `terraform plan` (refresh included): every resource it would change."""
    from retailake import deploy

    with deploy.blaming_a_stopped_emulator(env):
        summary = deploy.plan(env)
    return Drift(drifted=summary.has_changes, changes=summary.as_dict()["changes"])
