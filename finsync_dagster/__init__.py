"""finsync: a Dagster project that keeps a FreshBooks account and an Infor ERP in step.

The code location is ``finsync_dagster.definitions:defs``; the command line is ``finsync_dagster.cli``.
The package itself exports nothing: import from its packages and modules.
"""

__all__: list[str] = []
