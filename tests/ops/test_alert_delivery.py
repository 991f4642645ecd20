"""Alerts delivered for real: to a Slack-compatible incoming webhook (a Starlette app on loopback) and
to an SMTP server (aiosmtpd, with login), once when a condition starts firing, once when it recovers,
with no secret in any message."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import uvicorn
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from finsync_dagster.alerts import check_once
from finsync_dagster.cli import main
from finsync_dagster.ledger import Ledger
from finsync_dagster.settings import load_settings
from tests.ops.ledger_state import SECRET_VALUES

WEBHOOK_SECRET = "T000/B000/XXXXhooksecretXXXX"
SMTP_PASSWORD = "smtp-hunter2-password"


@dataclass
class SlackReceiver:
    url: str
    messages: list[str] = field(default_factory=list)
    fail: bool = False


@pytest.fixture
def slack() -> Iterator[SlackReceiver]:
    receiver = SlackReceiver(url="")

    async def hook(request: Request) -> PlainTextResponse:
        if receiver.fail:
            return PlainTextResponse("no_service", status_code=503)
        receiver.messages.append((await request.json())["text"])
        return PlainTextResponse("ok")

    app = Starlette(routes=[Route(f"/services/{WEBHOOK_SECRET}", hook, methods=["POST"])])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="error", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    receiver.url = f"http://127.0.0.1:{port}/services/{WEBHOOK_SECRET}"
    yield receiver
    server.should_exit = True
    thread.join(timeout=10)


@dataclass
class Mailbox:
    port: int
    messages: list[str] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox(port=0)

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            box.messages.append(envelope.content.decode("utf-8", "replace"))
            return "250 OK"

    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.password == SMTP_PASSWORD.encode()
        if ok:
            box.logins.append(auth_data.login.decode())
        return AuthResult(success=ok)

    # aiosmtpd checks its server by connecting to the port it was given, so it needs a real one.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        box.port = probe.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=box.port, authenticator=authenticate,
                            auth_require_tls=False)  # fmt: skip
    controller.start()
    yield box
    controller.stop()


@pytest.fixture
def alert_config(config: Path, mailbox: Mailbox) -> Path:
    config.write_text(
        config.read_text(encoding="utf-8")
        + f"""alerts:
  slack_webhook_url_env: TEST_SLACK_URL
  smtp:
    host: 127.0.0.1
    port: {mailbox.port}
    from: finsync@example.com
    to: [ops@example.com]
    starttls: false
    username_env: TEST_SMTP_USER
    password_env: TEST_SMTP_PASSWORD
  rules:
    dead_actions: 1
    dead_letter_growth: {{count: 3, window_minutes: 60}}
""",
        encoding="utf-8",
    )
    return config


def test_alerts_reach_slack_and_email_once_per_change_and_once_on_recovery(
    filled, alert_config: Path, slack: SlackReceiver, mailbox: Mailbox, monkeypatch, capsys
) -> None:
    ledger, _keys = filled
    env = {"TEST_SLACK_URL": slack.url, "TEST_SMTP_USER": "finsync", "TEST_SMTP_PASSWORD": SMTP_PASSWORD}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = load_settings(alert_config)

    first = check_once(settings, ledger)
    assert sorted(first.firing) == ["dead_actions acme", "dead_letter_growth acme"]
    assert (
        len(slack.messages) == 2 and len(mailbox.messages) == 2 and mailbox.logins == ["finsync", "finsync"]
    )
    assert all("ALERT" in m for m in slack.messages) and "3 dead action(s)" in "".join(slack.messages)

    # Nothing changed: nothing is sent again, from this process or from the command line.
    assert check_once(settings, ledger).delivered == []
    assert main(["--config", str(alert_config), "alerts", "check"]) == 0
    assert "firing: dead_actions acme, dead_letter_growth acme" in capsys.readouterr().out
    assert (len(slack.messages), len(mailbox.messages)) == (2, 2)

    # People fix the cause: the dead letters are retried. One recovery each, then silence.
    for letter in ledger.dead_letters(pair="acme"):
        assert ledger.retry_dead(letter["id"], by="ops") == "retried"
    recovered = check_once(settings, ledger)
    assert sorted((n.rule, n.state, c) for n, c in recovered.delivered) == [
        ("dead_actions", "ok", "email"), ("dead_actions", "ok", "slack"),
    ]  # fmt: skip
    assert "RECOVERED" in slack.messages[-1] and "RECOVERED" in mailbox.messages[-1]
    assert check_once(settings, ledger).delivered == []
    assert (len(slack.messages), len(mailbox.messages)) == (3, 3)

    everything = "\n".join(slack.messages + mailbox.messages)
    for secret in (*SECRET_VALUES, WEBHOOK_SECRET, SMTP_PASSWORD, "XXXXhooksecret"):
        assert secret not in everything


def test_a_channel_that_fails_is_tried_again_and_says_why_without_the_url(
    filled, alert_config: Path, slack: SlackReceiver, mailbox: Mailbox, monkeypatch, capsys
) -> None:
    ledger, _keys = filled
    monkeypatch.setenv("TEST_SLACK_URL", slack.url)
    monkeypatch.setenv("TEST_SMTP_USER", "finsync")
    monkeypatch.setenv("TEST_SMTP_PASSWORD", SMTP_PASSWORD)
    slack.fail = True
    assert main(["--config", str(alert_config), "alerts", "check"]) == 1
    out, err = capsys.readouterr()
    assert "not sent to slack" in out and "HTTP 503" in out and WEBHOOK_SECRET not in out + err
    assert len(mailbox.messages) == 2  # e-mail went; it is not sent again when Slack recovers
    slack.fail = False
    settings = load_settings(alert_config)
    again = check_once(settings, ledger)
    assert sorted(c for _n, c in again.delivered) == ["slack", "slack"]
    assert len(mailbox.messages) == 2 and len(slack.messages) == 2


def test_a_named_variable_that_is_unset_is_a_clear_error(
    filled, alert_config: Path, monkeypatch, capsys
) -> None:
    monkeypatch.delenv("TEST_SLACK_URL", raising=False)
    assert main(["--config", str(alert_config), "alerts", "check"]) == 1
    assert "names the environment variable TEST_SLACK_URL, which is not set" in capsys.readouterr().err


def test_alert_states_survive_in_the_ledger(filled, alert_config: Path, slack, mailbox, monkeypatch) -> None:
    ledger, _keys = filled
    for name, value in {
        "TEST_SLACK_URL": slack.url,
        "TEST_SMTP_USER": "u",
        "TEST_SMTP_PASSWORD": SMTP_PASSWORD,
    }.items():
        monkeypatch.setenv(name, value)
    check_once(load_settings(alert_config), ledger)
    reopened = Ledger(ledger.url)  # another process, a restart
    states = reopened.alert_states()
    assert states[("dead_actions", "acme")].notified == {"email": "firing", "slack": "firing"}
    assert check_once(load_settings(alert_config), reopened).delivered == []
    reopened.engine.dispose()
