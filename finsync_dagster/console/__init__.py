"""The finance staff's web console: pairs at a glance, the review queue, dead letters, approvals, the
mapping studio and the reports. Server-rendered (Starlette + Jinja2, one small script of our own, no
build step), served by ``finsync console`` on loopback unless told otherwise.

**Where the data comes from.** A pair's DuckDB warehouse takes one writer, and a sync may run at any
time, so the console never holds it open:

- reconciliation results are read from the latest report folder of the pair: ``review.parquet`` (the
  exception rows of every match table) and ``records.parquet`` (both systems' core records, for showing
  both sides of a row and for re-matching), written by the report writer with every run
  (``reports.review_files``). A report folder is renamed into place whole and never changed after, so
  reading it needs no lock and shows one consistent run;
- the mapping studio's preview needs staged rows: it takes the pair's lock (``pairlock``) for at most a
  couple of seconds, opens the warehouse read-only, copies a sample of the one source table into memory,
  and lets go; a sync that holds the pair makes the studio say so instead of waiting;
- everything people decide (the crosswalk, rejections, ignored exceptions, dead-letter retries, users and
  sessions) is in the ledger, which many processes share safely.

**Security.** Every request but the sign-in page and the static files needs a session: pages answer with
a redirect to the sign-in page, the JSON API with 401, other requests with 401, never with data. A
session is a random token in an HttpOnly, SameSite=Lax cookie (Secure when served over https), kept in
the ledger as a hash; every request that changes anything carries the session's CSRF token, and the app
refuses to start with a state-changing route that does not check it. Roles are checked per endpoint
(``viewer`` reads, ``reviewer`` decides, ``admin`` saves mapping specs); every action is audited with the
user. Sign-in attempts are limited per user name and per address. Pages escape all record text (Jinja2
autoescape, control characters made visible) and carry a strict Content-Security-Policy; no secret
(client secrets, tokens, the ledger password) is ever rendered. In production put an authenticating
reverse proxy in front as well (README, Console).
"""

from finsync_dagster.console.app import create_app
from finsync_dagster.console.config import ConsoleConfig

__all__ = ["ConsoleConfig", "create_app"]
