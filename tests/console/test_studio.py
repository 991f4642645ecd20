"""The mapping studio: a new spec starts from ranked suggestions, problems are shown beside their field,
the preview runs on the pair's staged rows with per-row rejects, and saving writes only what
``finsync mapping check`` accepts, as a new version of the file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import yaml
from click.testing import CliRunner

from finsync_dagster.cli import cli
from finsync_dagster.console import ConsoleConfig, create_app, studio
from finsync_dagster.console.server import running_console
from finsync_dagster.contracts.fields import TableSchema
from finsync_dagster.mapping.targets import source_schema_of, target_schema_of
from finsync_dagster.pairlock import hold_pair
from tests.console.conftest import PAIR, ConsoleWorld, build_world, sign_in

NEW = {"target": "CRS610MI/Add", "source": "core.customers", "pair": PAIR, "name": "m3_customer_add_nordic"}


def valid_form(token: str, **changes: str) -> dict[str, str]:
    form = {
        "csrf_token": token, "pair": PAIR, "name": NEW["name"], "source": "core.customers", "target": "CRS610MI/Add",
        "description": "Nordic customers into M3",
        "filter_field": "source", "filter_op": "equals", "filter_value": "freshbooks",
        "kind.CUNO": "concat", "concat.CUNO": '"FB", source_id', "separator.CUNO": "",
        "kind.CUTM": "value", "value.CUTM": "TSTD",
        "kind.CUNM": "from", "from.CUNM": "name", "truncate.CUNM": "on",
        "kind.CUA1": "yaml", "yaml.CUA1": "{coalesce: [address_line1, city]}",
        "kind.TOWN": "from", "from.TOWN": "city",
        "kind.MAIL": "from", "from.MAIL": "email",
        "kind.CSCD": "lookup", "lookup.CSCD": "country", "lookup_from.CSCD": "country_code",
        "kind.YREF": "split", "split_from.YREF": "name", "split_separator.YREF": " ", "split_part.YREF": "first",
        "kind.STAT": "when", "when_field.STAT": "email", "when_op.STAT": "is_null", "when_value.STAT": "true",
        "when_then.STAT": '"90"', "when_else.STAT": '"20"',
    }  # fmt: skip
    form.update(changes)
    return form


def mapping_check(world: ConsoleWorld) -> tuple[int, str]:
    """``finsync mapping check`` as a person runs it, with the world's finsync.yaml (and its own specs)."""
    result = CliRunner().invoke(
        cli,
        ["--config", str(world.settings.config_path), "mapping", "check", "--specs", str(world.specs_dir)],
        catch_exceptions=False,
    )
    return result.exit_code, result.output


def test_a_new_spec_starts_from_ranked_suggestions_and_previews_on_staged_rows(
    app_client: httpx.Client,
) -> None:
    sign_in(app_client, "ada")
    page = app_client.get("/mapping/studio", params=NEW).text
    assert 'name="kind.MAIL"' in page and '<option value="email" selected>email · 0.' in page
    assert 'name="kind.TOWN"' in page and '<option value="city" selected>city · 0.' in page
    assert 'id="preview-table"' in page and "Nordlys Fisk AS" in page  # rows from acme's warehouse
    assert "new spec, saved as <code>core_to_m3/m3_customer_add_nordic.yaml</code>" in page


def test_problems_are_shown_beside_their_field(app_client: httpx.Client) -> None:
    token = sign_in(app_client, "ada")
    form = valid_form(token, **{"from.TOWN": "no_such_column", "kind.CUNM": ""})
    result = app_client.post("/mapping/preview", data=form).json()
    assert any("no_such_column" in m for m in result["problems"]["TOWN"])
    assert any("CUNM" in m and "required" in m for m in result["problems"][""])
    assert result["valid"] is False


def test_the_preview_shows_each_rows_reject(app_client: httpx.Client) -> None:
    token = sign_in(app_client, "ada")
    form = valid_form(token, **{"kind.CUA1": "from", "from.CUA1": "address_line1", "filter_field": ""})
    result = app_client.post("/mapping/preview", data=form).json()
    assert result["valid"] is True
    panel = result["panel"]
    assert panel.count('class="rejected"') == 3 and "CUA1" in panel and "required" in panel
    assert "&lt;script&gt;" in panel and "<script>alert" not in panel


def test_saving_writes_a_spec_that_mapping_check_accepts(
    app_client: httpx.Client, world: ConsoleWorld
) -> None:
    token = sign_in(app_client, "ada")
    response = app_client.post("/mapping/save", data=valid_form(token))
    assert response.status_code == 303, response.text
    path = world.specs_dir / "core_to_m3" / "m3_customer_add_nordic.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert doc["version"] == 1 and doc["target"] == {"m3": "CRS610MI/Add"}
    assert doc["fields"]["CUNO"] == {"concat": [{"value": "FB"}, "source_id"], "separator": ""}
    assert doc["fields"]["CSCD"] == {"lookup": {"table": "country", "from": "country_code"}}
    assert doc["lookups"]["country"]["csv"] == "../lookups/country_codes.csv"
    assert doc["fields"]["STAT"]["when"][0]["if"] == {"field": "email", "is_null": True}
    assert doc["filter"] == {"field": "source", "equals": "freshbooks"}
    code, output = mapping_check(world)
    assert code == 0, output
    assert "m3_customer_add_nordic v1" in output
    (row,) = [r for r in world.ledger.audit_rows() if r["call"].startswith("mapping save")]
    assert (row["call"], row["actor"]) == ("mapping save m3_customer_add_nordic v1", "ada")
    again = app_client.get(response.headers["location"]).text
    assert "editing <code>core_to_m3/m3_customer_add_nordic.yaml</code>, version 1" in again


def test_an_invalid_spec_is_not_written(app_client: httpx.Client, world: ConsoleWorld) -> None:
    token = sign_in(app_client, "ada")
    response = app_client.post("/mapping/save", data=valid_form(token, **{"kind.CUNM": ""}))
    assert response.status_code == 422
    assert not (world.specs_dir / "core_to_m3" / "m3_customer_add_nordic.yaml").exists()
    taken = app_client.post("/mapping/save", data=valid_form(token, name="m3_customer_add"))
    assert taken.status_code == 422 and "is taken by core_to_m3/customers_crs610mi_add.yaml" in taken.text


def test_an_existing_spec_opens_and_saves_as_its_next_version(
    app_client: httpx.Client, world: ConsoleWorld
) -> None:
    sign_in(app_client, "ada")
    page = app_client.get("/mapping/studio", params={"spec": "m3_customer_add", "pair": PAIR}).text
    assert "editing <code>core_to_m3/customers_crs610mi_add.yaml</code>, version 1" in page
    assert "{when: [{if: {field: region" in page  # a rule the form has no shape for, kept as YAML
    form = _form_fields(page)
    response = app_client.post("/mapping/save", data=form)
    assert response.status_code == 303, response.text
    doc = yaml.safe_load(
        (world.specs_dir / "core_to_m3" / "customers_crs610mi_add.yaml").read_text(encoding="utf-8")
    )
    assert doc["version"] == 2 and doc["fields"]["CUTM"] == {"from": "customer_template", "default": "TSTD"}
    code, output = mapping_check(world)
    assert code == 0, output


def test_a_sync_holding_the_pair_makes_the_studio_say_so(
    app_client: httpx.Client, world: ConsoleWorld
) -> None:
    token = sign_in(app_client, "ada")
    with hold_pair(world.home, PAIR, what="finsync sync", wait_seconds=0):
        result = app_client.post("/mapping/preview", data=valid_form(token, source="core.payments")).json()
    assert "a sync of pair acme is running" in result["panel"]


def _form_fields(page: str) -> dict[str, Any]:
    """What the browser would post from the studio form, read back from the page."""
    import re
    from html import unescape

    fields: dict[str, Any] = {}
    for name, value in re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page):
        fields[name] = unescape(value)
    for name, body in re.findall(r'<textarea name="([^"]+)"[^>]*>(.*?)</textarea>', page, re.S):
        fields[name] = unescape(body)
    for name, body in re.findall(r'<select name="([^"]+)"[^>]*>(.*?)</select>', page, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', body)
        fields[name] = unescape(chosen.group(1)) if chosen else ""
    for name in re.findall(r'<input type="checkbox" name="([^"]+)" checked', page):
        fields[name] = "on"
    return fields


def test_the_form_and_the_document_agree() -> None:
    """A spec read into the form and written back means the same spec."""
    target_ref, target = target_schema_of("freshbooks.clients")
    source, _ = source_schema_of(None, "core.customers")
    state = studio.StudioState(name="x", source="core.customers", target="freshbooks.clients")
    state.fields["organization"] = studio.FieldRule("from", {"from": "name"}, truncate=True)
    state.fields["fname"] = studio.FieldRule(
        "split", {"split_from": "name", "split_separator": " ", "split_part": "2"}
    )
    doc, problems = studio.document(state, target_ref, target, source, {}, Path("/specs/core_to_freshbooks"))
    assert problems == {}
    assert doc["fields"] == {
        "organization": {"from": "name", "on_overflow": "truncate"},
        "fname": {"split": {"from": "name", "separator": " ", "part": 2}},
    }
    assert isinstance(target, TableSchema)


def test_with_a_team_folder_a_shipped_spec_is_saved_there_and_replaces_the_shipped_one(
    tmp_path: Path, acme_reports: Path
) -> None:
    world = build_world(tmp_path, acme_reports, own_specs=True)
    own = tmp_path / "own-specs"
    shipped = world.specs_dir / "core_to_freshbooks" / "clients.yaml"
    before = shipped.read_text(encoding="utf-8")
    app = create_app(world.settings, world.ledger, ConsoleConfig(specs_dir=world.specs_dir))
    with running_console(app) as running, httpx.Client(base_url=running.url) as client:
        sign_in(client, "ada")
        page = client.get("/mapping/studio", params={"spec": "freshbooks_client_payload", "pair": PAIR}).text
        assert "shipped with finsync (saving writes version 2 into your team's folder" in page
        response = client.post("/mapping/save", data=_form_fields(page), follow_redirects=False)
        assert response.status_code == 303, response.text
        mine = own / "core_to_freshbooks" / "clients.yaml"
        doc = yaml.safe_load(mine.read_text(encoding="utf-8"))
        assert doc["version"] == 2 and shipped.read_text(encoding="utf-8") == before
        assert (mine.parent / doc["lookups"]["country_name"]["csv"]).resolve() == (
            world.specs_dir / "lookups" / "country_names.csv"
        ).resolve()
        listed = client.get("/mapping").text
        assert "your team&#39;s" in listed
        code, output = mapping_check(world)
        assert code == 0, output
        assert "freshbooks_client_payload v2" in output and "freshbooks_client_payload v1" not in output
        traversal = client.post(
            "/mapping/save", data={**_form_fields(page), "path": "../../escaped.yaml"}, follow_redirects=False
        )
        assert traversal.status_code == 400
        assert not (tmp_path / "escaped.yaml").exists() and not (own.parent / "escaped.yaml").exists()
    world.ledger.engine.dispose()
