"""``python -m finsync_dagster.cli``: the same as the ``finsync`` command."""

import sys

from finsync_dagster.cli import main

sys.exit(main())
