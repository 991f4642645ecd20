"""The mapping studio, the low-code face of the mapping specs: pick a target, choose each field's source
from ranked suggestions (or a constant, concatenation, split, lookup or condition), see the problems
inline and a live preview on staged rows with the per-row rejects, and save a new version of the YAML."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from finsync_dagster.console import studio
from finsync_dagster.console.auth import action, page
from finsync_dagster.console.staged import SampleUnavailable, sample_connection
from finsync_dagster.console.studio import KINDS, OPERATORS, TOP, KnownLookup, PathError, Roots, StudioState
from finsync_dagster.console.web import Console, audit, console_of, current, flash, render, see_other
from finsync_dagster.contracts.fields import TableSchema
from finsync_dagster.errors import FinsyncError
from finsync_dagster.ledger import Role
from finsync_dagster.mapping.engine import preview as preview_rows
from finsync_dagster.mapping.registry import parse_all
from finsync_dagster.mapping.suggest.profile import profile_table
from finsync_dagster.mapping.targets import source_schema_of, sources, target_schema_of, targets

PREVIEW_ROWS = 10


@dataclass
class Evaluation:
    state: StudioState
    target_ref: dict[str, str]
    target: TableSchema
    source: TableSchema
    ranked: dict[str, list[tuple[str, float, str]]]
    lookups: dict[str, KnownLookup]
    path: Path
    text: str = ""
    problems: dict[str, list[str]] = field(default_factory=dict)
    preview: list[tuple[dict[str, Any], dict[str, Any] | None, str]] = field(default_factory=list)
    sample_note: str | None = None
    valid: bool = False
    saves_elsewhere: bool = False  # an opened shipped spec is saved into the team's folder


@contextlib.contextmanager
def _sample(
    console: Console, state: StudioState
) -> Iterator[tuple[duckdb.DuckDBPyConnection | None, str | None]]:
    if not state.pair:
        yield None, "choose a pair to preview on its staged rows"
        return
    try:
        con = sample_connection(console, state.pair, state.source)
    except SampleUnavailable as exc:
        yield None, str(exc)
        return
    try:
        yield con, None
    finally:
        con.close()


def roots_of(console: Console) -> Roots:
    return Roots(console.config.specs_dir, console.settings.specs_overlay)


def evaluate(console: Console, state: StudioState, *, author: str | None, with_preview: bool) -> Evaluation:
    """Build the spec the form stands for, check it as ``finsync mapping check`` does, and preview it.

    Raises ``studio.PathError`` for a form whose spec path leaves the specs folders."""
    target_ref, target = target_schema_of(state.target)
    roots = roots_of(console)
    lookups = studio.known_lookups(roots)
    path = studio.spec_path(roots, state, target_ref)
    opened = studio.origin_path(roots, state)
    with _sample(console, state) as (con, note):
        source, _ = source_schema_of(con, state.source)
        result = Evaluation(
            state,
            target_ref,
            target,
            source,
            studio.ranked_sources(source, target),
            lookups,
            path,
            sample_note=note,
            saves_elsewhere=opened is not None and opened != path,
        )
        doc, problems = studio.document(
            state, target_ref, target, source, lookups, path.parent, opened.parent if opened else None
        )
        result.text = studio.yaml_text(doc, author=author)
        spec, checked = studio.check(path, result.text, con, target.names)
        for where, messages in checked.items():
            problems.setdefault(where, []).extend(messages)
        result.problems = problems
        result.valid = spec is not None and not problems
        if with_preview and spec is not None and con is not None:
            try:
                result.preview = preview_rows(spec, con, PREVIEW_ROWS)
            except FinsyncError as exc:
                result.problems.setdefault(TOP, []).append(str(exc))
                result.valid = False
    return result


def _page(request: Request, evaluation: Evaluation, *, status_code: int = 200) -> Response:
    return render(
        request,
        "studio.html.j2",
        status_code=status_code,
        active="mapping",
        ev=evaluation,
        kinds=KINDS,
        operators=OPERATORS,
        can_save=current(request).user.role.allows(Role.ADMIN),
    )


@page()
async def mapping_index(request: Request) -> Response:
    console = console_of(request)
    roots = roots_of(console)
    specs, problems = await run_in_threadpool(parse_all, roots.shipped, roots.own)
    listed = []
    for spec in sorted(specs, key=lambda s: str(s.path)):
        origin, relative = roots.of(spec.path)
        listed.append((spec, origin, relative))
    return render(
        request,
        "mapping.html.j2",
        active="mapping",
        specs=listed,
        broken=problems,
        roots=roots,
        targets=targets(),
        sources=sources(),
    )


def _pair(console: Console, value: str | None) -> str | None:
    if value in console.settings.pair_names:
        return value
    return console.settings.pair_names[0] if len(console.settings.pair_names) == 1 and not value else None


@page()
async def studio_page(request: Request) -> Response:
    console = console_of(request)
    params = request.query_params
    pair = _pair(console, params.get("pair"))
    author = current(request).user.name

    def build() -> Evaluation | str:
        if params.get("spec"):
            roots = roots_of(console)
            specs, _ = parse_all(roots.shipped, roots.own)
            chosen = [s for s in specs if s.name == params["spec"]]
            if not chosen:
                return f"no valid spec named {params['spec']!r}"
            state = studio.state_from_spec(chosen[0], roots, pair)
            return evaluate(console, state, author=author, with_preview=True)
        target_text, source_table = params.get("target", ""), params.get("source", "")
        if source_table not in sources():
            return "choose a source table"
        try:
            _, target = target_schema_of(target_text)
        except FinsyncError as exc:
            return str(exc)
        name = params.get("name") or "draft_" + source_table.partition(".")[2]
        profiles = None
        with _sample(console, StudioState(name, source_table, target_text, pair)) as (con, _):
            source, live = source_schema_of(con, source_table)
            if con is not None and live:
                profiles = profile_table(con, source_table, source)
        state = studio.suggested_state(name, source_table, target_text, pair, source, target, profiles)
        return evaluate(console, state, author=author, with_preview=True)

    built = await run_in_threadpool(build)
    if isinstance(built, str):
        flash(request, "error", built)
        return see_other("/mapping")
    return _page(request, built)


def _state(form: Mapping[str, Any]) -> StudioState | str:
    target_text = form.get("target")
    if not isinstance(target_text, str) or form.get("source") not in sources():
        return "the studio form lost its target or source; start again"
    try:
        _, target = target_schema_of(target_text)
    except FinsyncError as exc:
        return str(exc)
    return studio.state_from_form(form, target)


@action(Role.VIEWER)
async def studio_post(request: Request, form: FormData) -> Response:
    """Re-render with the problems and the preview (the form's Preview button; works without script)."""
    console = console_of(request)
    state = _state(form)
    if isinstance(state, str):
        return PlainTextResponse(state, 400)
    state.pair = _pair(console, state.pair)
    author = current(request).user.name
    try:
        evaluation = await run_in_threadpool(
            lambda: evaluate(console, state, author=author, with_preview=True)
        )
    except PathError as exc:
        return PlainTextResponse(str(exc), 400)
    return _page(request, evaluation)


@action(Role.VIEWER)
async def studio_preview(request: Request, form: FormData) -> Response:
    """The live preview: problems by field and the preview panel, for the page's script."""
    console = console_of(request)
    state = _state(form)
    if isinstance(state, str):
        return JSONResponse({"error": state}, status_code=400)
    state.pair = _pair(console, state.pair)
    author = current(request).user.name
    try:
        evaluation = await run_in_threadpool(
            lambda: evaluate(console, state, author=author, with_preview=True)
        )
    except PathError as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    panel = console.templates.get_template("studio_preview.html.j2").render(ev=evaluation)
    return JSONResponse({"problems": evaluation.problems, "valid": evaluation.valid, "panel": panel})


@action(Role.ADMIN)
async def studio_save(request: Request, form: FormData) -> Response:
    """Write a new version of the spec, only if ``finsync mapping check`` would accept it."""
    console = console_of(request)
    state = _state(form)
    if isinstance(state, str):
        return PlainTextResponse(state, 400)
    state.pair = _pair(console, state.pair)
    author = current(request).user.name

    def save() -> tuple[Evaluation, str | None]:
        roots = roots_of(console)
        target_ref, _ = target_schema_of(state.target)
        path = studio.spec_path(roots, state, target_ref)
        opened = studio.origin_path(roots, state)
        versioned = studio.with_version(state, studio.next_version(path, opened))
        evaluation = evaluate(console, versioned, author=author, with_preview=False)
        taken = studio.name_taken(roots, versioned.name, path, opened)
        if state.path is None and path.exists():
            evaluation.problems.setdefault(TOP, []).append(
                f"{path.relative_to(roots.save.resolve())} exists; open that spec to save a new version of it"
            )
            evaluation.valid = False
        if taken:
            evaluation.problems.setdefault(TOP, []).append(
                f"the name {versioned.name!r} is taken by {taken}; choose another or open that spec"
            )
            evaluation.valid = False
        if not evaluation.valid:
            return evaluation, None
        studio.write(path, evaluation.text)
        return evaluation, str(path.relative_to(roots.save.resolve()))

    try:
        evaluation, written = await run_in_threadpool(save)
    except PathError as exc:
        return PlainTextResponse(str(exc), 400)
    if written is None:
        return _page(request, evaluation, status_code=422)
    audit(
        request,
        pair=state.pair or "-",
        call=f"mapping save {evaluation.state.name} v{evaluation.state.version}"[:128],
        outcome="saved",
        error=None,
    )
    flash(
        request,
        "ok",
        f"Saved {written}, version {evaluation.state.version}; `finsync mapping check` accepts it.",
    )
    query = f"spec={evaluation.state.name}" + (f"&pair={state.pair}" if state.pair else "")
    return see_other(f"/mapping/studio?{query}")
