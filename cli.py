"""The `bip` command line: a thin layer that turns options into library calls and errors into exit codes.

Exit codes: 0 done (whatever was flagged), 1 flags at or above `--fail-on` (or failing scenarios),
2 usage error, 3 invalid citizen record (in batch work: some records rejected), 4 invalid rulebook
or templates.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import shutil
import sys

import click

from engine import (BipError, Checker, ExecutorUnavailable, RecordError, default_executor_name, durable_available,
                    input_schema, output_schema)
from engine.paths import bundled, default_rules
from engine.rulebook import load_rulebook

EXIT_FLAGGED, EXIT_USAGE, EXIT_REJECTED, EXIT_INVALID_RULES = 1, 2, 3, 4
SEVERITY_RANK = {"high": 3, "medium": 2, "low": 1}
HEADINGS = {
    RecordError: {"da": "Borgerens data kan ikke bruges", "en": "The citizen record cannot be used"},
    BipError: {"da": "Regelsættet eller skabelonerne er ugyldige", "en": "The rulebook or templates are invalid"},
}


class BipGroup(click.Group):
    """A click group that reports the engine's errors as located messages with their exit codes."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except BipError as error:
            lang = (ctx.meta.get("bip.lang") or "da")
            heading = HEADINGS[RecordError if isinstance(error, RecordError) else BipError][lang]
            click.echo(f"{heading}:", err=True)
            for problem in error.problems:
                click.echo(f"  {shown(problem)}", err=True)
            ctx.exit(error.exit_code)
        except BrokenPipeError:  # the reader went away (`bip batch ... | head`): not an error
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            ctx.exit(0)


def shown_path(path: str) -> str:
    """A path relative to the current folder when it lies inside it."""
    if path and os.path.isabs(path):
        relative = os.path.relpath(path)
        if not relative.startswith(".."):
            return relative
    return path


def shown(problem) -> str:
    """A problem as `path:line: CODE message`, the path relative to the current folder when inside it."""
    return str(dataclasses.replace(problem, path=shown_path(problem.path)))


def _date(ctx, param, value):
    return value.date() if value else None


as_of_option = click.option("--as-of", type=click.DateTime(formats=["%Y-%m-%d"]), callback=_date,
                            help="Check date (YYYY-MM-DD); data after it is left out. Default: today.")
lang_option = click.option("--lang", type=click.Choice(["da", "en"]), default="da", show_default=True,
                           help="Language of the guidance.")
rules_option = click.option("--rules", "rules_dir", type=click.Path(file_okay=False), default=None,
                            help="Rulebook folder (default: the bundled rules).")
guidance_option = click.option("--guidance", "guidance_dirs", type=click.Path(file_okay=False), multiple=True,
                               help="Folder with da/ and en/ templates overriding the bundled ones (repeatable).")
engine_option = click.option("--engine", type=click.Choice(["durable", "python"]), default=None,
                             help="Rule executor. Default: durable where it can be loaded, else python.")


def make_checker(ctx: click.Context, rules_dir, guidance_dirs, engine, lang, colour=False) -> Checker:
    """Load the rulebook for a command, with the one-line notice when durable_rules cannot run here."""
    ctx.meta["bip.lang"] = lang
    if engine is None and not durable_available():
        notice = {"da": "Bemærk: durable_rules kan ikke indlæses på denne Python; den rene Python-motor bruges.",
                  "en": "Note: durable_rules cannot be loaded on this Python; the pure-Python executor is used."}
        click.echo(notice[lang], err=True)
    try:
        return Checker(rules_dir, guidance_dirs, engine, colour=colour)
    except ExecutorUnavailable as error:
        raise click.UsageError(str(error)) from None


@click.group(cls=BipGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="bip-engine")
def main():
    """bip: pre-meeting decision support for job-centre caseworkers (BIP)."""


@main.command()
@click.argument("record", metavar="FILE|-")
@as_of_option
@lang_option
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]), default="text", show_default=True)
@rules_option
@guidance_option
@engine_option
@click.option("--fail-on", type=click.Choice(["high", "medium", "low"]), default=None,
              help="Exit with 1 when a flag of this severity or higher is raised.")
@click.pass_context
def check(ctx, record, as_of, lang, fmt, rules_dir, guidance_dirs, engine, fail_on):
    """Check one citizen record before a meeting: phase, guidance, checklist and flags."""
    colour = fmt == "text" and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    checker = make_checker(ctx, rules_dir, guidance_dirs, engine, lang, colour)
    report = checker.check_file(record, as_of, lang)
    width = min(shutil.get_terminal_size((80, 24)).columns, 100) - 2 if sys.stdout.isatty() else 78
    click.echo(checker.render(report, fmt, width), nl=False)
    if fail_on and any(SEVERITY_RANK[flag.severity] >= SEVERITY_RANK[fail_on] for flag in report.flags):
        ctx.exit(EXIT_FLAGGED)


@main.command()
@click.argument("record", metavar="FILE|-")
@as_of_option
@lang_option
@rules_option
@guidance_option
@engine_option
@click.pass_context
def explain(ctx, record, as_of, lang, rules_dir, guidance_dirs, engine):
    """Show the full trace: every rule, matched or not, and the values that decided it."""
    checker = make_checker(ctx, rules_dir, guidance_dirs, engine, lang)
    parsed, _, _ = checker.read_record(record)
    evaluation = checker.evaluate(parsed, as_of)
    click.echo(checker.render_explanation(evaluation, checker.report(evaluation, lang)), nl=False)


@main.command()
@click.argument("which", type=click.Choice(["input", "output"]))
def schema(which):
    """Print the JSON Schema of the citizen record (input) or of the report (output)."""
    click.echo(json.dumps(input_schema() if which == "input" else output_schema(), ensure_ascii=False, indent=2))


@main.command()
@click.argument("inputs", nargs=-1, required=True, metavar="INPUT...")
@as_of_option
@lang_option
@click.option("--format", "fmt", type=click.Choice(["text", "csv", "json", "jsonl"]), default="text",
              show_default=True)
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Evaluate in this many processes; the output is the same as with one.")
@click.option("--order", type=click.Choice(["triage", "input"]), default="triage", show_default=True,
              help="Most urgent first (see README), or the order the records were read.")
@click.option("--errors", "errors_path", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Also write rejected records to this file (JSON Lines).")
@rules_option
@engine_option
@click.pass_context
def batch(ctx, inputs, as_of, lang, fmt, workers, order, errors_path, rules_dir, engine):
    """Check a whole caseload: a folder of records, JSONL files (- for stdin) or CSV exports."""
    from engine.caseload.batch import BatchSettings, run_batch
    from engine.caseload.readers import detect_and_read

    checker = make_checker(ctx, rules_dir, (), engine, lang)  # validates the rulebook before any work
    try:
        items = detect_and_read(list(inputs), defer_parsing=workers > 1)
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    settings = BatchSettings(rules_dir, checker.engine, as_of or dt.date.today())
    errors_file = open(errors_path, "w", encoding="utf-8") if errors_path else None
    progress = Progress(enabled=sys.stderr.isatty())

    def rejected(item):
        progress.clear()
        click.echo(f"{item.source}: {item.citizen_id or '?'}: " + "; ".join(item.problems), err=True)
        if errors_file:
            errors_file.write(json.dumps(dataclasses.asdict(item), ensure_ascii=False) + "\n")

    try:
        summary = run_batch(items, settings, sys.stdout, fmt, workers, lang, order,
                            rejected, progress.update)
    finally:
        progress.clear()
        if errors_file:
            errors_file.close()
    if fmt != "text":  # the text table ends with this summary already
        click.echo(f"{summary.read} read, {summary.evaluated} evaluated, {summary.rejected} rejected", err=True)
    if summary.rejected:
        ctx.exit(EXIT_REJECTED)


class Progress:
    """A one-line counter on stderr, shown only on a terminal."""

    def __init__(self, enabled: bool):
        self.enabled, self.shown = enabled, False

    def update(self, summary) -> None:
        if self.enabled and summary.read % 250 == 0:
            click.echo(f"\r{summary.read} read, {summary.rejected} rejected", err=True, nl=False)
            self.shown = True

    def clear(self) -> None:
        if self.shown:
            click.echo("\r\033[K", err=True, nl=False)
            self.shown = False


@main.command()
@click.option("--citizens", type=click.IntRange(min=1), required=True, help="How many citizens.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--years", type=click.FloatRange(0.25, 10), default=2.0, show_default=True,
              help="Length of each history before the as-of date.")
@as_of_option
@click.option("--out", type=click.Path(), default="-", show_default=True,
              help="A JSONL file (- for stdout), or a folder for the CSV exports.")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True)
def simulate(citizens, seed, years, as_of, out, fmt):
    """Generate a synthetic cohort calibrated to the BIP figures (no real person's data)."""
    from engine.caseload.simulate import DEFAULT_AS_OF as SIMULATION_AS_OF
    from engine.caseload.simulate import generate_cohort
    from engine.caseload.simulate import write_csv as write_cohort_csv
    from engine.caseload.simulate import write_jsonl as write_cohort_jsonl

    records = generate_cohort(citizens, seed=seed, years=years, as_of=as_of or SIMULATION_AS_OF)
    if fmt == "csv":
        if out == "-":
            raise click.UsageError("--format csv writes three files: give a folder with --out")
        for path in write_cohort_csv(records, out).values():
            click.echo(str(path), err=True)
    elif out == "-":
        write_cohort_jsonl(records, sys.stdout)
    else:
        with open(out, "w", encoding="utf-8") as stream:
            write_cohort_jsonl(records, stream)


@main.group()
def rules():
    """Work on a rulebook: validate it, document it, test it, and compare two of them."""


@rules.command(name="validate")
@click.argument("folder", required=False, type=click.Path(file_okay=False))
@guidance_option
def rules_validate(folder, guidance_dirs):
    """Check a rulebook and its templates; print every problem as path:line: CODE message."""
    from engine.authoring.validate import validate as validate_rulebook

    result = validate_rulebook(folder or default_rules(), guidance_dirs)
    for problem in result.errors:
        click.echo(shown(problem))
    for problem in result.warnings:
        click.echo(f"{shown(problem)} (warning)")
    files = len({problem.path for problem in result.errors + result.warnings})
    if result.ok:
        rulebook = result.rulebook
        click.echo(f"OK: {rulebook.name} {rulebook.version}: {len(rulebook.all_rules())} rules, "
                   f"{len(rulebook.phases)} phases, {len(rulebook.flag_ids)} flags; "
                   f"{len(result.warnings)} warning(s)")
        if len(rulebook.layers) > 1:
            click.echo("layers: " + " <- ".join(name for name, _ in rulebook.layers))
            for rule in rulebook.all_rules():
                if rule.origin != rulebook.layers[0][0]:
                    action = f"overrides {rule.overrides}" if rule.overrides else "added"
                    click.echo(f"  {rule.id}: {shown_path(rule.path)}:{rule.line} ({action})")
        return
    click.echo(f"{len(result.errors)} error(s) and {len(result.warnings)} warning(s) in {files} file(s)")
    sys.exit(EXIT_INVALID_RULES)


@rules.command(name="docs")
@click.argument("folder", required=False, type=click.Path(file_okay=False))
@click.option("--format", "fmt", type=click.Choice(["markdown", "html"]), default="markdown", show_default=True)
@lang_option
@guidance_option
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None, help="Write the document to FILE.")
@click.option("--no-examples", is_flag=True, help="Leave out the example flag messages.")
@click.pass_context
def rules_docs(ctx, folder, fmt, lang, guidance_dirs, output, no_examples):
    """The rulebook as a readable document (Markdown or HTML), generated from the rule files."""
    from engine.render import Guidance
    from engine.authoring.docs import rulebook_document

    ctx.meta["bip.lang"] = lang
    rulebook = load_rulebook(folder or default_rules())
    text = rulebook_document(rulebook, Guidance(lang, guidance_dirs), lang, fmt, examples=not no_examples)
    if output:
        with open(output, "w", encoding="utf-8") as stream:
            stream.write(text)
    else:
        click.echo(text, nl=False)


@rules.command(name="test")
@click.argument("folder", required=False, type=click.Path(file_okay=False))
@click.option("--features", "features", type=click.Path(file_okay=False), default=None,
              help="Folder of .feature files (default: the bundled scenarios).")
@click.option("--coverage", is_flag=True, help="List the rules the scenarios exercised and those none did.")
@engine_option
@click.option("--verbose", "-v", is_flag=True, help="One line per scenario.")
@click.pass_context
def rules_test(ctx, folder, features, coverage, engine, verbose):
    """Run Danish Gherkin scenarios (# language: da) against a rulebook."""
    from engine.authoring.scenario_runner import lint, run_scenarios, runner_available

    if not runner_available():
        raise click.UsageError("bip rules test needs pytest and pytest-bdd: pip install 'bip-engine[test]'")
    rules_dir = folder or default_rules()
    load_rulebook(rules_dir)  # an invalid rulebook is reported (exit 4) before any scenario runs
    features_dir = features or bundled("features")
    problems = lint(features_dir)
    for problem in problems:
        click.echo(shown(problem), err=True)
    if problems:
        click.echo(f"{len(problems)} problem(s) in the feature files; no scenario was run.", err=True)
        ctx.exit(EXIT_FLAGGED)
    code = run_scenarios(rules_dir, features_dir, coverage, engine or "python", quiet=not verbose)
    ctx.exit(EXIT_FLAGGED if code else 0)


@rules.command(name="steps")
def rules_steps():
    """Print the step vocabulary for scenarios, with an example of each step (Markdown)."""
    from engine.authoring.scenario_runner import runner_available, step_reference

    if not runner_available():
        raise click.UsageError("bip rules steps needs pytest and pytest-bdd: pip install 'bip-engine[test]'")

    click.echo(step_reference())


@rules.command(name="diff")
@click.argument("old", type=click.Path(file_okay=False))
@click.argument("new", type=click.Path(file_okay=False))
@click.option("--caseload", "caseload", required=True, multiple=True,
              help="A folder of records, a JSONL file or CSV exports (repeatable).")
@as_of_option
@lang_option
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]), default="text", show_default=True)
@click.pass_context
def rules_diff(ctx, old, new, caseload, as_of, lang, fmt):
    """Show what changing rulebook OLD into NEW does to a caseload: phases, flags, citizens."""
    from engine.authoring.impact import compare_rule_folders, render_impact

    ctx.meta["bip.lang"] = lang

    def rejected(item):
        click.echo(f"{item.source}: {item.citizen_id or '?'}: " + "; ".join(item.problems), err=True)

    try:
        report = compare_rule_folders(old, new, list(caseload), as_of, rejected)
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    click.echo(render_impact(report, fmt, lang), nl=False)


@main.command(name="engines")
def engines():
    """Show which rule executors can run on this Python."""
    click.echo(f"durable: {'available' if durable_available() else 'not available'}")
    click.echo("python: available")
    click.echo(f"default: {default_executor_name()}")


if __name__ == "__main__":  # pragma: no cover
    main()
