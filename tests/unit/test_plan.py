"""summarize_plan: the plan summary an operator approves."""

from retailake.plan import summarize_plan


def _change(address: str, type_: str, actions: list[str], mode: str = "managed") -> dict:
    return {"address": address, "type": type_, "mode": mode, "change": {"actions": actions}}


PLAN = {
    "resource_changes": [
        _change("module.lake.module.s3.aws_s3_bucket.raw", "aws_s3_bucket", ["delete", "create"]),
        _change("module.lake.aws_iam_role.glue", "aws_iam_role", ["update"]),
        _change("module.lake.aws_sns_topic.this", "aws_sns_topic", ["create"]),
        _change("module.lake.aws_glue_job.sales", "aws_glue_job", ["delete"]),
        _change("module.lake.aws_glue_catalog_table.t", "aws_glue_catalog_table", ["delete"]),
        _change("module.lake.aws_kms_key.this", "aws_kms_key", ["no-op"]),
        _change("data.aws_caller_identity.this", "aws_caller_identity", ["read"], mode="data"),
    ]
}


def test_summary_orders_destructive_first_and_skips_noops_and_data_sources():
    summary = summarize_plan(PLAN)
    assert [(c.action, c.address) for c in summary.changes] == [
        ("delete", "module.lake.aws_glue_catalog_table.t"),
        ("delete", "module.lake.aws_glue_job.sales"),
        ("replace", "module.lake.module.s3.aws_s3_bucket.raw"),
        ("update", "module.lake.aws_iam_role.glue"),
        ("create", "module.lake.aws_sns_topic.this"),
    ]
    assert (summary.count("create"), summary.count("update")) == (1, 1)
    assert (summary.count("replace"), summary.count("delete")) == (1, 2)


def test_data_loss_names_only_destroyed_data_bearing_resources():
    summary = summarize_plan(PLAN)
    assert [c.address for c in summary.data_loss] == [
        "module.lake.aws_glue_catalog_table.t",
        "module.lake.module.s3.aws_s3_bucket.raw",
    ]
    assert summary.as_dict()["data_loss"] == [c.address for c in summary.data_loss]


def test_create_before_destroy_replacement_counts_as_replace():
    summary = summarize_plan(
        {"resource_changes": [_change("aws_s3_bucket.x", "aws_s3_bucket", ["create", "delete"])]}
    )
    assert summary.count("replace") == 1
    assert summary.has_changes


def test_no_changes():
    assert not summarize_plan({"resource_changes": []}).has_changes
    assert not summarize_plan({}).has_changes
    unchanged = {"resource_changes": [], "output_changes": {"a": {"actions": ["no-op"]}}}
    assert not summarize_plan(unchanged).has_changes


def test_a_plan_that_only_changes_outputs_has_changes():
    # A release that adds an output: nothing to create, but the apply must run, or the
    # outputs every other command reads never gain it.
    summary = summarize_plan({
        "resource_changes": [],
        "output_changes": {"new_one": {"actions": ["create"]}, "same": {"actions": ["no-op"]},
                           "gone": {"actions": ["delete"]}},
    })  # fmt: skip
    assert summary.has_changes and summary.changes == ()
    assert summary.as_dict()["outputs"] == ["gone", "new_one"]


def test_moves_imports_and_forgets_are_changes_to_apply():
    """What `moved`, `import` and `removed` blocks plan (Terraform 1.11's JSON): no-op beside
    a previous address or an import, and "forget". Unapplied, the state keeps the old address."""
    moved = _change("aws_sns_topic.alerts", "aws_sns_topic", ["no-op"])
    moved["previous_address"] = "aws_sns_topic.this"
    imported = _change("aws_s3_bucket.raw", "aws_s3_bucket", ["no-op"])
    imported["change"]["importing"] = {"id": "lake-raw"}
    forgotten = _change("aws_glue_job.old", "aws_glue_job", ["forget"])
    summary = summarize_plan({"resource_changes": [moved, imported, forgotten]})
    assert [(c.action, c.address) for c in summary.changes] == [
        ("forget", "aws_glue_job.old"), ("move", "aws_sns_topic.alerts"),
        ("import", "aws_s3_bucket.raw")]
    assert summary.terraform_changes and not summary.data_loss
    assert summary.as_dict()["move"] == summary.as_dict()["import"] == 1


def test_deleting_lake_formations_settings_is_data_loss_as_it_leaves_the_account_no_admin():
    settings = "module.lake.module.lakeformation_settings.aws_lakeformation_data_lake_settings.this"
    summary = summarize_plan({"resource_changes": [
        _change(settings, "aws_lakeformation_data_lake_settings", ["delete"]),
        _change("module.lake.aws_iam_role.lake_admin", "aws_iam_role", ["delete"]),
    ]})  # fmt: skip
    assert [c.address for c in summary.data_loss] == [settings]
