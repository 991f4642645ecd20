"""``python -m finsync_dagster.push``: see ``worker.py``."""

import sys

from finsync_dagster.push.worker import main

sys.exit(main())
