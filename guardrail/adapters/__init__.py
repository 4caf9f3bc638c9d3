"""Adapters: one module per AWS API, each accepting an injected client, session or config."""
