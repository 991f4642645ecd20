"""Software-defined assets: staging per system, core, checks, reconciliation, outbox and reports."""
