"""finsync."""
