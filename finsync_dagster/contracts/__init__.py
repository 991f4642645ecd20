"""What each system's API accepts and returns: the field catalogues mapping, quality and push code read.

``fields`` is the shared vocabulary (a ``Field``, a ``TableSchema``, the type families a mapping is
checked by); ``freshbooks_fields`` lists the FreshBooks resources' fields (contract section 4);
``m3_catalog`` the M3 MI transactions finsync calls, derived from the shared contract catalog by
``derive_m3_catalog``. Pure data and checks: no Dagster, no HTTP.
Import from the modules; the package itself exports nothing.
"""

__all__: list[str] = []
