"""The process the refresh kill test kills: refresh one pair's FreshBooks token, say so, then idle.

Run as ``python -m tests.clients.freshbooks.refresher`` with ``REFRESHER_CONFIG`` (JSON: ledger URL,
pair, the app's OAuth settings). It prints ``ready`` before touching the ledger and ``done`` after the
refresh committed.
"""

from __future__ import annotations

import json
import os
import time

from finsync_dagster.ledger import Ledger
from finsync_dagster.resources.freshbooks import OAuthApp, TokenKeeper
from finsync_dagster.resources.freshbooks.tokens import PROVIDER
from finsync_dagster.resources.token_store import TokenStore


def main() -> None:
    config = json.loads(os.environ["REFRESHER_CONFIG"])
    ledger = Ledger(config["ledger_url"])
    keeper = TokenKeeper(TokenStore(ledger, provider=PROVIDER, key=config["pair"]), OAuthApp(**config["app"]))
    print("ready", flush=True)
    keeper.current()
    print("done", flush=True)
    time.sleep(120)


if __name__ == "__main__":
    main()
