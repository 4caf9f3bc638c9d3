"""A statement's normalised fingerprint: the same statement with other literals is the same fingerprint.

Comments, string and number literals, whitespace and case are stripped, so `SELECT * FROM t WHERE id = 7
-- retry` and `select *  from T where ID=8` share one fingerprint, while a statement that reads another
table or groups by another column does not. The fingerprint is a short hash: it is stored in DynamoDB
keys and shown in alerts, never the statement itself.
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
