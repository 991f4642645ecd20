"""Alerts: tell people, once, when something needs them, and once when it has recovered.

``rules`` is pure (observations -> conditions -> notifications due); ``channels`` delivers (a
Slack-compatible incoming webhook, SMTP e-mail); ``runner`` runs the cycle and keeps each alert's state in
the ledger, so a restart neither repeats nor forgets a notification.
"""

from finsync_dagster.alerts.channels import Channel, DeliveryError, SlackWebhook, SmtpEmail, channels_from
from finsync_dagster.alerts.rules import (
    RULES,
    Condition,
    Evaluation,
    Notification,
    Observations,
    conditions,
    evaluate,
)
from finsync_dagster.alerts.runner import CheckResult, check_once, run_forever

__all__ = [
    "RULES",
    "Channel",
    "CheckResult",
    "Condition",
    "DeliveryError",
    "Evaluation",
    "Notification",
    "Observations",
    "SlackWebhook",
    "SmtpEmail",
    "channels_from",
    "check_once",
    "conditions",
    "evaluate",
    "run_forever",
]
