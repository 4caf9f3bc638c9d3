"""Chat channels that receive the alerts through AWS Chatbot (Amazon Q Developer in chat applications).

cdk.json's `slack` and `microsoftTeams` lists; each channel becomes a Chatbot channel configuration
subscribed to the alert topic. The chat role and its guardrail policy are read-only unless
`allowKillSwitch` is true, which lets the channel invoke the kill switch (and nothing else).
"""

from __future__ import annotations

from typing import Annotated, Literal

from guardrail.config.base import Bool, Str, StrictModel, matching

ChannelName = Annotated[
    Str,
    matching(r"[A-Za-z0-9_-]{1,64}", "1-64 letters, digits, dashes and underscores (a configuration name)"),
]
Uuid = Annotated[
    Str,
    matching(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}", "a UUID"),
]


class _Channel(StrictModel):
    """What every chat channel has: its configuration name, whether it may act, how much Chatbot logs."""

    #: The Chatbot configuration is named `<namePrefix>-<name>`.
    name: ChannelName
    #: False (the default): read-only. True: the channel may also invoke the kill switch.
    allow_kill_switch: Bool = False
    logging_level: Literal["ERROR", "INFO", "NONE"] = "ERROR"


class SlackChannel(_Channel):
    """A Slack channel, in a workspace already authorized in the Chatbot console."""

    workspace_id: Annotated[Str, matching(r"[0-9A-Z]{1,255}", "a Slack workspace ID (e.g. T012ABCDEFG)")]
    channel_id: Annotated[Str, matching(r"[A-Za-z0-9]{1,255}", "a Slack channel ID (e.g. C012ABCDEFG)")]


class TeamsChannel(_Channel):
    """A Microsoft Teams channel, in a team already authorized in the Chatbot console."""

    team_id: Uuid
    tenant_id: Uuid
    channel_id: Annotated[
        Str,
        matching(
            r"[A-Za-z0-9_=+/.,-]*%3[aA][A-Za-z0-9_=+/.,-]*%40[A-Za-z0-9_=+/.,-]*",
            "a Teams channel ID as the channel link shows it (URL-encoded, e.g. 19%3a...%40thread.tacv2)",
        ),
    ]
