"""Lambda entry points: thin wrappers that parse, call logic and answer."""
