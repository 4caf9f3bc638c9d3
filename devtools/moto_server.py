"""Starts and stops moto's server on 127.0.0.1, on a free port: in its own process, or in this one.

`moto_server()` runs it as a process of its own (with the moto patches). `moto_in_process()` runs it
in a thread of this process, over the same moto this process mocks (`mock_aws`): what a client sends
to the endpoint and what a client without an endpoint sends reach the same accounts. The demo deploys
through the endpoint and runs the deployed handlers in-process, where each call costs a third of a
call through HTTP (no socket, no server thread, no second process to serialize for).
"""

from __future__ import annotations

import logging
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.error import URLError

ACCOUNT = "123456789012"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def moto_server(timeout_seconds: float = 30.0) -> Iterator[str]:
    """Run moto's server for the duration of the block; yield its endpoint URL."""
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(  # noqa: S603 - our own interpreter, fixed arguments
        [sys.executable, "-m", "devtools.moto_server_main", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + timeout_seconds
        while True:
            try:
                with urllib.request.urlopen(f"{endpoint}/moto-api/data.json", timeout=1):  # noqa: S310 - loopback
                    break
            except (URLError, ConnectionError) as exc:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"moto server did not start on {endpoint}") from exc
                time.sleep(0.1)
        yield endpoint
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()  # reaped: no zombie left behind for the rest of the run


@contextmanager
def moto_in_process() -> Iterator[str]:
    """Mock moto in this process (with the moto patches) and serve it on 127.0.0.1; yield the endpoint.

    Clients with the endpoint reach moto through its server; clients without one (no
    `AWS_ENDPOINT_URL`) reach the same moto in-process.
    """
    from moto import mock_aws  # noqa: PLC0415 - only the demo's process needs moto in-process
    from moto.server import ThreadedMotoServer  # noqa: PLC0415

    from devtools.moto_patches import patched  # noqa: PLC0415

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request, as the process's DEVNULL
    with patched(), mock_aws():
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        try:
            yield f"http://{host}:{port}"
        finally:
            server.stop()
