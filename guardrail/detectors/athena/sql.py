"""A query's SQL text, read lightly (a scan, not a parser): its fingerprint and the tables it reads.

Comments and string literals are dropped the same way for both (an unterminated one runs to the end:
Athena refuses such a statement, and it is billed nothing).

The fingerprint: comments, string and number literals, whitespace and case are stripped, so `SELECT *
FROM t WHERE id = 7 -- retry` and `select *  from T where ID=8` share one fingerprint, while a
statement that reads another table or groups by another column does not. It is a short hash: stored
in DynamoDB keys and shown in alerts, never the statement itself.

The tables: the names after FROM and JOIN, qualified or not, quoted or not, less the names the query
defines itself in a WITH clause. Table functions, subqueries in FROM and views it cannot see through
are out of its reach; those reads go unnoticed by the cross-region check rather than misreported.
"""

from __future__ import annotations

import hashlib
import re

#: Hex digits kept of the SHA-256 of the normalised text (64 bits: no collision in a caller's history).
LENGTH = 16
_COMMENT = re.compile(r"--[^\n]*|/\*.*?(?:\*/|$)", re.DOTALL)
_STRING = re.compile(r"'(?:[^']|'')*'?")
_NUMBER = re.compile(r"(?<![A-Za-z0-9_\"`])[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?![A-Za-z0-9_])")
_SPACE = re.compile(r"\s+")
_AROUND_PUNCTUATION = re.compile(r"\s*([(),=<>!*+/;.-])\s*")
_LISTS = re.compile(r"\?(?:,\?)+")


def normalised(sql: str) -> str:
    """The statement without comments, literals (each `?`, a list of them one `?`), case or extra space."""
    text = _COMMENT.sub(" ", sql)
    text = _STRING.sub("?", text)
    text = _NUMBER.sub("?", text)
    text = _AROUND_PUNCTUATION.sub(r"\1", _SPACE.sub(" ", text).strip().lower())
    return _LISTS.sub("?", text).rstrip(";")


def fingerprint(sql: str) -> str:
    """The statement's fingerprint: a hash of its normalised text."""
    return hashlib.sha256(normalised(sql).encode("utf-8", "surrogatepass")).hexdigest()[:LENGTH]


_IDENT = r'(?:"[^"]+"|`[^`]+`|[A-Za-z_][A-Za-z0-9_]*)'
_REFERENCE = re.compile(rf"\b(?:FROM|JOIN)\s+({_IDENT}(?:\s*\.\s*{_IDENT}){{0,2}})", re.IGNORECASE)
_CTE = re.compile(rf"(?:\bWITH|,)\s*(?:RECURSIVE\s+)?({_IDENT})\s+AS\s*\(", re.IGNORECASE)


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
