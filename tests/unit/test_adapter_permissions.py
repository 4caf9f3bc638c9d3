"""The adapters' IAM declarations: grants merged by kind of resource, the enforcing ones apart."""

from __future__ import annotations

from guardrail.adapters.athena_workgroups import AthenaWorkgroups
from guardrail.adapters.event_sources import EventSources
from guardrail.adapters.lambda_functions import LambdaControl
from guardrail.adapters.permissions import Grant, Resource, actions_of, enforcing, merged


def test_merged_groups_actions_by_resource_each_once_in_the_order_declared():
    first = (
        Grant(Resource.FUNCTION, ("lambda:GetFunction",)),
        Grant(Resource.ANY, ("lambda:ListFunctions",)),
    )
    second = (
        Grant(Resource.FUNCTION, ("lambda:PutFunctionConcurrency", "lambda:GetFunction"), enforces=True),
        Grant(Resource.WORKGROUP, ("athena:GetWorkGroup",)),
    )
    assert merged(first, second) == {
        Resource.FUNCTION: ("lambda:GetFunction", "lambda:PutFunctionConcurrency"),
        Resource.ANY: ("lambda:ListFunctions",),
        Resource.WORKGROUP: ("athena:GetWorkGroup",),
    }
    assert list(merged(second, first)) == [Resource.FUNCTION, Resource.WORKGROUP, Resource.ANY]
    assert enforcing(first, second) == {
        Resource.FUNCTION: ("lambda:PutFunctionConcurrency", "lambda:GetFunction")
    }
    assert actions_of(first, second) == {
        "lambda:GetFunction",
        "lambda:ListFunctions",
        "lambda:PutFunctionConcurrency",
        "athena:GetWorkGroup",
    }


def test_what_stops_and_puts_back_a_target_is_declared_enforcing_and_nothing_else_is():
    assert enforcing(LambdaControl.PERMISSIONS, EventSources.PERMISSIONS, AthenaWorkgroups.PERMISSIONS) == {
        Resource.FUNCTION: ("lambda:PutFunctionConcurrency", "lambda:DeleteFunctionConcurrency"),
        Resource.EVENT_SOURCE_MAPPING: ("lambda:UpdateEventSourceMapping",),
        Resource.WORKGROUP: ("athena:UpdateWorkGroup",),
    }


def test_actions_without_resource_level_permissions_are_the_only_ones_on_any_resource():
    on_any = merged(LambdaControl.PERMISSIONS, EventSources.PERMISSIONS)[Resource.ANY]
    assert on_any == ("lambda:ListFunctions", "lambda:ListEventSourceMappings")
