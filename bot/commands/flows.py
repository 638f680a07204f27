"""`reflect flows`: list, check and rehearse the reflective flows, and print their JSON Schema.

    reflect flows list              the flows the bot offers (from REFLECT_FLOWS_DIR)
    reflect flows check [PATH...]   every problem, as file:line lines; exit 1 when any
    reflect flows test [PATH...]    play the rehearsals each flow ships; exit 1 on a failure
    reflect flows schema            the JSON Schema of the flow format (flows/schema.json)

PATHs are flow files or folders of them; with none, the configured flows folder is used.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from bot import settings as settings_module
from bot.engine.authoring.loading import FlowProblem, Loaded, flow_files, load_library
from bot.engine.authoring.rehearsal import rehearse
from bot.engine.flows import json_schema

_PATHS = click.argument(
    "paths", nargs=-1, type=click.Path(exists=True, path_type=Path), metavar="[PATH]..."
)


def schema_text() -> str:
    """flows/schema.json as it should read: pretty-printed, keys sorted, a final newline."""
    return json.dumps(json_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


@click.group(name="flows")
def command() -> None:
    """Write and check reflective flows (YAML files, one flow per file)."""


def _load(paths: tuple[Path, ...]) -> tuple[Loaded, list[FlowProblem], int, Path | None]:
    """The flows in `paths` (or the configured folder), the problems found, how many files
    were read, and the configured folder when it was used."""
    settings = settings_module.load()
    folder = None if paths else settings.flows_dir
    files, missing = flow_files(paths or (settings.flows_dir,))
    loaded = load_library(files, default=settings.default_flow)
    problems = [*missing, *loaded.problems]
    if folder is not None and not files:
        problems.append(FlowProblem(folder, None, None, None, "no flow files (*.yaml) here"))
    elif folder is not None and settings.default_flow not in loaded.library:
        refused = any(p.flow_id == settings.default_flow for p in problems)
        if not refused:
            problems.append(
                FlowProblem(
                    folder,
                    None,
                    None,
                    None,
                    f"the default flow '{settings.default_flow}' (REFLECT_DEFAULT_FLOW) is not "
                    "one of these flows",
                )
            )
    return loaded, problems, len(files), folder


@command.command(name="list")
@_PATHS
def list_flows(paths: tuple[Path, ...]) -> None:
    """List the flows: id, area, minutes and title. The default flow comes first."""
    loaded, problems, _, folder = _load(paths)
    flows = list(loaded.library)
    if not flows:
        raise click.ClickException(f"No flows could be loaded from {folder or 'those paths'}.")
    width = max(len(flow.id) for flow in flows)
    area_width = max(len(flow.area) for flow in flows)
    for flow in flows:
        mark = "  (default)" if flow.id == loaded.library.default else ""
        click.echo(
            f"{flow.id:<{width}}  {flow.area:<{area_width}}  {flow.minutes:>2} min  "
            f"{flow.title}{mark}"
        )
    if problems:
        files = len({p.file for p in problems})
        click.echo(
            f"{files} flow file{'s' if files != 1 else ''} could not be loaded; "
            "run `reflect flows check` to see why.",
            err=True,
        )


@command.command(name="check")
@_PATHS
def check(paths: tuple[Path, ...]) -> None:
    """Check flow files (or folders of them): every problem, as file:line. Exits 1 when any."""
    loaded, problems, files, _ = _load(paths)
    for problem in problems:
        click.echo(str(problem))
    if problems:
        broken = len({p.file for p in problems})
        raise SystemExit(
            _fail(
                f"{len(problems)} problem{'s' if len(problems) != 1 else ''} in {broken} "
                f"file{'s' if broken != 1 else ''}."
            )
        )
    count = len(loaded.library)
    click.echo(
        f"OK: {count} flow{'s' if count != 1 else ''} checked in {files} "
        f"file{'s' if files != 1 else ''}, no problems."
    )


@command.command(name="test")
@_PATHS
def test(paths: tuple[Path, ...]) -> None:
    """Play the rehearsals (test conversations) each flow ships with. Exits 1 on a failure."""
    loaded, problems, _, _ = _load(paths)
    for problem in problems:
        click.echo(str(problem))
    passed = failed = 0
    for flow in sorted(loaded.library, key=lambda f: f.id):
        results = rehearse(flow)
        if not results:
            click.echo(f"-     {flow.id}: no rehearsals")
        for result in results:
            if result.passed:
                passed += 1
                click.echo(f"ok    {flow.id}: {result.name}")
                continue
            failed += 1
            click.echo(f"FAIL  {flow.id}: {result.name}")
            for failure in result.failures:
                click.echo(f"        {failure}")
    outcome = f"{passed} rehearsal{'s' if passed != 1 else ''} passed, {failed} failed"
    if problems:
        outcome += f"; {len(problems)} problem{'s' if len(problems) != 1 else ''} in flow files"
    if failed or problems:
        raise SystemExit(_fail(outcome + "."))
    click.echo(outcome + ".")


@command.command(name="schema")
def schema() -> None:
    """Print the JSON Schema of the flow format (`make schema` writes it to flows/schema.json)."""
    click.echo(schema_text(), nl=False)


def _fail(message: str) -> int:
    click.echo(message, err=True)
    return 1
