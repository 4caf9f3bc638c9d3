"""The recursion guard for users' Lambda functions: a per-function depth limit on call chains.

```python
from guardrail.recursion import recursion_guard

@recursion_guard(max_depth=700)
def handler(event, context): ...
```

This package runs inside users' functions (shipped as a Lambda layer) and imports nothing else
from the guardrail.
"""

from guardrail.recursion.chain import CHAIN_KEY, Chain
from guardrail.recursion.exceptions import RecursionDepthExceeded
from guardrail.recursion.guard import DEFAULT_MAX_DEPTH, recursion_guard
from guardrail.recursion.query_started import QUERY_STARTED
from guardrail.recursion.refusal import DETAIL_TYPE, EVENT_SOURCE

__all__ = [
    "CHAIN_KEY",
    "DEFAULT_MAX_DEPTH",
    "DETAIL_TYPE",
    "EVENT_SOURCE",
    "QUERY_STARTED",
    "Chain",
    "RecursionDepthExceeded",
    "recursion_guard",
]
