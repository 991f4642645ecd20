"""Software-defined assets: staging per system, checks, core, reconciliation, reports and operations."""
