"""The console gives nothing to a stranger, acts only on requests from its own pages, lets each role do
only its part, never shows a secret, and shows record text as text.

Every route the app declares is walked (not a hand-made list), so a page or an action added later is held
to the same rules.
"""

from __future__ import annotations

import httpx
import pytest
from starlette.routing import Route

from finsync_dagster.console.app import routes
from finsync_dagster.ledger import Ledger
from tests.console.conftest import HOSTILE, PAIR, PASSWORD, ConsoleWorld, csrf_of, sign_in

_PARAMS = {"pair": PAIR, "run": "20261101T000000Z-run-0001", "name": "report.html"}


def _paths(methods: set[str]) -> list[str]:
    found = []
    for route in routes():
        if isinstance(route, Route) and (route.methods or set()) & methods and route.path != "/login":
            found.append(route.path.format(**_PARAMS))
    return sorted(set(found))


GET_PATHS = _paths({"GET"})
POST_PATHS = _paths({"POST"})


def test_every_route_is_listed() -> None:
    assert "/review" in GET_PATHS and "/dead-letters" in GET_PATHS and "/mapping/studio" in GET_PATHS
    assert "/review/accept" in POST_PATHS and "/mapping/save" in POST_PATHS and "/logout" in POST_PATHS


@pytest.mark.parametrize("path", GET_PATHS)
def test_a_page_without_a_session_is_the_sign_in_page_or_401(shared_client: httpx.Client, path: str) -> None:
    app_client = shared_client
    response = app_client.get(path)
    if path.startswith("/api/"):
        assert response.status_code == 401
        assert response.json() == {"error": "sign in first"}
    else:
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login?next=")
        page = app_client.get(response.headers["location"])
        assert page.status_code == 200 and 'id="sign-in"' in page.text
    assert "Nordlys" not in response.text and PAIR not in response.text


@pytest.mark.parametrize("path", POST_PATHS)
def test_an_action_without_a_session_is_refused(
    shared_client: httpx.Client, shared_world: ConsoleWorld, path: str
) -> None:
    app_client, world = shared_client, shared_world
    response = app_client.post(
        path, data={"pair": PAIR, "entity": "customers", "freshbooks_id": "11", "infor_id": "C11"}
    )
    assert response.status_code == 401
    assert world.ledger.links(PAIR) == [] and world.ledger.audit_rows() == []


@pytest.mark.parametrize("token", [None, "forged-token"], ids=["no token", "wrong token"])
@pytest.mark.parametrize("path", POST_PATHS)
def test_an_action_without_the_sessions_csrf_token_is_refused(
    shared_client: httpx.Client, shared_world: ConsoleWorld, path: str, token: str | None
) -> None:
    app_client, world = shared_client, shared_world
    sign_in(app_client, "ada")
    data = {"pair": PAIR, "entity": "customers", "freshbooks_id": "11", "infor_id": "C11", "id": "1"}
    if token is not None:
        data["csrf_token"] = token
    response = app_client.post(path, data=data)
    assert response.status_code == 403
    assert world.ledger.links(PAIR) == [] and world.ledger.audit_rows() == []
    assert app_client.get("/").status_code == 200  # still signed in: the refusal did not log anyone out


def test_the_token_of_another_session_is_refused(app_client: httpx.Client, console_url: str) -> None:
    with httpx.Client(base_url=console_url, follow_redirects=False) as other:
        stolen = sign_in(other, "rita")
    sign_in(app_client, "ada")
    response = app_client.post(
        "/review/accept",
        data={
            "csrf_token": stolen,
            "pair": PAIR,
            "entity": "customers",
            "freshbooks_id": "11",
            "infor_id": "C11",
        },
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    "path",
    ["/review/accept", "/review/reject", "/review/batch-accept", "/review/ignore", "/review/undo",
     "/review/create", "/dead-letters/retry", "/dead-letters/resolve", "/dead-letters/group", "/mapping/save"],
)  # fmt: skip
def test_a_viewer_cannot_act(shared_client: httpx.Client, shared_world: ConsoleWorld, path: str) -> None:
    app_client, world = shared_client, shared_world
    token = sign_in(app_client, "vic")
    response = app_client.post(
        path,
        data={"csrf_token": token, "pair": PAIR, "entity": "customers", "freshbooks_id": "11", "infor_id": "C11",
              "reason": "x", "id": "1", "do": "resolve", "pattern": "x", "key": '["customers","11","C11"]'},
    )  # fmt: skip
    assert response.status_code == 403
    assert "needs the" in response.text
    assert world.ledger.links(PAIR) == [] and world.ledger.decisions(PAIR) == []


def test_a_viewer_sees_no_action_buttons(shared_client: httpx.Client) -> None:
    app_client = shared_client
    sign_in(app_client, "vic")
    page = app_client.get(f"/review?pair={PAIR}").text
    assert "Nordlys" in page
    assert 'action="/review/accept"' not in page and 'id="accept-selected"' not in page


def test_a_reviewer_cannot_save_a_mapping_spec(app_client: httpx.Client, world: ConsoleWorld) -> None:
    token = sign_in(app_client, "rita")
    before = sorted(p.name for p in world.specs_dir.rglob("*.yaml"))
    response = app_client.post(
        "/mapping/save",
        data={"csrf_token": token, "name": "m3_customer_add_copy", "source": "core.customers",
              "target": "CRS610MI/Add", "kind.CUNO": "from", "from.CUNO": "source_id"},
    )  # fmt: skip
    assert response.status_code == 403
    assert sorted(p.name for p in world.specs_dir.rglob("*.yaml")) == before


def test_sign_in_needs_the_forms_token(app_client: httpx.Client) -> None:
    app_client.get("/login")
    response = app_client.post("/login", data={"username": "ada", "password": PASSWORD})
    assert response.status_code == 403
    assert "finsync_session" not in response.cookies


def test_session_cookie_is_httponly_and_samesite(app_client: httpx.Client) -> None:
    page = app_client.get("/login")
    response = app_client.post(
        "/login", data={"username": "ada", "password": PASSWORD, "csrf_token": csrf_of(page.text)}
    )
    cookie = next(
        v for k, v in response.headers.multi_items() if k == "set-cookie" and "finsync_session" in v
    )
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
    assert "Secure" not in cookie  # served over plain http on loopback; https adds Secure


def test_secure_cookie_behind_an_https_proxy(app_client: httpx.Client) -> None:
    page = app_client.get("/login")
    response = app_client.post(
        "/login",
        data={"username": "ada", "password": PASSWORD, "csrf_token": csrf_of(page.text)},
        headers={"X-Forwarded-Proto": "https"},
    )
    cookie = next(
        v for k, v in response.headers.multi_items() if k == "set-cookie" and "finsync_session" in v
    )
    assert "Secure" in cookie


def test_sign_out_ends_the_session(app_client: httpx.Client) -> None:
    token = sign_in(app_client, "ada")
    cookie = app_client.cookies.get("finsync_session")
    assert app_client.post("/logout", data={"csrf_token": token}).status_code == 303
    app_client.cookies.set("finsync_session", cookie or "")  # a copy of the cookie kept by someone
    assert app_client.get("/").status_code == 303


def test_a_removed_user_is_out_at_once(app_client: httpx.Client, world: ConsoleWorld) -> None:
    sign_in(app_client, "rita")
    world.ledger.remove_user("rita")
    assert app_client.get("/").status_code == 303


def test_sign_in_attempts_are_limited_per_user_and_per_address(app_client: httpx.Client) -> None:
    def attempt(name: str, password: str) -> httpx.Response:
        page = app_client.get("/login")
        return app_client.post(
            "/login", data={"username": name, "password": password, "csrf_token": csrf_of(page.text)}
        )

    for _ in range(5):
        assert attempt("rita", "wrong password!").status_code == 401
    locked = attempt("rita", PASSWORD)
    assert locked.status_code == 429 and "Too many failed attempts" in locked.text
    assert attempt("ada", PASSWORD).status_code == 303  # another name from the same address still may
    app_client.cookies.clear()
    for n in range(20):
        attempt(f"guess{n}", "wrong password!")
    assert attempt("vic", PASSWORD).status_code == 429  # the address has guessed too often


def test_an_unknown_user_is_told_the_same_as_a_wrong_password(app_client: httpx.Client) -> None:
    page = app_client.get("/login")
    unknown = app_client.post(
        "/login", data={"username": "nobody", "password": "x" * 12, "csrf_token": csrf_of(page.text)}
    )
    wrong = app_client.post(
        "/login", data={"username": "ada", "password": "x" * 12, "csrf_token": csrf_of(page.text)}
    )
    assert unknown.status_code == wrong.status_code == 401
    assert "Wrong user name or password." in unknown.text and "Wrong user name or password." in wrong.text


def test_sign_in_never_redirects_to_another_site(app_client: httpx.Client) -> None:
    page = app_client.get("/login")
    response = app_client.post(
        "/login",
        data={
            "username": "ada",
            "password": PASSWORD,
            "csrf_token": csrf_of(page.text),
            "next": "//evil.example/x",
        },
    )
    assert response.headers["location"] == "/"


def test_record_text_with_markup_is_shown_as_text(shared_client: httpx.Client) -> None:
    app_client = shared_client
    sign_in(app_client, "ada")
    page = app_client.get(f"/review?pair={PAIR}&tab=exceptions").text
    assert HOSTILE not in page and "<script>alert" not in page
    assert "&lt;script&gt;alert(&#34;owned&#34;)&lt;/script&gt; &amp; Co" in page
    assert "script-src 'self'" in app_client.get("/").headers["content-security-policy"]


def test_no_secret_appears_in_any_page(world: ConsoleWorld, console_url: str) -> None:
    """The sandbox's client secret and tokens, and the ledger's password, never reach a page."""
    secrets = {
        "client_secret": "cs_SANDBOX_CLIENT_SECRET_7f3a9",
        "access_token": "at_LIVE_ACCESS_TOKEN_19d2c",
        "refresh_token": "rt_REFRESH_TOKEN_55e10",
        "ledger_password": "pg-ledger-pass-0a1b2c",
    }
    ledger = world.ledger
    ledger.save_token(
        "freshbooks", PAIR, access_token=secrets["access_token"], refresh_token=secrets["refresh_token"],
        expires_at=None,
    )  # fmt: skip
    _dead_letter_with_secrets(ledger, secrets)
    with httpx.Client(base_url=console_url, follow_redirects=True) as client:
        sign_in(client, "ada")
        pages = [client.get(path).text for path in GET_PATHS if "{" not in path]
        pages.append(client.get(f"/review?pair={PAIR}&tab=exceptions").text)
        pages.append(client.get("/dead-letters?show=open").text)
    everything = "\n".join(pages)
    assert "Bearer ***" in everything  # the dead letter is there, masked
    for name, value in secrets.items():
        assert value not in everything, f"{name} is on a page"


def _dead_letter_with_secrets(ledger: Ledger, secrets: dict[str, str]) -> None:
    from finsync_dagster.ledger import Outcome, PlannedAction, State

    ledger.plan(
        [PlannedAction(PAIR, "freshbooks.client.create", "freshbooks", "customers", "infor", "C11", "v1",
                       {"client": {"organization": "Nordlys Fisk"}})]
    )  # fmt: skip
    (action,) = ledger.claim(pair=PAIR, target="freshbooks", owner="test")
    ledger.finish(
        action,
        Outcome(
            State.DEAD,
            error="422 organization is invalid",
            error_class="ValidationError",
            request={
                "url": "/accounting/account/x/users/clients",
                "headers": {"Authorization": f"Bearer {secrets['access_token']}"},
                "client_secret": secrets["client_secret"],
                "body": {
                    "refresh_token": secrets["refresh_token"],
                    "note": f"Bearer {secrets['access_token']}",
                },
            },
            response={"errors": [{"message": "invalid"}], "password": secrets["ledger_password"]},
        ),
    )


def test_the_app_refuses_to_start_with_an_action_that_skips_the_csrf_check() -> None:
    from starlette.responses import PlainTextResponse

    from finsync_dagster.console.app import _require_csrf

    async def careless(request: object) -> PlainTextResponse:
        return PlainTextResponse("done")

    with pytest.raises(RuntimeError, match="does not check the CSRF token"):
        _require_csrf([*routes(), Route("/careless", careless, methods=["POST"])])
