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
]

VERSIONS = frozenset(version for version, _, _ in MIGRATIONS)
LATEST_VERSION = max(VERSIONS)
