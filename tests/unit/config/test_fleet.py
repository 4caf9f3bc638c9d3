"""cdk.json's `regions` and `organization`: what a deployment watches, validated at synthesis."""

import re

import pytest

from guardrail.config import GuardrailConfig, Settings
from guardrail.errors import ConfigError

ORG = {"enabled": True, "organizationId": "o-abcdefghij", "organizationalUnitIds": ["ou-ab12-cdefgh34"]}


def test_by_default_only_the_home_region_and_account_are_watched():
    config = GuardrailConfig.from_context({})
    settings = Settings(
        config=config, ledger_table="t", alert_topic_arn="a", account="111111111111", region="ap-northeast-1"
    )
    assert config.watched_regions("ap-northeast-1") == ("ap-northeast-1",)
    assert settings.home.watched_regions == {"ap-northeast-1"}
    assert settings.home.admits(account="111111111111", region="ap-northeast-1")
    assert not settings.home.admits(region="us-west-2")
    assert not settings.home.admits(account="222222222222")


def test_watched_regions_put_home_first_each_once():
    config = GuardrailConfig.from_context({"regions": ["us-west-2", "ap-northeast-1", "us-west-2"]})
    assert config.watched_regions("ap-northeast-1") == ("ap-northeast-1", "us-west-2")


def test_organization_mode_admits_other_accounts_of_watched_regions_only():
    config = GuardrailConfig.from_context({"regions": ["us-west-2"], "organization": ORG})
    home = Settings(
        config=config, ledger_table="t", alert_topic_arn="a", account="111111111111", region="ap-northeast-1"
    ).home
    assert home.admits(account="222222222222", region="us-west-2")
    assert not home.admits(account="222222222222", region="eu-west-1")
    assert str(home) == "its organization's accounts, regions ap-northeast-1, us-west-2"
    assert config.member_role_name == "runaway-guardrail-enforcement"
    assert config.role_path == "/runaway-guardrail/"


def test_per_account_overrides_and_their_defaults():
    org = {**ORG, "accounts": {"222222222222": {"notifyOnly": True, "exemptFunctions": ["ledger-sync"]}}}
    organization = GuardrailConfig.from_context({"organization": org}).organization
    assert organization.member("222222222222").notify_only is True
    assert organization.member("222222222222").exempt_functions == ("ledger-sync",)
    assert organization.member("333333333333").notify_only is False


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"regions": ["Oregon"]}, "guardrail.regions[0]: 'Oregon' is not an AWS region name"),
        ({"organization": {"enabled": True}}, "guardrail.organization: enabled needs organizationId"),
        (
            {"organization": {**ORG, "organizationId": "123"}},
            "guardrail.organization.organizationId: '123' is not an organization id",
        ),
        (
            {"organization": {**ORG, "accounts": {"12": {}}}},
            "guardrail.organization.accounts.12.[key]: '12' is not a 12-digit AWS account id",
        ),
        (
            {"organization": {**ORG, "accounts": {"222222222222": {"paused": 1}}}},
            "guardrail.organization.accounts.222222222222: unknown keys paused",
        ),
        (
            {"exemptFunctions": ["arn:aws:lambda:us-west-2:2222:function:reports"]},
            "guardrail.exemptFunctions[0]: 'arn:aws:lambda:us-west-2:2222:function:reports' is not a Lambda"
            " function name (the home account's) or an unqualified function ARN (any other account's)",
        ),
        (
            {"exemptFunctions": ["arn:aws:lambda:us-west-2:222222222222:function:reports:prod"]},
            "guardrail.exemptFunctions[0]: ",
        ),
        (  # a member's own section names its own functions: by name
            {
                "organization": {
                    **ORG,
                    "accounts": {
                        "222222222222": {"exemptFunctions": ["arn:aws:lambda:us-west-2:1:function:x"]}
                    },
                }
            },
            "guardrail.organization.accounts.222222222222.exemptFunctions[0]: ",
        ),
    ],
)
def test_bad_fleet_configuration_is_named(context, message):
    with pytest.raises(ConfigError, match=f"^{re.escape(message)}"):
        GuardrailConfig.from_context(context)


def test_the_stackset_is_created_as_the_management_account_unless_told_otherwise():
    assert GuardrailConfig.from_context({"organization": ORG}).organization.call_as == "SELF"
    delegated = GuardrailConfig.from_context({"organization": {**ORG, "callAs": "DELEGATED_ADMIN"}})
    assert delegated.organization.call_as == "DELEGATED_ADMIN"
    with pytest.raises(ConfigError, match=r"^guardrail\.organization\.callAs: "):
        GuardrailConfig.from_context({"organization": {**ORG, "callAs": "ADMIN"}})


def test_exemptions_name_a_place_bare_names_the_home_accounts_arns_one_function():
    arn = "arn:aws:lambda:us-west-2:222222222222:function:reports"
    config = GuardrailConfig.from_context({"exemptFunctions": ["ledger-sync", arn]})
    assert config.exempt_functions == ("ledger-sync", arn)
