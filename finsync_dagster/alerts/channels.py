"""Delivering a notification: a Slack-compatible incoming webhook, and e-mail over SMTP.

Channels are built from ``alerts:`` in finsync.yaml and the environment variables it names; nothing secret
is in the file. A failed delivery raises :class:`DeliveryError`, whose message never holds the webhook URL
(it is a credential: anyone holding it can post) nor the SMTP password; the runner tries again next time.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Protocol

import httpx

from finsync_dagster.alerts.rules import Notification
from finsync_dagster.errors import ConfigError, FinsyncError
from finsync_dagster.masking import mask_text
from finsync_dagster.settings import AlertsConfig, SmtpConfig


class DeliveryError(FinsyncError):
    """A channel could not deliver; the notification stays due."""


class Channel(Protocol):
    name: str

    def send(self, notification: Notification) -> None: ...


def headline(notification: Notification) -> str:
    """One line saying what happened, for a chat message or a mail subject."""
    what = "RECOVERED" if notification.recovered else "ALERT"
    return f"[finsync] {what} {notification.rule.replace('_', ' ')}: {notification.subject}"


def body(notification: Notification) -> str:
    since = notification.since.strftime("%Y-%m-%d %H:%M:%S UTC")
    state = "recovered" if notification.recovered else "firing"
    return f"{mask_text(notification.summary)}\n{state} since {since}"


@dataclass
class SlackWebhook:
    """A Slack incoming webhook, or anything that takes Slack's ``{"text": ...}`` (Mattermost, Rocket.Chat)."""

    url: str = field(repr=False)
    timeout: float = 10.0
    transport: httpx.BaseTransport | None = field(default=None, repr=False)
    name: str = "slack"

    def send(self, notification: Notification) -> None:
        text = f"{'✅' if notification.recovered else '🔴'} {headline(notification)}\n{body(notification)}"
        try:
            with httpx.Client(timeout=self.timeout, transport=self.transport) as client:
                response = client.post(self.url, json={"text": text})
        except httpx.HTTPError as exc:
            raise DeliveryError(f"slack webhook: {type(exc).__name__}") from None
        if not response.is_success:
            raise DeliveryError(f"slack webhook answered HTTP {response.status_code}")


@dataclass
class SmtpEmail:
    config: SmtpConfig
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    name: str = "email"

    def send(self, notification: Notification) -> None:
        message = EmailMessage()
        message["Subject"] = headline(notification)
        message["From"] = self.config.from_
        message["To"] = ", ".join(self.config.to)
        message.set_content(body(notification) + "\n\n-- finsync alerts (finsync.yaml `alerts:`)\n")
        context = ssl.create_default_context()
        try:
            smtp: smtplib.SMTP
            if self.config.ssl:
                smtp = smtplib.SMTP_SSL(
                    self.config.host, self.config.port, timeout=self.config.timeout_seconds, context=context
                )
            else:
                smtp = smtplib.SMTP(self.config.host, self.config.port, timeout=self.config.timeout_seconds)
            with smtp:
                if self.config.starttls and not self.config.ssl:
                    smtp.starttls(context=context)
                if self.username is not None and self.password is not None:
                    smtp.login(self.username, self.password)
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(f"smtp {self.config.host}:{self.config.port}: {type(exc).__name__}") from None


def channels_from(
    config: AlertsConfig, env: Mapping[str, str], *, config_path: str = "finsync.yaml"
) -> list[Channel]:
    """The channels ``alerts:`` configures; a named variable that is unset is a clear error."""

    def read(variable: str, what: str) -> str:
        value = env.get(variable)
        if not value:
            raise ConfigError(
                f"{config_path}: alerts {what} names the environment variable {variable}, which is not set; "
                f"set it (or remove the setting)"
            )
        return value

    channels: list[Channel] = []
    if config.slack_webhook_url_env:
        channels.append(SlackWebhook(url=read(config.slack_webhook_url_env, "slack_webhook_url_env")))
    if config.smtp is not None:
        smtp = config.smtp
        username = read(smtp.username_env, "smtp.username_env") if smtp.username_env else None
        password = read(smtp.password_env, "smtp.password_env") if smtp.password_env else None
        channels.append(SmtpEmail(smtp, username=username, password=password))
    return channels
