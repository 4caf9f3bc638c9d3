"""Fault injection on a boto3 session: fail the Nth AWS call, or die right after it.

botocore's `before-call` / `after-call` events run in every client the session makes after the hooks
are registered; the hooks act only while armed, and record the calls (`service.Operation`) they see.
A failure is the AWS error the call would answer (`InternalError`); a crash is `Crash` raised after
the call succeeded, and every call after it raises `Crash` too: the invocation is dead (a Lambda
time-out), so no clean-up of it reaches AWS.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from botocore.exceptions import ClientError


class Crash(Exception):
    """The invocation died here."""


class Faults:
    """Hooks on a session that fail or crash one chosen call, and record every call made while armed."""

    def __init__(self, session: boto3.session.Session) -> None:
        self.calls: list[str] = []
        self._armed = False
        self._fail_at: int | None = None
        self._crash_after: int | None = None
        self._after: tuple[int, Callable[[], Any]] | None = None
        self._dead = False
        session.events.register("before-call", self._before)
        session.events.register("after-call", self._after_call)

    @contextmanager
    def armed(
        self,
        *,
        fail_at: int | None = None,
        crash_after: int | None = None,
        run_after: tuple[int, Callable[[], Any]] | None = None,
    ) -> Iterator[Faults]:
        """Record calls; fail call `fail_at`, crash after call `crash_after`, or run a callback after one."""
        self.calls, self._fail_at, self._crash_after, self._after = [], fail_at, crash_after, run_after
        self._dead, self._armed = False, True
        try:
            yield self
        finally:
            self._armed = False

    def _before(self, model: Any, **_: Any) -> None:
        if not self._armed:
            return
        if self._dead:
            raise Crash(f"dead since call {self._crash_after}")
        index = len(self.calls)
        self.calls.append(f"{model.service_model.service_name}.{model.name}")
        if index == self._fail_at:
            error = {"Error": {"Code": "InternalError", "Message": f"{model.name} failed (injected)"}}
            raise ClientError(error, model.name)  # type: ignore[arg-type]

    def _after_call(self, model: Any, **_: Any) -> None:
        if not self._armed or self._dead:
            return
        index = len(self.calls) - 1
        if self._after is not None and self._after[0] == index:
            callback, self._after = self._after[1], None
            self._armed = False  # the callback's own calls are another invocation's
            try:
                callback()
            finally:
                self._armed = True
        if index == self._crash_after:
            self._dead = True
            raise Crash(f"crashed after call {index} ({model.name})")
