"""Glue: workflow tags readable by ARN, UpdateJob, UpdateCrawler and UpdateTrigger.

moto 5.2.1 keeps CreateWorkflow's Tags on the workflow object but never registers them with
its tagging service, so GetTags(workflow ARN) answers {} and every Terraform plan after the
first apply wants to add the `aws_glue_workflow` tags again.

UpdateJob is not implemented (HTTP 500), so any change to a job definition (its script,
arguments or workers) failed to apply on the twin. As in AWS, the update replaces the whole
definition: a field left out of JobUpdate goes back to its default.

UpdateCrawler and UpdateTrigger are not implemented either, so changing a crawler (its
role, targets, exclusions) or a trigger (the workflow's schedule, a condition) failed to
apply, halfway through a deploy. Unlike UpdateJob, they change only the fields named."""

from __future__ import annotations

from typing import Any

from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.glue.models import GlueBackend
from moto.glue.responses import GlueResponse
from moto.glue.utils import Action, Predicate
from moto.utilities.utils import get_partition

# JobUpdate field -> FakeJob attribute, and the attribute's value when the field is absent.
JOB_FIELDS: dict[str, tuple[str, Any]] = {
    "Description": ("description", None),
    "LogUri": ("log_uri", None),
    "Role": ("role", None),
    "ExecutionProperty": ("execution_property", {}),
    "Command": ("command", None),
    "DefaultArguments": ("default_arguments", {}),
    "NonOverridableArguments": ("non_overridable_arguments", None),
    "Connections": ("connections", None),
    "MaxRetries": ("max_retries", None),
    "AllocatedCapacity": ("allocated_capacity", None),
    "Timeout": ("timeout", None),
    "MaxCapacity": ("max_capacity", None),
    "SecurityConfiguration": ("security_configuration", None),
    "NotificationProperty": ("notification_property", None),
    "GlueVersion": ("glue_version", None),
    "NumberOfWorkers": ("number_of_workers", None),
    "WorkerType": ("worker_type", None),
    "CodeGenConfigurationNodes": ("code_gen_configuration_nodes", None),
    "ExecutionClass": ("execution_class", "STANDARD"),
    "SourceControlDetails": ("source_control_details", None),
}

# UpdateCrawler field -> FakeCrawler attribute
CRAWLER_FIELDS = {
    "Role": "role", "DatabaseName": "database_name", "Description": "description",
    "Targets": "targets", "Schedule": "schedule", "Classifiers": "classifiers",
    "TablePrefix": "table_prefix", "SchemaChangePolicy": "schema_change_policy",
    "RecrawlPolicy": "recrawl_policy", "LineageConfiguration": "lineage_configuration",
    "Configuration": "configuration",
    "CrawlerSecurityConfiguration": "crawler_security_configuration",
}  # fmt: skip

_create_workflow = GlueBackend.create_workflow
_delete_workflow = GlueBackend.delete_workflow


def workflow_arn(backend: GlueBackend, name: str) -> str:
    partition = get_partition(backend.region_name)
    return f"arn:{partition}:glue:{backend.region_name}:{backend.account_id}:workflow/{name}"


def create_workflow(self: GlueBackend, name: str, *args: Any, **kwargs: Any) -> str:
    created = _create_workflow(self, name, *args, **kwargs)
    tags = self.workflows[name].tags
    if tags:
        self.tag_resource(workflow_arn(self, name), tags)
    return created


def delete_workflow(self: GlueBackend, name: str) -> str:
    self.tagger.delete_all_tags_for_resource(workflow_arn(self, name))
    return _delete_workflow(self, name)


def update_job(self: GlueResponse) -> ActionResult:
    name = self._get_param("JobName")
    update = self._get_param("JobUpdate") or {}
    job = self.glue_backend.get_job(name)
    for field, (attribute, default) in JOB_FIELDS.items():
        setattr(job, attribute, update.get(field, default))
    job.last_modified_on = utcnow()
    return ActionResult({"JobName": name})


def update_crawler(self: GlueResponse) -> ActionResult:
    crawler = self.glue_backend.get_crawler(self._get_param("Name"))
    for field, attribute in CRAWLER_FIELDS.items():
        if field in self.parameters:
            setattr(crawler, attribute, self.parameters[field])
    crawler.last_updated = utcnow()
    crawler.version += 1
    return ActionResult({})


def update_trigger(self: GlueResponse) -> ActionResult:
    trigger = self.glue_backend.get_trigger(self._get_param("Name"))
    update = self._get_param("TriggerUpdate") or {}
    if "Actions" in update:
        trigger.actions = [Action(action) for action in update["Actions"]]
    if "Predicate" in update:
        trigger.predicate = Predicate(update["Predicate"]) if update["Predicate"] else None
    for field, attribute in (("Schedule", "schedule"), ("Description", "description"),
                             ("EventBatchingCondition", "event_batching_condition")):
        if field in update:
            setattr(trigger, attribute, update[field])
    return ActionResult({"Trigger": trigger.as_dict()})


def apply() -> None:
    GlueBackend.create_workflow = create_workflow
    GlueBackend.delete_workflow = delete_workflow
    GlueResponse.update_job = update_job
    GlueResponse.update_crawler = update_crawler
    GlueResponse.update_trigger = update_trigger
