"""The strict base of every configuration model, its value types, and the one way errors are reported.

Models are built two ways. From configuration as written (cdk.json's context, the functions'
environment, a scenario file): `Model.parse(data)`, which accepts only the keys as written (camelCase),
JSON values, and raises `ConfigError` naming every wrong key by its path. From Python code:
`Model(field_name=...)`, validated the same way.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    ValidationError,
    ValidationInfo,
    model_validator,
)
from pydantic_core import ErrorDetails, PydanticCustomError

from guardrail.errors import ConfigError

#: Validation context of configuration as written: only its own keys are accepted.
AS_WRITTEN = "as-written"


def camel(name: str) -> str:
    """cdk.json's spelling of a field name: `max_cost_per_day_usd` -> `maxCostPerDayUsd`."""
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _whole(value: Any) -> Any:
    """JSON does not tell 60 from 60.0: a whole float is an int; 7.5 (and true) are not."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


#: A whole number (never a bool or a string).
Int = Annotated[int, Strict(), BeforeValidator(_whole)]
#: A finite number (never a bool or a string; an int is taken as a float).
Float = Annotated[float, Strict(), Field(allow_inf_nan=False)]
Str = Annotated[str, Strict()]
Bool = Annotated[bool, Strict()]


def matching(pattern: str, what: str) -> AfterValidator:
    """A validator for a `Str` that must match `pattern` entirely; `what` says what it should be."""
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ValueError(f"{value!r} is not {what}")
        return value

    return AfterValidator(check)


class StrictModel(BaseModel):
    """Frozen, camelCase keys (as in cdk.json), unknown keys refused."""

    model_config = ConfigDict(alias_generator=camel, populate_by_name=True, extra="forbid", frozen=True)

    #: Where the model sits in cdk.json, for error messages (`guardrail.detectors.athena-watch`).
    KEY_PATH: ClassVar[str] = ""

    @model_validator(mode="before")
    @classmethod
    def _keys_as_written(cls, data: Any, info: ValidationInfo) -> Any:
        """Configuration as written uses the written keys only (not the Python field names)."""
        if isinstance(data, Mapping) and isinstance(info.context, Mapping) and info.context.get(AS_WRITTEN):
            known = sorted(field.alias or name for name, field in cls.model_fields.items())
            unknown = sorted(str(key) for key in data if key not in known)
            if unknown:
                raise PydanticCustomError(
                    "unknown_keys",
                    "unknown keys {unknown} (known: {known})",
                    {"unknown": ", ".join(unknown), "known": ", ".join(known)},
                )
        return data

    @classmethod
    def parse(cls, data: Any, *, at: str | None = None, source: str = "") -> Self:
        """Validate configuration as written; errors name each key's path from `at` (default KEY_PATH).

        `source` (a file, an environment variable) prefixes the message when given.
        """
        try:
            return cls.model_validate(data, context={AS_WRITTEN: True})
        except ValidationError as exc:
            path = cls.KEY_PATH if at is None else at
            problems = "; ".join(describe(error, path) for error in exc.errors())
            raise ConfigError(f"{source}: {problems}" if source else problems) from None


_EXPECTED = {
    "int_type": "expected a whole number",
    "float_type": "expected a number",
    "bool_type": "expected true or false",
    "string_type": "expected a string",
    "tuple_type": "expected a list",
    "list_type": "expected a list",
    "dict_type": "expected an object",
    "model_type": "expected an object",
}


def describe(error: ErrorDetails, at: str = "") -> str:
    """One validation error as `key.path: what is wrong`, the path as written in the configuration."""
    parts = [at] if at else []
    for part in error["loc"]:
        if isinstance(part, int):
            parts[-1:] = [f"{parts[-1] if parts else ''}[{part}]"]
        else:
            parts.append(str(part))
    kind = error["type"]
    if kind == "value_error":
        message = str(error.get("ctx", {}).get("error", error["msg"]))
    elif kind in _EXPECTED:
        shown = repr(error["input"])
        message = f"{_EXPECTED[kind]}, got {shown if len(shown) <= 60 else shown[:57] + '...'}"
    else:
        message = error["msg"]
    return f"{'.'.join(parts)}: {message}" if parts else message
