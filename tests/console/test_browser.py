"""The console in a real headless browser (Debian's chromium, driven by Selenium through Debian's
chromedriver), on the demo business: the sandboxes with a hundred FreshBooks payments keyed a cent short
(so reconciliation proposes a hundred pairings for a person to confirm), and one ``finsync sync``.

A reviewer signs in and works through the hundred proposals (accept, reject, re-match, batch accept,
undo) within two minutes of script time, and the crosswalk and audit log change accordingly; dead letters
are retried with an edited payload and resolved; a mapping is built in the studio, previewed and saved,
and the saved spec passes ``finsync mapping check``. Screenshots land in ``$FINSYNC_SCREENSHOTS`` (default:
the test's temporary directory).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from click.testing import CliRunner
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.wait import WebDriverWait

from finsync_dagster.cli import cli
from finsync_dagster.console import ConsoleConfig, create_app
from finsync_dagster.console.server import running_console
from finsync_dagster.ledger import Ledger, Role, State
from finsync_dagster.ledger.outbox import EDITED
from finsync_dagster.mapping.registry import SPECS_DIR
from finsync_dagster.sandbox.runner import SandboxOptions, running_sandboxes
from finsync_dagster.settings import Settings, load_settings
from tests.console.test_dead_letters import dead

pytestmark = pytest.mark.slow
PAIR = "demo"
PASSWORD = "correct horse battery staple"
CENT_SHORT = 100  # FreshBooks payments keyed a cent short of their M3 receipt
CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")


@dataclass
class Demo:
    settings: Settings
    ledger: Ledger
    url: str
    specs_dir: Path
    shots: Path


def _freshbooks_token(http: httpx.Client, fb: dict[str, Any]) -> str:
    """An access token through the sandbox's auto-approving authorize page."""
    redirect = http.get(
        f"{fb['auth_url']}/oauth/authorize",
        params={"client_id": fb["client_id"], "response_type": "code", "redirect_uri": fb["redirect_uri"]},
    )
    code = parse_qs(urlsplit(redirect.headers["location"]).query)["code"][0]
    response = http.post(
        f"{fb['api_url']}/auth/oauth/token",
        data={"grant_type": "authorization_code", "code": code, "client_id": fb["client_id"],
              "client_secret": fb["client_secret"], "redirect_uri": fb["redirect_uri"]},
    )  # fmt: skip
    response.raise_for_status()
    return str(response.json()["access_token"])


def _key_payments_a_cent_short(sandbox: Path) -> None:
    fb = json.loads((sandbox / "sandbox.json").read_text(encoding="utf-8"))["freshbooks"]
    with httpx.Client(timeout=60) as http:
        http.put(f"{fb['api_url']}/sandbox/settings", json={"rate_limit_per_minute": 0}).raise_for_status()
        base = f"{fb['api_url']}/accounting/account/{fb['account_id']}/payments/payments"
        headers = {"Authorization": f"Bearer {_freshbooks_token(http, fb)}"}
        payments: list[dict[str, Any]] = []
        for page in (1, 2):
            listed = http.get(base, params={"per_page": 100, "page": page}, headers=headers)
            payments += listed.json()["response"]["result"]["payments"]
        for payment in payments[:CENT_SHORT]:
            amount = Decimal(payment["amount"]["amount"]) - Decimal("0.01")
            body = {"payment": {"amount": {"amount": str(amount), "code": payment["amount"]["code"]}}}
            http.put(f"{base}/{payment['id']}", json=body, headers=headers).raise_for_status()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    if not (CHROMIUM and CHROMEDRIVER):
        if os.environ.get("CI") == "true":
            pytest.fail("chromium and chromedriver are not installed; CI must install them")
        pytest.skip("chromium and chromedriver are not installed (apt-get install chromium chromium-driver)")
    root = tmp_path_factory.mktemp("console_demo")
    sandbox, home = root / "sandbox", root / "home"
    config = root / "finsync.yaml"
    config.write_text(f"pairs:\n  - name: {PAIR}\n    sandbox_dir: {sandbox}\n", encoding="utf-8")
    specs_dir = root / "specs"
    shutil.copytree(SPECS_DIR, specs_dir)
    shots = Path(os.environ.get("FINSYNC_SCREENSHOTS") or root / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    with pytest.MonkeyPatch.context() as patch, running_sandboxes(SandboxOptions(dir=sandbox, seed="demo")):
        patch.setenv("FINSYNC_HOME", str(home))
        patch.setenv("FINSYNC_CONFIG", str(config))
        patch.setenv("DAGSTER_HOME", str(home / "dagster"))
        patch.delenv("FINSYNC_LEDGER_URL", raising=False)
        (home / "dagster").mkdir(parents=True)
        _key_payments_a_cent_short(sandbox)
        result = CliRunner().invoke(
            cli, ["sync", "--pair", PAIR, "--sandbox", str(sandbox)], catch_exceptions=False
        )
        assert result.exit_code == 0, result.output
        settings = load_settings(config)
        ledger = Ledger(settings.ledger_url)
        ledger.migrate()
        ledger.add_user("rita", Role.REVIEWER, PASSWORD)
        ledger.add_user("ada", Role.ADMIN, PASSWORD)
        app = create_app(settings, ledger, ConsoleConfig(specs_dir=specs_dir))
        with running_console(app) as running:
            yield Demo(settings, ledger, running.url, specs_dir, shots)
        ledger.engine.dispose()


@pytest.fixture
def browser(demo: Demo) -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000"):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    driver.implicitly_wait(0)
    try:
        yield driver
    finally:
        driver.quit()


def _wait(driver: WebDriver, css: str, seconds: float = 20) -> WebElement:
    element: WebElement = WebDriverWait(driver, seconds).until(
        expected_conditions.presence_of_element_located((By.CSS_SELECTOR, css))
    )
    return element


def _click_and_load(driver: WebDriver, element: WebElement) -> None:
    """Click something that submits or navigates, and wait for the next page."""
    old = driver.find_element(By.TAG_NAME, "html")
    element.click()
    WebDriverWait(driver, 30).until(expected_conditions.staleness_of(old))


def _sign_in(driver: WebDriver, demo: Demo, name: str) -> None:
    driver.get(f"{demo.url}/review?pair={PAIR}")
    _wait(driver, "#username").send_keys(name)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    _click_and_load(driver, driver.find_element(By.ID, "sign-in"))
    assert (
        driver.find_element(By.ID, "signed-in-as").text
        == f"{name} ({'reviewer' if name == 'rita' else 'admin'})"
    )


def _confirmed(demo: Demo) -> set[tuple[str, str]]:
    return {
        (r["freshbooks_id"], r["infor_id"])
        for r in demo.ledger.links(PAIR, "payments")
        if r["origin"] == "confirmed" and r["created_by"] == "rita"
    }


def _cards(driver: WebDriver) -> list[WebElement]:
    return driver.find_elements(By.CSS_SELECTOR, "article.card")


def test_a_reviewer_works_through_a_hundred_proposals(browser: WebDriver, demo: Demo) -> None:
    driver = browser
    _sign_in(driver, demo, "rita")
    proposals = driver.find_element(By.ID, "tab-review").text
    assert proposals == f"For review ({CENT_SHORT})", proposals
    started = time.monotonic()

    # Accept the first proposal: both payments side by side, the amount highlighted.
    first = _cards(driver)[0]
    assert first.find_element(By.CSS_SELECTOR, 'tr.diff[data-field="amount"]')
    accepted = (first.get_attribute("data-freshbooks"), first.get_attribute("data-infor"))
    driver.save_screenshot(str(demo.shots / "console-review.png"))
    _click_and_load(driver, first.find_element(By.CSS_SELECTOR, "button.accept"))
    assert accepted in _confirmed(demo)

    # Reject the next: it is not offered again.
    second = _cards(driver)[0]
    rejected = (second.get_attribute("data-freshbooks"), second.get_attribute("data-infor"))
    _click_and_load(driver, second.find_element(By.CSS_SELECTOR, "button.reject"))
    assert rejected not in _confirmed(demo)

    # Re-match the next by searching M3 for the amount it shows, and pair it with what the search finds.
    third = _cards(driver)[0]
    third_ids = (third.get_attribute("data-freshbooks"), third.get_attribute("data-infor"))
    amount = third.find_element(By.CSS_SELECTOR, 'tr[data-field="amount"] td:nth-child(3)').text
    _click_and_load(driver, third.find_element(By.CSS_SELECTOR, "a.rematch"))
    query = driver.find_element(By.ID, "rematch-query")
    query.clear()
    query.send_keys(amount)
    _click_and_load(driver, driver.find_element(By.ID, "rematch-search"))
    candidate = _wait(driver, f'#candidates tr[data-id="{third_ids[1]}"]')
    driver.save_screenshot(str(demo.shots / "console-rematch.png"))
    _click_and_load(driver, candidate.find_element(By.CSS_SELECTOR, "button.pair-with"))
    assert third_ids in _confirmed(demo)

    # Batch-accept the rest, a page at a time.
    while driver.find_elements(By.ID, "select-all"):
        driver.find_element(By.ID, "select-all").click()
        _click_and_load(driver, driver.find_element(By.ID, "accept-selected"))
    assert driver.find_elements(By.ID, "queue-empty")
    assert len(_confirmed(demo)) == CENT_SHORT - 1

    # Undo the first accept in this session: unlinked, and back in the queue.
    _click_and_load(driver, driver.find_element(By.ID, "tab-session"))
    decisions = driver.find_elements(By.CSS_SELECTOR, "#decisions tr[data-decision]")
    assert len(decisions) == CENT_SHORT  # 99 accepted, 1 rejected
    oldest = decisions[-1]
    assert oldest.find_element(By.CSS_SELECTOR, "td:nth-child(2)").text == "accepted"
    _click_and_load(driver, oldest.find_element(By.CSS_SELECTOR, "button.undo"))
    assert accepted not in _confirmed(demo)
    _click_and_load(driver, driver.find_element(By.ID, "tab-review"))
    assert driver.find_element(By.ID, "tab-review").text == "For review (1)"
    elapsed = time.monotonic() - started
    driver.get(demo.url + "/")
    driver.save_screenshot(str(demo.shots / "console-pairs.png"))

    audit = [r for r in demo.ledger.audit_rows(pair=PAIR) if r["call"].startswith("review ")]
    assert {r["actor"] for r in audit} == {"rita"}
    outcomes = [r["outcome"] for r in audit]
    assert outcomes.count("accepted") == CENT_SHORT - 1 and outcomes.count("rejected") == 1
    assert outcomes.count("undone") == 1
    print(f"reviewed {CENT_SHORT} proposals in {elapsed:.1f} s of script time")
    assert elapsed < 120, f"reviewing {CENT_SHORT} proposals took {elapsed:.0f} s"


def test_dead_letters_are_retried_with_an_edited_payload_and_resolved(browser: WebDriver, demo: Demo) -> None:
    letters = [dead(demo.ledger, f"B{n}", message="email is invalid", pair=PAIR) for n in range(3)]
    driver = browser
    _sign_in(driver, demo, "rita")
    driver.get(f"{demo.url}/dead-letters?pair={PAIR}")
    group = _wait(driver, "section.group")
    assert group.find_element(By.CSS_SELECTOR, ".count").text == "3"
    first = driver.find_element(By.CSS_SELECTOR, f'details[data-letter="{letters[0]}"]')
    area = first.find_element(By.CSS_SELECTOR, "textarea[name=payload]")
    fixed = {"client": {"organization": "Customer B0", "email": "ap@b0.example"}}
    area.clear()
    area.send_keys(json.dumps(fixed))
    driver.save_screenshot(str(demo.shots / "console-dead-letters.png"))
    _click_and_load(driver, first.find_element(By.CSS_SELECTOR, "button.retry-one"))
    assert "retried" in driver.find_element(By.CSS_SELECTOR, ".flash").text
    retried = demo.ledger.action(demo.ledger.dead_letter(letters[0])["action_key"])  # type: ignore[index]
    assert (
        retried is not None
        and retried.state == State.PLANNED
        and retried.payload == {**fixed, EDITED: "rita"}
    )

    second = driver.find_element(By.CSS_SELECTOR, f'details[data-letter="{letters[1]}"]')
    if second.get_attribute("open") is None:
        second.find_element(By.TAG_NAME, "summary").click()
    second.find_element(By.CSS_SELECTOR, "form.resolve input[name=reason]").send_keys("customer left")
    _click_and_load(driver, second.find_element(By.CSS_SELECTOR, "button.resolve-one"))
    assert demo.ledger.dead_letter(letters[1])["resolution"] == "resolved"  # type: ignore[index]

    group = driver.find_element(By.CSS_SELECTOR, "section.group")
    group.find_element(By.CSS_SELECTOR, ".group-actions input[name=reason]").send_keys("test data")
    _click_and_load(driver, group.find_element(By.CSS_SELECTOR, "button.group-resolve"))
    assert driver.find_elements(By.ID, "no-dead-letters")
    assert demo.ledger.dead_letters(pair=PAIR) == []
    calls = [
        (r["call"], r["actor"]) for r in demo.ledger.audit_rows(pair=PAIR) if r["call"].startswith("dlq")
    ]
    assert calls == [("dlq retry (payload edited)", "rita"), ("dlq resolve", "rita"), ("dlq resolve", "rita")]


def test_a_mapping_is_built_previewed_and_saved_in_the_studio(browser: WebDriver, demo: Demo) -> None:
    driver = browser
    _sign_in(driver, demo, "ada")
    driver.get(f"{demo.url}/mapping")
    Select(_wait(driver, "#new-target")).select_by_value("CRS610MI/Add")
    Select(driver.find_element(By.ID, "new-source")).select_by_value("core.customers")
    Select(driver.find_element(By.ID, "new-pair")).select_by_value(PAIR)
    driver.find_element(By.ID, "new-name").send_keys("m3_customer_add_studio")
    _click_and_load(driver, driver.find_element(By.ID, "start-mapping"))
    _wait(driver, "#preview-table")  # suggestions applied, previewed on the demo's staged customers

    def rule(field: str, kind: str, **inputs: str) -> None:
        row = driver.find_element(By.CSS_SELECTOR, f'tr.field[data-field="{field}"]')
        Select(row.find_element(By.CSS_SELECTOR, "select.kind")).select_by_value(kind)
        for name, value in inputs.items():
            box = row.find_element(By.NAME, f"{name}.{field}")
            if box.tag_name == "select":
                Select(box).select_by_value(value)
            else:
                box.clear()
                box.send_keys(value)

    previewed = int(driver.find_element(By.ID, "studio-form").get_attribute("data-previewed") or 0)
    rule("CUNO", "concat", concat='"FB", source_id', separator="")
    rule("CUTM", "value", value="TSTD")
    rule("STAT", "value", value="20")
    rule("YREF", "split", split_from="name", split_part="first")
    rule("CUA1", "from")
    Select(driver.find_element(By.NAME, "from.CUA1")).select_by_value("address_line1")
    Select(driver.find_element(By.NAME, "filter_field")).select_by_value("source")
    driver.find_element(By.NAME, "filter_value").send_keys("freshbooks")
    WebDriverWait(driver, 30).until(
        lambda d: (
            int(d.find_element(By.ID, "studio-form").get_attribute("data-previewed") or 0) > previewed
            and "accepts this spec" in d.find_element(By.ID, "spec-status").text
        )
    )
    WebDriverWait(driver, 30).until(lambda d: "FB" in d.find_element(By.ID, "preview-table").text)
    driver.save_screenshot(str(demo.shots / "console-studio.png"))
    driver.execute_script("document.getElementById('preview-panel').scrollIntoView()")
    driver.save_screenshot(str(demo.shots / "console-studio-preview.png"))
    _click_and_load(driver, driver.find_element(By.ID, "save-button"))
    flash = driver.find_element(By.CSS_SELECTOR, ".flash-ok").text
    assert "core_to_m3/m3_customer_add_studio.yaml, version 1" in flash
    result = CliRunner().invoke(
        cli, ["mapping", "check", "--specs", str(demo.specs_dir)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert "m3_customer_add_studio v1 (core.customers -> m3:CRS610MI/Add)" in result.output
