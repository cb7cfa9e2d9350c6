"""dev and prod cannot be applied here (no AWS account), so they are planned against the
emulator: the environment's own root, variables and tfvars, with only its provider and
backend swapped for the local twin's. A plan evaluates every prod-only branch (guards,
snapshots, schedule, sizes) that `terraform validate` never sees."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from retailake.config import Environment, bundled_path
from retailake.local import emulator
from retailake.terraform import cli_config_file, terraform_binary

pytestmark = pytest.mark.integration


def twin_copy(environment: str, target) -> None:
    """The environment's root in `target`, pointed at the emulator instead of AWS."""
    root = bundled_path("terraform")
    source = root / "environments" / environment
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(".terraform*", "backend.hcl*"))
    main = (target / "main.tf").read_text()
    (target / "main.tf").write_text(main.replace('source = "../.."', f'source = "{root}"'))
    versions = (target / "versions.tf").read_text()
    assert 'backend "s3" {}' in versions
    (target / "versions.tf").write_text(versions.replace('backend "s3" {}', 'backend "local" {}'))
    shutil.copy(root / "environments" / "local" / "providers.tf", target / "providers.tf")
    (target / "twin.tf").write_text('variable "endpoint_url" {\n  type = string\n}\n')


PROD_VARIABLES = ('-var=trusted_principal_arns=["arn:aws:iam::123456789012:role/sso-admin"]',)


def plan(environment: str, twin: Environment, tmp_path, *variables: str) -> dict:
    workdir = tmp_path / environment
    twin_copy(environment, workdir)
    environ = dict(os.environ, TF_DATA_DIR=str(tmp_path / "tfdata"), TF_IN_AUTOMATION="1",
                   **emulator.twin_keys(twin).as_environment())
    config = cli_config_file(tmp_path)
    if config:
        environ["TF_CLI_CONFIG_FILE"] = str(config)

    def terraform(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [terraform_binary(), *args], cwd=workdir, env=environ, capture_output=True, text=True
        )

    init = terraform("init", "-input=false", "-no-color")
    assert init.returncode == 0, init.stdout + init.stderr
    planned = terraform(
        "plan", "-input=false", "-no-color", "-out=plan", f"-var=endpoint_url={twin.endpoint_url}",
        *variables,
    )
    assert planned.returncode == 0, planned.stdout + planned.stderr
    shown = terraform("show", "-json", "plan")
    assert shown.returncode == 0, shown.stderr
    return json.loads(shown.stdout)


def planned_resources(plan_json: dict) -> dict[str, dict]:
    return {
        change["address"]: change["change"]["after"]
        for change in plan_json["resource_changes"]
        if change["change"]["actions"] == ["create"]
    }


@pytest.fixture(scope="module")
def twin(local_env) -> Environment:
    emulator.start(local_env)
    return local_env


def test_prod_plans_with_its_guards_and_sizes(twin, tmp_path):
    resources = planned_resources(plan("prod", twin, tmp_path, *PROD_VARIABLES))
    assert "module.retailake.module.s3.terraform_data.data_bucket_guard[0]" in resources
    clusters = [v for k, v in resources.items() if k.endswith("aws_redshift_cluster.this")]
    assert len(clusters) == 1
    cluster = clusters[0]
    assert cluster["skip_final_snapshot"] is False
    assert cluster["number_of_nodes"] == 2 and cluster["publicly_accessible"] is False
    assert cluster["manage_master_password"] is True and cluster.get("master_password") is None
    buckets = [v for k, v in resources.items() if ".aws_s3_bucket.this[" in k]
    assert buckets and all(bucket["force_destroy"] is False for bucket in buckets)
    assert not any(k.endswith("aws_vpc.this[0]") for k in resources)  # uses the existing VPC
    assert _pii_secret(resources)["recovery_window_in_days"] == 30  # a destroyed key can return


def test_dev_plans_without_prod_guards(twin, tmp_path):
    resources = planned_resources(plan("dev", twin, tmp_path))
    assert not any("guard" in address for address in resources)
    assert any(k.endswith("aws_redshift_cluster.this") for k in resources)
    # gone at once on destroy: a recovery window would refuse its name to the next deploy
    assert _pii_secret(resources)["recovery_window_in_days"] == 0


def _pii_secret(resources: dict[str, dict]) -> dict:
    (secret,) = [value for address, value in resources.items()
                 if address.endswith("aws_secretsmanager_secret.pii_hmac")]  # fmt: skip
    return secret


def test_prod_refuses_to_trust_the_whole_account(twin, tmp_path):
    """Without trusted_principal_arns the lake-admin role would trust the account root."""
    with pytest.raises(AssertionError, match="prod needs trusted_principal_arns"):
        plan("prod", twin, tmp_path)
