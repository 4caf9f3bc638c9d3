"""Development tooling, outside every asset: the local stand-in (moto), replay, demo, bench."""
