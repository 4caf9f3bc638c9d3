"""Which tables a query reads, from its SQL text (a light scan, not a parser).

It finds the names after FROM and JOIN, qualified or not, quoted or not, and drops the names the query
defines itself in a WITH clause. Table functions, subqueries in FROM and views it cannot see through are
out of its reach; those reads go unnoticed by the cross-region check rather than misreported.
"""

from __future__ import annotations

import re

_IDENT = r'(?:"[^"]+"|`[^`]+`|[A-Za-z_][A-Za-z0-9_]*)'
_REFERENCE = re.compile(rf"\b(?:FROM|JOIN)\s+({_IDENT}(?:\s*\.\s*{_IDENT}){{0,2}})", re.IGNORECASE)
_CTE = re.compile(rf"(?:\bWITH|,)\s*(?:RECURSIVE\s+)?({_IDENT})\s+AS\s*\(", re.IGNORECASE)
_COMMENT = re.compile(r"--[^\n]*|/\*.*?\*/", re.DOTALL)
_STRING = re.compile(r"'(?:[^']|'')*'")


def referenced_tables(sql: str, default_database: str) -> list[tuple[str, str]]:
    """The (database, table) pairs the query reads, in first-seen order, lower-cased."""
    text = _STRING.sub("''", _COMMENT.sub(" ", sql))
    defined = {_unquote(name) for name in _CTE.findall(text)}
    found: list[tuple[str, str]] = []
    for reference in _REFERENCE.findall(text):
        parts = [_unquote(part) for part in re.split(r"\s*\.\s*", reference)]
        if len(parts) == 1 and (parts[0] in defined or not default_database):
            continue
        database, table = (default_database.lower(), parts[0]) if len(parts) == 1 else parts[-2:]
        if (database, table) not in found:
            found.append((database, table))
    return found


def _unquote(name: str) -> str:
    return name.strip().strip('"`').lower()
