"""The scan's watch list in the guardrail's table, on moto."""

from __future__ import annotations

from guardrail.adapters.ledger import Ledger
from guardrail.adapters.permissions import Resource, actions_of, merged
from guardrail.adapters.scan_watchlist import ScanWatchlist


def test_names_added_by_two_scans_are_all_kept_and_keys_are_apart(aws, deployed):
    table = deployed.settings.ledger_table
    first, second = ScanWatchlist(table, boto3_session=aws), ScanWatchlist(table, boto3_session=aws)
    now = deployed.clock()

    first.watch("invocation-scan:2026-11-28T03", ["public-api"], now=now, ttl_seconds=7200)
    second.watch("invocation-scan:2026-11-28T03", ["nightly-batch", "public-api"], now=now, ttl_seconds=7200)
    second.watch("invocation-scan:2026-11-28T03", [], now=now, ttl_seconds=7200)

    assert first.watched("invocation-scan:2026-11-28T03") == {"public-api", "nightly-batch"}
    assert first.watched("invocation-scan:2026-11-28T04") == set()
    assert first.watched("invocation-scan:eu-west-1:2026-11-28T03") == set()


def test_the_watch_list_needs_no_permission_beyond_the_ledgers():
    assert merged(ScanWatchlist.PERMISSIONS) == {Resource.LEDGER: ("dynamodb:GetItem", "dynamodb:UpdateItem")}
    assert actions_of(ScanWatchlist.PERMISSIONS) <= set(merged(Ledger.PERMISSIONS)[Resource.LEDGER])
