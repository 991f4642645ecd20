"""``finsync serve``: the live embedded deployment in one command.

``config`` writes the settings the children load (the user's, plus the sandbox pair, sensors and schedules
running, the poll interval); ``children`` starts and stops the processes, each in its own process group;
``run`` puts them together, waits until each answers, writes ``serve.json`` and stops them all on SIGTERM
or Ctrl-C.
"""

from finsync_dagster.serve.run import SERVE_FILE, ServeOptions, serve

__all__ = ["SERVE_FILE", "ServeOptions", "serve"]
