"""Glue: a workflow's tags are registered against its ARN, as for jobs and crawlers.

moto 5.2.1 keeps CreateWorkflow's Tags on the workflow object but never registers them with
its tagging service, so GetTags(workflow ARN) answers {} and every Terraform plan after the
first apply wants to add the `aws_glue_workflow` tags again."""

from __future__ import annotations

from moto.glue.models import GlueBackend
from moto.utilities.utils import get_partition

_create_workflow = GlueBackend.create_workflow
_delete_workflow = GlueBackend.delete_workflow


def workflow_arn(backend: GlueBackend, name: str) -> str:
    partition = get_partition(backend.region_name)
    return f"arn:{partition}:glue:{backend.region_name}:{backend.account_id}:workflow/{name}"


def create_workflow(self: GlueBackend, name: str, *args: object, **kwargs: object) -> str:
    created = _create_workflow(self, name, *args, **kwargs)
    tags = self.workflows[name].tags
    if tags:
        self.tag_resource(workflow_arn(self, name), tags)
    return created


def delete_workflow(self: GlueBackend, name: str) -> str:
    self.tagger.delete_all_tags_for_resource(workflow_arn(self, name))
    return _delete_workflow(self, name)


def apply() -> None:
    GlueBackend.create_workflow = create_workflow
    GlueBackend.delete_workflow = delete_workflow
