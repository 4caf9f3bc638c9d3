"""The `guardrail` command: an operator's terminal for the deployed kill switch (installed, never deployed).

grammar.py (the command line, its help and the request each command sends), aws.py (the session, the
kill switch, AWS's errors as one line), output.py (what a person reads), main.py (the flow).
"""

from guardrail_cli.main import main

__all__ = ["main"]
