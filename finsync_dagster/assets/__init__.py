"""Software-defined assets: staging per system, checks, core, reconciliation, reports and operations.

Each module hands ``definitions.py`` its own builders; the package itself exports nothing.
"""

__all__: list[str] = []
