"""The ledger's tables and the ordered migrations that create them.

Each migration is applied once, in order, inside one transaction, and recorded in ``ledger_schema``.
Later issues append migrations; they never edit an applied one, so an existing ledger file keeps working.
Versions may have gaps and may land out of order (version 3 after 4): ``migrations.migrate`` applies every
version a ledger has not recorded, so each migration must stand on its own.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

metadata = sa.MetaData()

ledger_schema = sa.Table(
    "ledger_schema",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("description", sa.String(200), nullable=False),
    sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
)

sync_cursors = sa.Table(
    "sync_cursors",
    metadata,
    sa.Column("pair", sa.String(64), primary_key=True),
    sa.Column("entity", sa.String(64), primary_key=True),
    sa.Column("cursor", sa.Text, nullable=False, comment="JSON, owned by the extractor of the entity"),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

oauth_tokens = sa.Table(
    "oauth_tokens",
    metadata,
    sa.Column("provider", sa.String(32), primary_key=True),
    sa.Column("account", sa.String(128), primary_key=True, comment="pair or account the tokens belong to"),
    sa.Column("access_token", sa.Text, nullable=False),
    sa.Column("refresh_token", sa.Text, nullable=True),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("scope", sa.Text, nullable=True),
    sa.Column("generation", sa.Integer, nullable=False, comment="bumped on every save: compare-and-swap"),
    sa.Column("lease_owner", sa.String(64), nullable=True, comment="who is refreshing: pid@host/boot/nonce"),
    sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
    sa.Column("reconnect_reason", sa.Text, nullable=True, comment="set when only a new connect can help"),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

# -- the write side: planned writes, what they created, what people must look at, what was called ----------

outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True, comment="order of planning"),
    sa.Column(
        "key", sa.String(32), nullable=False, unique=True, comment="hash of pair, action, source, version"
    ),
    sa.Column("pair", sa.String(64), nullable=False),
    sa.Column("action", sa.String(48), nullable=False, comment="e.g. m3.customer.add (writeback.actions)"),
    sa.Column("target", sa.String(16), nullable=False, comment="the system written: freshbooks or infor"),
    sa.Column("entity", sa.String(32), nullable=False, comment="the core entity the action is about"),
    sa.Column("source_system", sa.String(16), nullable=False),
    sa.Column("source_id", sa.String(64), nullable=False),
    sa.Column("source_version", sa.String(64), nullable=False, comment="the source record's change stamp"),
    sa.Column("stamp", sa.String(64), nullable=True, comment="written into the target to find it again"),
    sa.Column("payload", sa.Text, nullable=False, comment="JSON, built by the mapping specs"),
    sa.Column(
        "depends_on", sa.String(32), nullable=True, comment="key of the action that must be done first"
    ),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("fence", sa.Integer, nullable=False, default=0, comment="bumped by every claim"),
    sa.Column("lease_owner", sa.String(64), nullable=True, comment="pid@host/boot/nonce of the claimer"),
    sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
    sa.Column("progress", sa.Text, nullable=True, comment="JSON: the steps a multi-call write has done"),
    sa.Column("target_id", sa.String(64), nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("last_error_class", sa.String(64), nullable=True),
    sa.Column("planned_by", sa.String(128), nullable=True, comment="run id or command that planned it"),
    sa.Column("planned_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
    sa.Index("ix_outbox_due", "pair", "target", "state", "next_attempt_at"),
    sa.Index("ix_outbox_source", "pair", "action", "source_id"),
    sa.Index("ix_outbox_state", "state"),
)

crosswalk = sa.Table(
    "crosswalk",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("pair", sa.String(64), nullable=False),
    sa.Column("entity", sa.String(32), nullable=False),
    sa.Column("freshbooks_id", sa.String(64), nullable=False),
    sa.Column("infor_id", sa.String(64), nullable=False),
    sa.Column(
        "origin", sa.String(16), nullable=False, comment="created (by finsync) or confirmed (by a person)"
    ),
    sa.Column("action_key", sa.String(32), nullable=True),
    sa.Column("created_by", sa.String(64), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("pair", "entity", "freshbooks_id", name="uq_crosswalk_freshbooks"),
    sa.UniqueConstraint("pair", "entity", "infor_id", name="uq_crosswalk_infor"),
)

dead_letters = sa.Table(
    "dead_letters",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("pair", sa.String(64), nullable=False),
    sa.Column("action_key", sa.String(32), nullable=False),
    sa.Column("action", sa.String(48), nullable=False),
    sa.Column("target", sa.String(16), nullable=False),
    sa.Column("error_class", sa.String(64), nullable=False),
    sa.Column("error_code", sa.String(64), nullable=True),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("pattern", sa.String(200), nullable=False, comment="the message with ids and numbers blanked"),
    sa.Column("request", sa.Text, nullable=True, comment="JSON: the call and payload, secrets masked"),
    sa.Column("response", sa.Text, nullable=True, comment="JSON: what the API answered, secrets masked"),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("resolution", sa.String(16), nullable=True, comment="retried or resolved"),
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("resolved_by", sa.String(64), nullable=True),
    sa.Index("ix_dead_letters_open", "pair", "resolved_at"),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("pair", sa.String(64), nullable=False),
    sa.Column("action_key", sa.String(32), nullable=True),
    sa.Column("action", sa.String(48), nullable=True),
    sa.Column("target", sa.String(16), nullable=True),
    sa.Column("call", sa.String(128), nullable=False, comment="e.g. CRS610MI/Add, POST invoices, dlq retry"),
    sa.Column("step", sa.String(32), nullable=True, comment="which call of a multi-call write"),
    sa.Column("target_id", sa.String(64), nullable=True),
    sa.Column(
        "outcome", sa.String(16), nullable=False, comment="applied, found, refused, failed, in_doubt, ..."
    ),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("latency_ms", sa.Integer, nullable=True),
    sa.Column("attempt", sa.Integer, nullable=True),
    sa.Column("fence", sa.Integer, nullable=True),
    sa.Column("actor", sa.String(64), nullable=True, comment="the process or the person"),
    sa.Index("ix_audit_at", "at"),
    sa.Index("ix_audit_key", "action_key"),
)

# -- webhooks: deliveries received, and the callbacks that sign them ------------------------------------

inbox = sa.Table(
    "inbox",
    metadata,
    # Never reused (AUTOINCREMENT on SQLite), and written in id order (``inbox.add_many``), so an inbox
    # sensor can keep "the last id it read" as its cursor.
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("pair", sa.String(64), nullable=False),
    sa.Column("system", sa.String(16), nullable=False, comment="freshbooks | shop"),
    sa.Column("event", sa.String(64), nullable=False, comment="FreshBooks event name or Shopify topic"),
    sa.Column("object_id", sa.String(64), nullable=True, comment="what changed: re-fetch it by this id"),
    sa.Column("account_id", sa.String(255), nullable=True, comment="FreshBooks account id or shop domain"),
    sa.Column("business_id", sa.String(64), nullable=True),
    sa.Column("dedupe_key", sa.String(160), nullable=False, unique=True, comment="see inbox.py"),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("body", sa.Text, nullable=False, comment="as received; never a verifier or a secret"),
    sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("processed_run", sa.String(128), nullable=True),
    sa.Index("inbox_pending", "pair", "processed_at"),
    sqlite_autoincrement=True,
)

webhook_callbacks = sa.Table(
    "webhook_callbacks",
    metadata,
    sa.Column("pair", sa.String(64), primary_key=True),
    sa.Column("system", sa.String(16), primary_key=True, comment="freshbooks | shop"),
    sa.Column(
        "callback_id", sa.String(64), primary_key=True, comment="the provider's id of the subscription"
    ),
    sa.Column("event", sa.String(64), nullable=False),
    sa.Column("url", sa.Text, nullable=False, comment="where the provider delivers"),
    sa.Column("verified", sa.Boolean, nullable=False),
    sa.Column(
        "secret", sa.Text, nullable=True, comment="FreshBooks verifier / HMAC key, sealed (sealing.py)"
    ),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
)

# -- the console: who may sign in, their sessions, sign-in attempts, and what people decided in review -------

console_users = sa.Table(
    "console_users",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("role", sa.String(16), nullable=False, comment="viewer, reviewer or admin (ledger.users.Role)"),
    sa.Column("password_hash", sa.String(256), nullable=False, comment="argon2id, with its parameters"),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("created_by", sa.String(64), nullable=True),
    sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=False),
)

console_sessions = sa.Table(
    "console_sessions",
    metadata,
    sa.Column(
        "token_hash", sa.String(64), primary_key=True, comment="sha256 of the cookie; never the cookie"
    ),
    sa.Column("user_name", sa.String(64), nullable=False),
    sa.Column("csrf_token", sa.String(64), nullable=False),
    sa.Column("ip", sa.String(64), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_console_sessions_user", "user_name"),
)

console_logins = sa.Table(
    "console_logins",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("user_name", sa.String(64), nullable=False, comment="as typed (cut to 64)"),
    sa.Column("ip", sa.String(64), nullable=False),
    sa.Column("ok", sa.Boolean, nullable=False),
    sa.Index("ix_console_logins_user", "user_name", "at"),
    sa.Index("ix_console_logins_ip", "ip", "at"),
)

review_decisions = sa.Table(
    "review_decisions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("pair", sa.String(64), nullable=False),
    sa.Column("entity", sa.String(32), nullable=False),
    sa.Column("freshbooks_id", sa.String(64), nullable=False, comment="'' when the record is only in M3"),
    sa.Column("infor_id", sa.String(64), nullable=False, comment="'' when the record is only in FreshBooks"),
    sa.Column("decision", sa.String(16), nullable=False, comment="accepted, rejected or ignored"),
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("session", sa.String(16), nullable=True, comment="the deciding session, for undo"),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("undone_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("undone_by", sa.String(64), nullable=True),
    sa.Index("ix_review_decisions_pair", "pair", "entity", "undone_at"),
)

# -- operations: what people are told, and the indexes the status figures need (version 6) -----------------

alert_state = sa.Table(
    "alert_state",
    metadata,
    sa.Column("rule", sa.String(48), primary_key=True, comment="e.g. dead_actions (alerts.rules)"),
    sa.Column("subject", sa.String(128), primary_key=True, comment="what it is about: a pair, pair/provider"),
    sa.Column("firing", sa.Boolean, nullable=False),
    sa.Column("since", sa.DateTime(timezone=True), nullable=False, comment="when the state last changed"),
    sa.Column("summary", sa.Text, nullable=True, comment="the last message, secrets masked"),
    sa.Column(
        "notified", sa.Text, nullable=True, comment="JSON: per channel, the state people were last told"
    ),
    sa.Column("notified_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

# Declared against the tables, so a ledger created from scratch gets them with its tables as well.
STATUS_INDEXES = (
    # Counts per pair and state, and the oldest in-doubt action, without reading the done rows' pages.
    sa.Index("ix_outbox_pair_state", outbox.c.pair, outbox.c.state, outbox.c.updated_at),
    # Webhook -> target latency: the writes of the run that took a delivery.
    sa.Index("ix_outbox_planned_by", outbox.c.planned_by, outbox.c.done_at),
    # Dead-letter growth and retention.
    sa.Index("ix_dead_letters_created", dead_letters.c.created_at),
    sa.Index("ix_dead_letters_resolved", dead_letters.c.resolved_at),
    # `finsync audit --pair P --since T`.
    sa.Index("ix_audit_pair_at", audit_log.c.pair, audit_log.c.at),
)

Migration = Callable[[sa.Connection], None]


def _create(*tables: sa.Table) -> Migration:
    def apply(connection: sa.Connection) -> None:
        for table in tables:
            table.create(connection, checkfirst=True)

    return apply


def _add_column(table: sa.Table, name: str) -> Migration:
    """Add a column of ``table`` as declared above, unless version 1 already created it with the table."""

    def apply(connection: sa.Connection) -> None:
        if name in {c["name"] for c in sa.inspect(connection).get_columns(table.name)}:
            return
        column = table.c[name]
        kind = column.type.compile(dialect=connection.dialect)
        connection.execute(sa.text(f"ALTER TABLE {table.name} ADD COLUMN {name} {kind}"))

    return apply


def _create_indexes(*indexes: sa.Index) -> Migration:
    def apply(connection: sa.Connection) -> None:
        for index in indexes:
            index.create(connection, checkfirst=True)

    return apply


def _both(*steps: Migration) -> Migration:
    def apply(connection: sa.Connection) -> None:
        for step in steps:
            step(connection)

    return apply


# (version, description, how). Append only.
MIGRATIONS: list[tuple[int, str, Migration]] = [
    (1, "sync cursors and OAuth token store", _create(sync_cursors, oauth_tokens)),
    (2, "tokens that need a new connect say why", _add_column(oauth_tokens, "reconnect_reason")),
    (
        3,
        "write-back: outbox, crosswalk, dead letters, audit log",
        _create(outbox, crosswalk, dead_letters, audit_log),
    ),
    (4, "webhook inbox and registered callbacks", _create(inbox, webhook_callbacks)),
    (
        5,
        "console: users, sessions, sign-in attempts, review decisions",
        _create(console_users, console_sessions, console_logins, review_decisions),
    ),
    (
        6,
        "alert state; indexes for finsync status and retention",
        _both(_create(alert_state), _create_indexes(*STATUS_INDEXES)),
    ),
]

VERSIONS = frozenset(version for version, _, _ in MIGRATIONS)
LATEST_VERSION = max(VERSIONS)
