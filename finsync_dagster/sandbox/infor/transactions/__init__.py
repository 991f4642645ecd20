"""One module per MI program; each registers its transactions here with :func:`transaction`.

A handler takes the :class:`~finsync_dagster.sandbox.infor.mi.Context` and the validated inputs (right-trimmed
strings, absent fields missing) and returns the output rows; the runtime projects them onto the catalog's
output fields, so a handler only fills the fields it knows.
"""

from finsync_dagster.sandbox.infor.transactions.registry import Handler, handlers, transaction

__all__ = ["Handler", "handlers", "transaction"]
