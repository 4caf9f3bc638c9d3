"""Fixtures shared by the tooling's own tests."""

from __future__ import annotations

import pytest

from tests.integration import sample_handlers

#: The sample functions (name -> handler in `tests.integration.sample_handlers`).
SAMPLE_FUNCTIONS = {"recorder": "record", "exploder": "explode"}


@pytest.fixture
def sample_functions(aws, make_function) -> None:
    """`recorder` and `exploder` in moto (512 MB, `SAMPLE_SETTING` = their name); nothing received yet."""
    make_function("placeholder")
    client = aws.client("lambda")
    role = client.get_function(FunctionName="placeholder")["Configuration"]["Role"]
    for name, handler in SAMPLE_FUNCTIONS.items():
        client.create_function(
            FunctionName=name,
            Runtime="python3.13",
            Role=role,
            Handler=f"tests.integration.sample_handlers.{handler}",
            Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},
            MemorySize=512,
            Environment={"Variables": {"SAMPLE_SETTING": name}},
        )
    sample_handlers.RECEIVED.clear()
