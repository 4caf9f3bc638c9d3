"""moto's server with the local speed-ups installed (see `infra.local.moto_speedups`)."""

from __future__ import annotations

import sys

from moto.server import main

from infra.local.moto_speedups import install

if __name__ == "__main__":
    install()
    main(sys.argv[1:])
