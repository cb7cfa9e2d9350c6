"""CloudTrail: every trail operation accepts the trail's ARN as well as its name.

Terraform's AWS provider 5.100 creates an `aws_cloudtrail`, then calls StartLogging (and on
update or destroy StopLogging / DeleteTrail) with the trail's ARN. moto looks those up in
a dict keyed by name: StartLogging by ARN answered HTTP 500 and DeleteTrail by ARN silently
left the trail behind.
"""

from __future__ import annotations

from moto.cloudtrail.models import CloudTrailBackend


def _name(self: CloudTrailBackend, name_or_arn: str) -> str:
    """The trail's name, for a name or an ARN (raises TrailNotFoundException)."""
    return self.get_trail(name_or_arn).trail_name


def start_logging(self: CloudTrailBackend, name: str) -> None:
    self.trails[_name(self, name)].start_logging()


def stop_logging(self: CloudTrailBackend, name: str) -> None:
    self.trails[_name(self, name)].stop_logging()


def delete_trail(self: CloudTrailBackend, name: str) -> None:
    del self.trails[_name(self, name)]


def apply() -> None:
    CloudTrailBackend.start_logging = start_logging
    CloudTrailBackend.stop_logging = stop_logging
    CloudTrailBackend.delete_trail = delete_trail
