"""One settings object, read from ``finsync.yaml`` and the environment.

The file declares the integration pairs (a FreshBooks account joined to an Infor company/division) and
names the environment variables that hold each pair's secrets; it never holds a secret itself. The
environment decides where things live:

- ``FINSYNC_CONFIG``: the config file (default ``./finsync.yaml``);
- ``FINSYNC_HOME``: DuckDB files, ledger, reports and sandbox state (default ``./.finsync``);
- ``FINSYNC_LEDGER_URL``: a SQLAlchemy URL for the ledger (default a SQLite file under ``FINSYNC_HOME``).

A pair with ``sandbox_dir`` becomes ordinary ``freshbooks:``/``infor:`` (and ``shop:``, when that sandbox
runs) sections here, once, from the ``sandbox.json`` that ``finsync sandbox`` writes, so client resources
only ever see URLs and credentials. The ``shop:`` section is optional: a pair without one has no shop.

Errors name the file, the line and the fix, because the person reading them is editing that file.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pydantic
import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationInfo, field_validator

from finsync_dagster.errors import ConfigError
from finsync_dagster.recon.model import Tolerances
from finsync_dagster.writeback.config import WriteBackConfig

DEFAULT_CONFIG_FILE = "finsync.yaml"
DEFAULT_HOME = ".finsync"
SANDBOX_FILE = "sandbox.json"
LEDGER_URL_ENV = "FINSYNC_LEDGER_URL"
_PAIR_NAME = re.compile(r"[a-z][a-z0-9_-]{0,62}")
_SHOP_DOMAIN = re.compile(r"[a-z0-9][a-z0-9-]*\.myshopify\.com")
_API_VERSION = re.compile(r"\d{4}-(0[1-9]|1[0-2])|unstable")
_CRON_FORMAT = "five fields, minute hour day-of-month month day-of-week (e.g. '*/15 * * * *'), or @daily"


def check_pair_name(name: str) -> str:
    """``name`` if it is a pair name; pair names become partition keys and file names, so never a path.

    The one check for every place a name enters: the config file, every ``--pair`` option, and the paths
    built from a name (warehouse, reports).
    """
    if not isinstance(name, str) or not _PAIR_NAME.fullmatch(name):
        raise ConfigError(
            f"{name!r} is not a pair name: a pair name is 1-63 lower-case letters, digits, '-' or '_', "
            "starting with a letter"
        )
    return name


def is_pair_name(name: str) -> bool:
    return isinstance(name, str) and _PAIR_NAME.fullmatch(name) is not None


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FreshBooksPairConfig(_Strict):
    """Where one FreshBooks account lives and which environment variables hold its app's secrets."""

    account_id: str
    business_id: int | None = None
    api_url: str = "https://api.freshbooks.com"
    auth_url: str = "https://auth.freshbooks.com"
    redirect_uri: str = "https://localhost/finsync/callback"
    client_id_env: str = "FRESHBOOKS_CLIENT_ID"
    client_secret_env: str = "FRESHBOOKS_CLIENT_SECRET"
    webhook_secret_env: str | None = None
    # Set only from a sandbox's sandbox.json (its local app); a real app's come from the *_env variables.
    client_id: str | None = None
    client_secret: str | None = Field(default=None, repr=False)


class InforPairConfig(_Strict):
    """One Infor M3 company/division behind an ION API Gateway, with its ``.ionapi`` credentials.

    The ``.ionapi`` file holds secrets, so it comes either as a path (``ionapi_file``) or as JSON in an
    environment variable (``ionapi_env``), never inline.
    """

    company: str
    division: str = ""
    ionapi_file: str | None = None
    ionapi_env: str | None = None

    @field_validator("company")
    @classmethod
    def _company_is_m3_cono(cls, value: str) -> str:
        if not value.isdigit() or len(value) > 3:
            raise ValueError("an M3 company (CONO) is up to 3 digits, e.g. '100'")
        return value


class ShopPairConfig(_Strict):
    """One Shopify shop whose orders come into the pair, and which variables hold its app's secrets.

    A custom app's access token never expires, so it lives in an environment variable, not the ledger.
    """

    shop_domain: str
    api_version: str = "2025-10"
    api_url: str | None = Field(default=None, description="Default https://<shop_domain>; set for a proxy.")
    access_token_env: str = "SHOPIFY_ACCESS_TOKEN"
    webhook_secret_env: str = "SHOPIFY_WEBHOOK_SECRET"
    # Set only from a sandbox's sandbox.json (its local app); a real shop's come from the *_env variables.
    access_token: str | None = Field(default=None, repr=False)
    webhook_secret: str | None = Field(default=None, repr=False)

    @field_validator("shop_domain")
    @classmethod
    def _myshopify_handle(cls, value: str) -> str:
        if not _SHOP_DOMAIN.fullmatch(value):
            raise ValueError(
                "shop_domain is the shop's permanent myshopify.com handle, e.g. 'acme.myshopify.com' "
                "(not the storefront's own domain)"
            )
        return value

    @field_validator("api_version")
    @classmethod
    def _version_name(cls, value: str) -> str:
        if not _API_VERSION.fullmatch(value):
            raise ValueError("api_version is a Shopify release such as '2025-10' (or 'unstable')")
        return value


class ApiLimits(_Strict):
    """How hard finsync may push one API for a pair; unset values keep the client's defaults."""

    requests_per_minute: int | None = Field(default=None, ge=1)
    max_concurrency: int | None = Field(default=None, ge=1, le=64)


class PairConfig(_Strict):
    """An integration pair: a Dagster partition with its own DuckDB file."""

    name: str
    sandbox_dir: str | None = Field(
        default=None,
        description="Take both systems' URLs and credentials from DIR/sandbox.json, written by `finsync sandbox`.",
    )
    freshbooks: FreshBooksPairConfig | None = None
    infor: InforPairConfig | None = None
    shop: ShopPairConfig | None = Field(
        default=None, description="Optional: a Shopify shop whose orders come into this pair."
    )
    freshbooks_limits: ApiLimits = ApiLimits()
    infor_limits: ApiLimits = ApiLimits()
    shop_limits: ApiLimits = ApiLimits()
    write_back: WriteBackConfig = Field(
        default_factory=WriteBackConfig,
        description="What write-back may do for this pair: the top-level write_back, with this pair's keys over it.",
    )
    # The sections filled from sandbox.json rather than declared (left out when settings are serialized).
    _from_sandbox: frozenset[str] = PrivateAttr(default=frozenset())

    @field_validator("name")
    @classmethod
    def _name_is_a_partition_key(cls, value: str) -> str:
        try:
            return check_pair_name(value)
        except ConfigError as error:
            raise ValueError(str(error)) from None

    @pydantic.model_validator(mode="after")
    def _has_a_source(self) -> PairConfig:
        if self.sandbox_dir is None and (self.freshbooks is None or self.infor is None):
            raise ValueError("a pair needs both `freshbooks` and `infor` sections, or `sandbox_dir`")
        if self.freshbooks is not None and (self.freshbooks.client_id or self.freshbooks.client_secret):
            raise ValueError(
                "secrets never go in finsync.yaml: name the variables with client_id_env/client_secret_env"
            )
        if self.shop is not None and (self.shop.access_token or self.shop.webhook_secret):
            raise ValueError(
                "secrets never go in finsync.yaml: name the variables with access_token_env/webhook_secret_env"
            )
        return self

    def declared(self) -> PairConfig:
        """This pair as the file declared it, without the sections taken from sandbox.json."""
        if not self._from_sandbox:
            return self
        return self.model_copy(update=dict.fromkeys(self._from_sandbox))


class ScheduleConfig(_Strict):
    """When the read side runs, in the finance team's own time zone."""

    timezone: str = "UTC"
    incremental_cron: str = "*/15 * * * *"
    full_refresh_cron: str = "0 2 * * *"
    default_status: Literal["running", "stopped"] = "stopped"
    # How often the poll sensors look for changes the webhooks missed (and Infor, which sends none).
    poll_interval_seconds: int = Field(default=300, ge=5)

    @field_validator("timezone")
    @classmethod
    def _known_time_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}; use an IANA name such as 'America/Toronto'"
            ) from None
        return value

    @field_validator("incremental_cron", "full_refresh_cron")
    @classmethod
    def _cron_dagster_accepts(cls, value: str) -> str:
        # Dagster's own check, through its public API: a string passes here exactly when the schedule
        # built from it would load.
        import dagster as dg

        try:
            dg.ScheduleDefinition(name="cron_probe", cron_schedule=value, job_name="cron_probe")
        except dg.DagsterInvalidDefinitionError:
            raise ValueError(
                f"{value!r} is not a cron expression Dagster accepts; write {_CRON_FORMAT}"
            ) from None
        return value


_TOLERANCES = Tolerances()


class ReconciliationConfig(_Strict):
    """How closely the two systems must agree before a difference is reported.

    ``amount_tolerance`` is a decimal string ("0.00": amounts agree to the cent), so it is never a float.
    Fuzzy scores are 0-1: at or above ``fuzzy_accept`` a customer match is taken, from ``fuzzy_review`` up
    it is a suggestion for review. The names and defaults are ``recon.Tolerances``' (stated once, there).
    """

    amount_tolerance: str = str(_TOLERANCES.amount_tolerance)
    date_tolerance_days: int = Field(default=_TOLERANCES.date_tolerance_days, ge=0, le=366)
    payment_date_tolerance_days: int = Field(default=_TOLERANCES.payment_date_tolerance_days, ge=0, le=366)
    fuzzy_accept: float = Field(default=_TOLERANCES.fuzzy_accept, gt=0, le=1)
    fuzzy_review: float = Field(default=_TOLERANCES.fuzzy_review, gt=0, le=1)
    draft_without_order_is_exception: bool = _TOLERANCES.draft_without_order_is_exception

    @field_validator("amount_tolerance")
    @classmethod
    def _amount_is_a_decimal(cls, value: str) -> str:
        try:
            amount = Decimal(value)
        except InvalidOperation:
            raise ValueError('amount_tolerance is a decimal string such as "0.00" or "0.05"') from None
        if not amount.is_finite() or amount < 0:
            raise ValueError('amount_tolerance must be zero or more, e.g. "0.00"')
        return value

    @pydantic.model_validator(mode="after")
    def _review_below_accept(self) -> ReconciliationConfig:
        if self.fuzzy_review > self.fuzzy_accept:
            raise ValueError("fuzzy_review must not be above fuzzy_accept")
        return self


class QualityConfig(_Strict):
    """How much bad data a table may hold back before its batch is refused as a whole."""

    quarantine_threshold: float = Field(
        default=0.05,
        ge=0,
        le=1,
        description="Share of a staging table's live rows in quarantine above which its batch check fails.",
    )


_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _env_name(value: str | None) -> str | None:
    if value is not None and not _ENV_NAME.fullmatch(value):
        raise ValueError(
            f"{value!r} is not an environment variable name; name the variable that holds the value "
            "(e.g. FINSYNC_SLACK_WEBHOOK_URL), never the value itself"
        )
    return value


class SmtpConfig(_Strict):
    """Where alert e-mails go. The credentials are the *names* of environment variables."""

    host: str
    port: int = Field(default=587, ge=1, le=65535)
    from_: str = Field(alias="from")
    to: list[str] = Field(min_length=1)
    starttls: bool = True
    ssl: bool = False
    username_env: str | None = None
    password_env: str | None = None
    timeout_seconds: float = Field(default=10, gt=0, le=120)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("username_env", "password_env")
    @classmethod
    def _names_a_variable(cls, value: str | None) -> str | None:
        return _env_name(value)

    @field_validator("to")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        for address in value:
            if "@" not in address or any(c.isspace() for c in address):
                raise ValueError(f"{address!r} is not an e-mail address")
        return value

    @pydantic.model_validator(mode="after")
    def _one_tls(self) -> SmtpConfig:
        if self.ssl and self.starttls:
            raise ValueError("choose one: `ssl: true` (port 465) or `starttls: true` (port 587)")
        if (self.username_env is None) != (self.password_env is None):
            raise ValueError("give both username_env and password_env, or neither")
        return self


class DeadLetterGrowth(_Strict):
    count: int = Field(default=10, ge=1)
    window_minutes: int = Field(default=60, ge=1)


class InboxBacklog(_Strict):
    count: int = Field(default=500, ge=1)
    age_minutes: int = Field(default=15, ge=1)


class AlertRules(_Strict):
    """When an alert fires; ``null`` turns a rule off. Each fires once and tells once when it recovers."""

    failed_run: bool = True
    dead_actions: int | None = Field(default=1, ge=1, description="dead actions in a pair's outbox")
    dead_letter_growth: DeadLetterGrowth | None = DeadLetterGrowth()
    inbox_backlog: InboxBacklog | None = InboxBacklog()
    webhook_silence_minutes: int | None = Field(default=60, ge=1)
    pair_lag_minutes: int | None = Field(default=180, ge=1)
    token_expiry_hours: float | None = Field(default=24, gt=0)

    @field_validator("dead_actions", mode="before")
    @classmethod
    def _at_least_one(cls, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool) and value < 1:
            raise ValueError(
                "dead_actions is how many dead actions in a pair fire the alert: 1 (any) or more, "
                "or null to turn the rule off"
            )
        return value


class AlertsConfig(_Strict):
    """Who is told when something needs a person, and when."""

    interval_seconds: int = Field(default=30, ge=5, le=3600)
    slack_webhook_url_env: str | None = None
    smtp: SmtpConfig | None = None
    rules: AlertRules = AlertRules()

    @field_validator("slack_webhook_url_env")
    @classmethod
    def _names_a_variable(cls, value: str | None) -> str | None:
        return _env_name(value)


class RetentionConfig(_Strict):
    """How long the ledger keeps history; unset keeps it for ever (the default)."""

    audit_days: int | None = Field(default=None, ge=1)
    dead_letters_resolved_days: int | None = Field(default=None, ge=1)
    inbox_processed_days: int | None = Field(default=None, ge=1)


class MappingConfig(_Strict):
    """Where a team keeps its own mapping specs (relative to the config file's folder)."""

    specs_dir: str | None = Field(
        default=None,
        description="A folder of YAML specs; each replaces the shipped spec of the same name.",
    )


class FileConfig(_Strict):
    """The shape of ``finsync.yaml``."""

    version: Literal[1] = 1
    # Before pairs, so a mistake in it is reported at its own line rather than in the first pair.
    write_back: WriteBackConfig = WriteBackConfig()
    pairs: list[PairConfig] = Field(default_factory=list)
    schedules: ScheduleConfig = ScheduleConfig()
    quality: QualityConfig = QualityConfig()
    reconciliation: ReconciliationConfig = ReconciliationConfig()
    alerts: AlertsConfig = AlertsConfig()
    retention: RetentionConfig = RetentionConfig()
    mapping: MappingConfig = MappingConfig()

    @field_validator("pairs")
    @classmethod
    def _unique_names(cls, pairs: list[PairConfig]) -> list[PairConfig]:
        seen: set[str] = set()
        for pair in pairs:
            if pair.name in seen:
                raise ValueError(f"pair {pair.name!r} is declared twice")
            seen.add(pair.name)
        return pairs


class Settings(_Strict):
    """Everything a process needs to know about where finsync's state lives and what it syncs."""

    config_path: Path
    home: Path
    ledger_url: str
    pairs: tuple[PairConfig, ...]
    schedules: ScheduleConfig
    quality: QualityConfig = QualityConfig()
    reconciliation: ReconciliationConfig = ReconciliationConfig()
    alerts: AlertsConfig = AlertsConfig()
    retention: RetentionConfig = RetentionConfig()
    mapping: MappingConfig = MappingConfig()
    # Where ``pairs:`` is (or would go) in the file, for the error of a command that needs a pair.
    pairs_line: int = Field(default=1, exclude=True)

    @field_validator("pairs")
    @classmethod
    def _sandboxes_as_sections(
        cls, pairs: tuple[PairConfig, ...], info: ValidationInfo
    ) -> tuple[PairConfig, ...]:
        home = info.data.get("home")
        return tuple(with_sandbox_sections(pair, home) for pair in pairs) if home else pairs

    @property
    def pair_names(self) -> list[str]:
        return [pair.name for pair in self.pairs]

    def pair(self, name: str) -> PairConfig:
        for pair in self.pairs:
            if pair.name == name:
                return pair
        known = ", ".join(self.pair_names) or "none"
        raise ConfigError(f"{self.config_path}: no pair named {name!r} (pairs declared: {known})")

    def require_pairs(self) -> list[str]:
        """The declared pair names, for a command that needs at least one: none is an error, not a no-op."""
        if not self.pairs:
            raise ConfigError(
                f"{self.config_path}, line {self.pairs_line}: no pairs declared; add one under `pairs:` "
                "(the repository's finsync.yaml shows a real pair and a sandbox pair), or sync the "
                "sandboxes with `finsync sync --sandbox DIR`"
            )
        return self.pair_names

    @property
    def specs_overlay(self) -> Path | None:
        """The team's own mapping specs folder, if it has one (``mapping.specs_dir``)."""
        if self.mapping.specs_dir is None:
            return None
        path = Path(os.path.expandvars(self.mapping.specs_dir)).expanduser()
        return path if path.is_absolute() else self.config_path.parent.resolve() / path

    def warehouse_path(self, pair: str) -> Path:
        """The pair's own DuckDB file: pairs never share a writer."""
        return self.home / "warehouse" / f"{check_pair_name(pair)}.duckdb"

    def reports_dir(self, pair: str) -> Path:
        return self.home / "reports" / check_pair_name(pair)

    def inside_home(self, path: str | os.PathLike[str]) -> Path:
        """``path`` resolved (symlinks followed), refused unless it lies under ``FINSYNC_HOME``.

        For paths read back from files under the home (a report's latest.json), which anyone who can
        write there could point elsewhere.
        """
        resolved = Path(path).resolve()
        if not resolved.is_relative_to(self.home.resolve()):
            raise ConfigError(
                f"{path} is outside FINSYNC_HOME ({self.home}); refusing to read it. Remove the file "
                "that points there and rerun `finsync sync`."
            )
        return resolved

    def sandbox_path(self, pair: PairConfig) -> Path | None:
        return sandbox_path(pair, self.home)

    def with_pair(self, pair: PairConfig) -> Settings:
        """These settings with ``pair`` added, replacing a pair of the same name."""
        others = tuple(p for p in self.pairs if p.name != pair.name)
        return self.model_copy(update={"pairs": (*others, with_sandbox_sections(pair, self.home))})

    def declared(self) -> Settings:
        """These settings as declared: serialized so, a run re-reads sandbox.json when it loads them."""
        return self.model_copy(update={"pairs": tuple(pair.declared() for pair in self.pairs)})


def sandbox_path(pair: PairConfig, home: Path) -> Path | None:
    if pair.sandbox_dir is None:
        return None
    path = Path(os.path.expandvars(pair.sandbox_dir)).expanduser()
    return path if path.is_absolute() else home / path


def with_sandbox_sections(pair: PairConfig, home: Path) -> PairConfig:
    """``pair`` with the sections it lacks filled from its sandbox's sandbox.json.

    A sandbox that is not running (no sandbox.json yet) leaves them empty, so the code location still
    loads; the client is refused later, when a run asks for it, with the fix in the message.
    """
    directory = sandbox_path(pair, home)
    if directory is None or not (directory / SANDBOX_FILE).exists():
        return pair
    sections = read_sandbox_file(directory)
    update: dict[str, BaseModel] = {}
    if pair.freshbooks is None and sections.get("freshbooks"):
        update["freshbooks"] = _freshbooks_section(sections["freshbooks"])
    if pair.infor is None and sections.get("infor"):
        section = sections["infor"]
        update["infor"] = InforPairConfig(
            company=str(section["company"]),
            division=str(section.get("division") or ""),
            ionapi_file=str(section["ionapi_file"]),
        )
    if pair.shop is None and sections.get("shop"):
        update["shop"] = _shop_section(sections["shop"])
    if not update:
        return pair
    resolved = pair.model_copy(update=update)
    resolved._from_sandbox = pair._from_sandbox | frozenset(update)
    return resolved


def _freshbooks_section(section: Mapping[str, Any]) -> FreshBooksPairConfig:
    located = {
        key: section[key]
        for key in ("business_id", "api_url", "auth_url", "redirect_uri")
        if section.get(key)
    }
    # Built by copy: the validator refuses literal credentials, which only a sandbox may hand over.
    return FreshBooksPairConfig(account_id=str(section["account_id"]), **located).model_copy(
        update={"client_id": section.get("client_id"), "client_secret": section.get("client_secret")}
    )


def _shop_section(section: Mapping[str, Any]) -> ShopPairConfig:
    located = {key: section[key] for key in ("api_version", "api_url") if section.get(key)}
    # Built by copy, as FreshBooks' section is: only a sandbox may hand over literal credentials.
    return ShopPairConfig(shop_domain=str(section["shop_domain"]), **located).model_copy(
        update={"access_token": section.get("access_token"), "webhook_secret": section.get("webhook_secret")}
    )


def default_ledger_url(home: Path) -> str:
    return f"sqlite:///{(home / 'ledger.sqlite').resolve()}"


def load_settings(
    config_path: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    *,
    require_file: bool = True,
) -> Settings:
    """Read the config file named by the argument, ``FINSYNC_CONFIG`` or ``./finsync.yaml``.

    With ``require_file=False`` a missing file means "no pairs yet" rather than an error, for commands
    such as ``finsync sandbox`` that do not need one.
    """
    env = os.environ if env is None else env
    path = Path(config_path or env.get("FINSYNC_CONFIG") or DEFAULT_CONFIG_FILE).expanduser()
    home = Path(env.get("FINSYNC_HOME") or DEFAULT_HOME).expanduser().resolve()
    pairs_line = 1
    if path.exists():
        file_config, pairs_line = _parse(path)
    elif require_file:
        raise ConfigError(
            f"{path}: config file not found. Create it (the repository's finsync.yaml is a working "
            "example) or point FINSYNC_CONFIG at yours."
        )
    else:
        file_config = FileConfig()
    return Settings(
        config_path=path,
        home=home,
        ledger_url=env.get(LEDGER_URL_ENV) or default_ledger_url(home),
        pairs=tuple(file_config.pairs),
        schedules=file_config.schedules,
        quality=file_config.quality,
        reconciliation=file_config.reconciliation,
        alerts=file_config.alerts,
        retention=file_config.retention,
        mapping=file_config.mapping,
        pairs_line=pairs_line,
    )


def _parse(path: Path) -> tuple[FileConfig, int]:
    """The file's configuration, and the line of its ``pairs:`` key (1 if it has none)."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}, line {_line_at(raw, exc.start)}: not UTF-8 (byte 0x{raw[exc.start]:02x}); "
            "save the file as UTF-8."
        ) from None
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        at = f"line {mark.line + 1}" if mark else "somewhere"
        raise ConfigError(
            f"{path}, {at}: not valid YAML ({exc.problem}). Fix the indentation or quoting there."
        ) from None
    except yaml.reader.ReaderError as exc:
        # Raised before any node exists (a control character), so it carries a position, not a mark.
        raise ConfigError(
            f"{path}, line {_line_at(text.encode(), len(text[: exc.position].encode()))}: "
            f"control character U+{exc.character:04X} is not allowed in YAML; "
            'remove it (write it as an escape such as "\\x07" inside double quotes if it is meant).'
        ) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}, line 1: the file must be a mapping with a `pairs:` list at the top level."
        )
    _inherit_write_back(data)
    try:
        return FileConfig.model_validate(data), _line_of(root, ("pairs",))
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        loc = tuple(first["loc"])
        where = ".".join(str(part) for part in loc) or "(top level)"
        line = _line_of(root, loc)
        if first["type"] == "extra_forbidden":
            allowed = _allowed_keys(loc[:-1])
            hint = f"unknown key {loc[-1]!r}; remove it or use one of: {', '.join(allowed)}"
        elif first["type"] == "missing":
            hint = f"required key {loc[-1]!r} is missing; add it"
        else:
            hint = first["msg"].removeprefix("Value error, ")
        raise ConfigError(f"{path}, line {line}: {where}: {hint}") from None


def _inherit_write_back(data: dict[str, Any]) -> None:
    """Give each pair the top-level ``write_back`` with the pair's own keys over it (merged key by key)."""
    common = data.get("write_back")
    pairs = data.get("pairs")
    if not isinstance(common, dict) or not isinstance(pairs, list):
        return
    for pair in pairs:
        if isinstance(pair, dict):
            own = pair.get("write_back")
            pair["write_back"] = _merged(common, own) if isinstance(own, dict) else common


def _merged(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        merged[key] = (
            _merged(base[key], value)
            if isinstance(value, dict) and isinstance(base.get(key), dict)
            else value
        )
    return merged


def _line_at(raw: bytes, offset: int) -> int:
    """The 1-based line of byte ``offset`` in ``raw``."""
    return raw.count(b"\n", 0, offset) + 1


def _line_of(root: yaml.Node | None, loc: tuple[Any, ...]) -> int:
    """The 1-based line of the YAML node at ``loc``, or of its nearest existing parent."""
    node = root
    best = node.start_mark.line + 1 if node is not None else 1
    for part in loc:
        child = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == part:
                    best = key.start_mark.line + 1
                    child = value
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            child = node.value[part]
            best = child.start_mark.line + 1
        if child is None:
            break
        node = child
    return best


def _allowed_keys(parent_loc: tuple[Any, ...]) -> list[str]:
    model: type[BaseModel] = FileConfig
    for part in parent_loc:
        if isinstance(part, int):
            continue
        annotation = model.model_fields[str(part)].annotation
        inner = getattr(annotation, "__args__", (annotation,))
        nested = [t for t in inner if isinstance(t, type) and issubclass(t, BaseModel)]
        if not nested:
            return []
        model = nested[0]
    return sorted(info.alias or name for name, info in model.model_fields.items())


def read_sandbox_file(directory: Path) -> dict[str, dict[str, Any]]:
    """The URLs and credentials that `finsync sandbox` wrote for callers (one section per system)."""
    path = directory / SANDBOX_FILE
    if not path.exists():
        raise ConfigError(f"{path}: not found; start the sandboxes with `finsync sandbox --dir {directory}`")
    return json.loads(path.read_text(encoding="utf-8"))
