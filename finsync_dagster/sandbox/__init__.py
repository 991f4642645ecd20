"""Emulators of the FreshBooks, Infor and shop (Shopify) APIs, served on loopback, on one shared core.

Production code never imports this package; it only knows the URLs and credentials the sandboxes write
to ``sandbox.json``.

The shared core, as moto's backends share ``moto/core``:

- ``runner.py`` serves every sandbox on its own port and writes ``sandbox.json``;
- ``clock.py`` is the one virtual clock (token expiry, change stamps, overdue invoices);
- ``faults.py`` injects 5xx, 429, slow, dropped and revoked answers, and latency;
- ``control.py`` is the ``/sandbox`` control plane, the same paths and bodies on every system.

Each system is a package of the same shape, so swapping the system's name in a path finds the twin:
``__init__.py`` (contract choices and coverage), ``service.py`` (the runner's entry), ``backend.py`` (all
state of one running sandbox, with the control-plane hooks), ``app.py`` (the ASGI app factory),
``routes.py`` (paths only), ``handlers.py`` (the emulated API), ``control.py`` (the system's own control
routes), ``models.py``, ``errors.py`` and ``seed.py``. The auth layer is ``oauth.py`` on FreshBooks and
``gateway.py`` (the ION API Gateway) on Infor, ``gate.py`` (access token, version, leaky bucket) on the
shop.
"""

SEEDS = ("demo", "empty")

__all__ = ["SEEDS"]
