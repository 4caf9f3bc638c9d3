"""moto's DynamoDB for a month of events: expired items go.

A month through the Athena watch is tens of thousands of events on one table. moto never deletes an
item whose TTL attribute has passed; DynamoDB does (typically within days). `expire(...)` does what
DynamoDB's TTL process does, at a moment the caller chooses. The watch's reads name key ranges within
the TTL, so expiring changes no answer; it only keeps partitions small. (Queries that read only their
key range, and responses written as the JSON they already are, are `devtools.moto_patches`'.)

It reaches into moto's internals like `devtools.moto_patches`, and is pinned the same way.
"""

from __future__ import annotations

from datetime import datetime

from devtools.moto_patches import check_moto_version


def expire(account: str, region: str, table_name: str, attribute: str, now: datetime) -> int:
    """Delete the items whose TTL `attribute` (epoch seconds) is before `now`; return how many."""
    check_moto_version()
    from moto.dynamodb.models import dynamodb_backends  # noqa: PLC0415 - moto 5.2.5's internals (checked)

    table = dynamodb_backends[account][region].get_table(table_name)
    cutoff, expired = now.timestamp(), []
    for partition in table.items.values():
        items = partition.values() if isinstance(partition, dict) else [partition]
        for item in items:
            value = item.attrs.get(attribute)
            if value is not None and value.type == "N" and float(value.value) < cutoff:
                expired.append(item)
    for item in expired:
        table.delete_item(item.hash_key, item.range_key if table.range_key_attr is not None else None)
    return len(expired)
