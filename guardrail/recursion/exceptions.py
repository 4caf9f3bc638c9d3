"""The error the guard raises instead of making a call that would go too deep."""

from __future__ import annotations


class RecursionDepthExceeded(Exception):
    """An outgoing call would take the chain past the function's depth limit; it was not made."""

    def __init__(self, *, function: str, depth: int, limit: int, chain_id: str, operation: str) -> None:
        self.function = function
        self.depth = depth
        self.limit = limit
        self.chain_id = chain_id
        self.operation = operation
        super().__init__(
            f"{function}: refused {operation} at chain depth {depth}, past the limit of {limit} "
            f"(chain {chain_id}); the call was not made"
        )
