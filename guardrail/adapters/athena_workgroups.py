"""Adapter over Athena workgroups: read a workgroup's state, disable it, put its state back."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from guardrail.adapters.aws_errors import error_code, translated
from guardrail.adapters.clients import AwsAdapter, adaptive_retries
from guardrail.adapters.permissions import Grant, Resource
from guardrail.domain import Target, WorkgroupState

if TYPE_CHECKING:
    from mypy_boto3_athena.client import AthenaClient  # noqa: F401 - the adapter's type parameter


def _missing(exc: ClientError) -> bool:
    # Athena answers an unknown workgroup with InvalidRequestException "WorkGroup <name> is not found"
    message = str(exc.response.get("Error", {}).get("Message", "")).lower()
    return error_code(exc) == "InvalidRequestException" and "not found" in message


class AthenaWorkgroups(AwsAdapter["AthenaClient"]):
    """Reads and sets Athena workgroups' state (a DISABLED workgroup starts no new query).

    Raises TargetNotFound for a workgroup that does not exist, AwsCallFailed for any other AWS error.
    """

    SERVICE = "athena"
    RETRIES = adaptive_retries(5)
    PERMISSIONS = (
        Grant(Resource.WORKGROUP, ("athena:GetWorkGroup",)),
        Grant(Resource.WORKGROUP, ("athena:UpdateWorkGroup",), enforces=True),
    )

    def state(self, name: str) -> WorkgroupState:
        """The workgroup's state now."""
        with translated("GetWorkGroup", target=Target.workgroup(name), missing=_missing):
            workgroup = self._client.get_work_group(WorkGroup=name)["WorkGroup"]
        return WorkgroupState(workgroup.get("State", WorkgroupState.ENABLED))

    def view(self, name: str) -> tuple[WorkgroupState, str]:
        """The workgroup's state now, and a fingerprint of its configuration (one GetWorkGroup)."""
        with translated("GetWorkGroup", target=Target.workgroup(name), missing=_missing):
            workgroup = self._client.get_work_group(WorkGroup=name)["WorkGroup"]
        configuration = json.dumps(workgroup.get("Configuration", {}), sort_keys=True, default=str)
        fingerprint = hashlib.sha256(configuration.encode()).hexdigest()[:16]
        return WorkgroupState(workgroup.get("State", WorkgroupState.ENABLED)), fingerprint

    def set_state(self, name: str, state: WorkgroupState) -> None:
        """Enable or disable the workgroup (queries already running carry on)."""
        with translated("UpdateWorkGroup", target=Target.workgroup(name), missing=_missing):
            self._client.update_work_group(WorkGroup=name, State=state.value)
