"""The console's pages, one module per page: its GET handler and the actions its forms post."""

__all__: list[str] = []
