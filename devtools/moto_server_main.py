"""moto's server with the local patches installed (see `devtools.moto_patches`)."""

from __future__ import annotations

import sys

from moto.server import main

from devtools.moto_patches import install

if __name__ == "__main__":
    install()
    main(sys.argv[1:])
