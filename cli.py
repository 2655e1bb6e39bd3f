"""The `bip` command line: a thin layer that turns options into library calls and errors into exit codes.

Exit codes: 0 done (whatever was flagged), 1 flags at or above `--fail-on` (or failing scenarios),
2 usage error, 3 invalid citizen record (in batch work: some records rejected), 4 invalid rulebook
or templates, 5 a part that is not installed (an extra), 6 the decision log fails `bip log verify`, 70 internal error (a bug: an incident id is printed and the traceback is written to an
incident file, see bip_engine.incidents). The table is in docs/reference/codes.md.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from .errors import BipError, KeyedError, RecordError, usage_text
from .messages import text
from .paths import bundled, default_rules
from .severity import SEVERITIES, at_least

if TYPE_CHECKING:
    from . import Checker

# Each command imports the parts of the engine it needs inside its function, so that adding a command
# never slows down the others (tests/test_startup.py checks what `bip check` imports).

EXIT_FLAGGED, EXIT_USAGE, EXIT_REJECTED, EXIT_INVALID_RULES, EXIT_NOT_INSTALLED = 1, 2, 3, 4, 5
EXIT_INVALID_SHEET = 6  # bip rules sheet import: a cell that cannot be used (SheetError.exit_code)
EXIT_LOG_TAMPERED = 7  # bip log verify: an entry does not fit its chain or a checkpoint
EXIT_INTERNAL = 70  # EX_SOFTWARE in sysexits.h: never 1, which says "flagged at or above --fail-on"
#: The optional parts of the install, by the top-level module whose absence shows that one is missing.
EXTRAS = {
    name: extra
    for extra, names in {
        "service": (
            "fastapi",
            "starlette",
            "uvicorn",
            "gunicorn",
            "uvicorn_worker",
            "sqlalchemy",
            "psycopg",
            "multipart",
            "httptools",
            "httpx",
            "authlib",
            "joserfc",
        ),
        "durable": ("durable", "durable_rules_engine"),
    }.items()
    for name in names
}


class BipGroup(click.Group):
    """A click group that reports the engine's errors as located messages with their exit codes, and
    any other exception (a bug) as an incident: an id on the terminal, the traceback in a file."""

    def make_context(self, info_name, args, parent=None, **extra) -> click.Context:
        """The command's context, holding the arguments as given (for an incident file)."""
        arguments = list(args)  # kept for an incident file: click consumes the list while parsing
        ctx = super().make_context(info_name, args, parent, **extra)
        ctx.meta["bip.argv"] = arguments
        return ctx

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except BipError as error:
            lang = ctx.meta.get("bip.lang") or "da"
            key = getattr(error, "heading", None) or (
                "cli.heading.record" if isinstance(error, RecordError) else "cli.heading.rules"
            )
            heading = text(key, lang)
            click.echo(f"{heading}:", err=True)
            for problem in error.problems:
                click.echo(f"  {shown(problem, lang)}", err=True)
            ctx.exit(error.exit_code)
        except KeyedError as error:  # an input or setting that cannot be used at all: a usage error
            click.echo(error.text(ctx.meta.get("bip.lang") or asked_language(ctx.meta.get("bip.argv", []))), err=True)
            ctx.exit(EXIT_USAGE)
        except ModuleNotFoundError as error:
            top = (error.name or "").split(".")[0]
            if top not in EXTRAS:
                raise
            argv = ctx.meta.get("bip.argv", [])
            lang = ctx.meta.get("bip.lang") or asked_language(argv)
            command = " ".join(command_path(self, argv))
            click.echo(text("cli.not_installed", lang, command=command, module=top, extra=EXTRAS[top]), err=True)
            ctx.exit(EXIT_NOT_INSTALLED)
        except BrokenPipeError:  # the reader went away (`bip batch ... | head`): not an error
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            ctx.exit(0)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as error:  # noqa: BLE001 - anything else is a bug: an incident, never a traceback
            from .incidents import record_incident

            incident = record_incident(error, ctx.meta.get("bip.argv", []))
            lang = ctx.meta.get("bip.lang") or "da"
            key = "cli.internal_error" if incident.path else "cli.internal_error_no_file"
            click.echo(text(key, lang, id=incident.id, path=incident.path), err=True)
            ctx.exit(EXIT_INTERNAL)


def command_path(group: click.Group, argv: list[str]) -> list[str]:
    """The names of the (sub)commands that `argv` calls, e.g. `["log", "purge"]`."""
    names: list[str] = []
    for arg in argv:
        command = group.commands.get(arg) if isinstance(group, click.Group) else None
        if command is None:
            break
        names.append(arg)
        group = command  # type: ignore[assignment]
    return names


def asked_language(argv: list[str]) -> str:
    """The `--lang` given anywhere in `argv` (da when none is), for messages before a command has read it."""
    for index, arg in enumerate(argv):
        if arg == "--lang" and index + 1 < len(argv) and argv[index + 1] in ("da", "en"):
            return argv[index + 1]
        if arg in ("--lang=da", "--lang=en"):
            return arg.split("=", 1)[1]
    return "da"


def shown_path(path: str) -> str:
    """A path relative to the current folder when it lies inside it."""
    if path and os.path.isabs(path):
        relative = os.path.relpath(path)
        if not relative.startswith(".."):
            return relative
    return path


def shown(problem, lang: str = "en") -> str:
    """A problem as `path:line: CODE message` (message in `lang`), the path relative to the current folder."""
    return dataclasses.replace(problem, path=shown_path(problem.path)).shown(lang)


def _date(ctx, param, value):
    return value.date() if value else None


class IsoDate(click.DateTime):
    """`click.DateTime` for YYYY-MM-DD, reading a well-formed date without `strptime` (whose first use
    imports locale and calendar, a noticeable part of a cold check); anything else goes to strptime,
    which accepts and refuses exactly as before, with the same message."""

    def __init__(self) -> None:
        super().__init__(formats=["%Y-%m-%d"])

    def convert(self, value, param, ctx):
        if isinstance(value, str) and len(value) == 10 and value.isascii() and value[4] == value[7] == "-":
            try:
                return dt.datetime.fromisoformat(value)
            except ValueError:
                pass
        return super().convert(value, param, ctx)


as_of_option = click.option(
    "--as-of",
    type=IsoDate(),
    callback=_date,
    help="Check date (YYYY-MM-DD); data after it is left out. Default: today.",
)
lang_option = click.option(
    "--lang",
    type=click.Choice(["da", "en"]),
    default="da",
    show_default=True,
    help="Language of the output: messages, labels and guidance.",
)
rules_option = click.option(
    "--rules",
    "rules_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Rulebook folder (default: the bundled rules).",
)
guidance_option = click.option(
    "--guidance",
    "guidance_dirs",
    type=click.Path(file_okay=False),
    multiple=True,
    help="Folder with da/ and en/ templates overriding the bundled ones (repeatable).",
)
engine_option = click.option(
    "--engine",
    type=click.Choice(["durable", "python"]),
    default=None,
    help="Rule executor. Default: durable where it can be loaded, else python.",
)


log_option = click.option(
    "--log",
    "log_url",
    default=None,
    metavar="URL",
    help="Append an entry to the decision log at URL (sqlite:///FILE or postgresql://...) "
    "before the answer is printed.",
)
purpose_option = click.option(
    "--purpose",
    default="mødeforberedelse",
    show_default=True,
    help="Why the citizen's data is looked up (kept in the decision log with --log).",
)
user_option = click.option(
    "--user",
    "log_user",
    default=None,
    help="Who asks (kept in the decision log with --log). Default: the operating-system user.",
)
database_option = click.option(
    "--database",
    default=None,
    metavar="URL",
    envvar="BIP_DATABASE",
    help="The decision log: sqlite:///FILE or postgresql://user@host/db "
    "(default: bip-log.sqlite in this folder; or $BIP_DATABASE).",
)


rules_as_of_option = click.option(
    "--rules-as-of",
    type=IsoDate(),
    callback=_date,
    default=None,
    help="The date that selects the rules in force (YYYY-MM-DD). Default: the check date (--as-of).",
)
release_option = click.option(
    "--release",
    "release_ref",
    default=None,
    metavar="HASH|latest",
    help="Run an approved release from the release store instead of --rules.",
)
store_option = click.option(
    "--store",
    "store_path",
    type=click.Path(file_okay=False),
    default=None,
    help="The release store (default: ./bip-releases).",
)


def from_release(ctx: click.Context, rules_dir, guidance_dirs, release_ref, store_path):
    """The rules folder and guidance folders to use: a release's, when --release is given."""
    if not release_ref:
        return rules_dir, guidance_dirs
    from .releases import DEFAULT_STORE, ReleaseError, open_release

    if rules_dir:
        raise click.UsageError("give either --rules or --release, not both")
    try:
        release = open_release(store_path or DEFAULT_STORE, release_ref)
    except ReleaseError as error:
        fail("\n".join(shown(problem) for problem in error.problems))
    return str(release.rules), (*[str(path) for path in release.guidance], *guidance_dirs)


def write_output(text: str, output: str | None) -> None:
    """Write `text` to the file `output`, or to standard output when none is given."""
    if output:
        with open(output, "w", encoding="utf-8") as stream:
            stream.write(text)
    else:
        click.echo(text, nl=False)


def fail(message: str, code: int = EXIT_USAGE):
    """Print `message` on stderr and exit with `code` (default 2)."""
    click.echo(message, err=True)
    click.get_current_context().exit(code)


def open_log(url, lang, create=True, keys=False):
    """Open the decision log; a bad URL or an unreachable database is a usage error (exit 2).

    With `keys`, its pseudonym and session keys are read too: a missing key, or one an old log
    still keeps inside it, is a usage error as well.
    """
    from .log.errors import StoreError
    from .log.store import Store

    try:
        store = Store.open(url, create=create)
    except StoreError as error:
        fail(error.text(lang))
    if keys:
        try:
            store.pseudonym_keys()
            store.session_key()
        except StoreError as error:
            store.close()
            fail(error.text(lang))
    return store


def log_answer(store, report, record, user, purpose, kind, lang) -> None:
    """Append the decision-log entry for an answer, before it is printed; exit 2 when that fails."""
    from .log.decisions import default_user, log_decision
    from .log.errors import StoreError
    from .log.tokens import Principal

    try:
        log_decision(store, report, record, Principal(user or default_user(), "caseworker"), purpose, kind)
    except StoreError as error:
        fail(error.text(lang))
    finally:
        store.close()


def make_checker(ctx: click.Context, rules_dir, guidance_dirs, engine, lang, colour=False) -> Checker:
    """Load the rulebook for a command (a usage error when the named executor cannot run here)."""
    from . import Checker, ExecutorUnavailable

    ctx.meta["bip.lang"] = lang
    try:
        return Checker(rules_dir, guidance_dirs, engine, colour=colour)
    except ExecutorUnavailable as error:
        raise click.UsageError(usage_text(error, lang)) from None


@click.group(cls=BipGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="bip-engine")
def main():
    """bip: pre-meeting decision support for job-centre caseworkers (BIP)."""


@main.command()
@click.argument("record", metavar="FILE|-")
@as_of_option
@lang_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "markdown", "json", "citizen"]),
    default="text",
    show_default=True,
    help="citizen: a plain-language page for the citizen (own ratings only).",
)
@rules_option
@guidance_option
@engine_option
@click.option(
    "--fail-on",
    type=click.Choice(SEVERITIES),
    default=None,
    help="Exit with 1 when a flag of this severity or higher is raised.",
)
@click.option("--margins", is_flag=True, help="Add what would change the phase (phase_margins; as bip explain).")
@log_option
@purpose_option
@user_option
@rules_as_of_option
@release_option
@store_option
@click.pass_context
def check(
    ctx,
    record,
    as_of,
    lang,
    fmt,
    rules_dir,
    guidance_dirs,
    engine,
    fail_on,
    margins,
    log_url,
    purpose,
    log_user,
    rules_as_of,
    release_ref,
    store_path,
):
    """Check one citizen record before a meeting: phase, guidance, checklist and flags."""
    colour = fmt == "text" and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    rules_dir, guidance_dirs = from_release(ctx, rules_dir, guidance_dirs, release_ref, store_path)
    width = min(shutil.get_terminal_size((80, 24)).columns, 100) - 2 if sys.stdout.isatty() else 78
    ctx.meta["bip.lang"] = lang
    checker = make_checker(ctx, rules_dir, guidance_dirs, engine, lang, colour)
    store = open_log(log_url, lang) if log_url else None
    parsed = checker.read_record(record)[0]
    report = checker.check(parsed, as_of, lang, rules_as_of, margins)
    if store:
        log_answer(store, report, parsed, log_user, purpose, "check", lang)
    click.echo(checker.render(report, fmt, width), nl=False)
    if fail_on and any(at_least(flag.severity, fail_on) for flag in report.flags):
        ctx.exit(EXIT_FLAGGED)


@main.command()
@click.argument("record", metavar="FILE|-")
@as_of_option
@lang_option
@rules_option
@guidance_option
@engine_option
@log_option
@purpose_option
@user_option
@rules_as_of_option
@release_option
@store_option
@click.pass_context
def explain(
    ctx,
    record,
    as_of,
    lang,
    rules_dir,
    guidance_dirs,
    engine,
    log_url,
    purpose,
    log_user,
    rules_as_of,
    release_ref,
    store_path,
):
    """Show the full trace: every rule, matched or not, and the values that decided it."""
    rules_dir, guidance_dirs = from_release(ctx, rules_dir, guidance_dirs, release_ref, store_path)
    checker = make_checker(ctx, rules_dir, guidance_dirs, engine, lang)
    store = open_log(log_url, lang) if log_url else None
    parsed, _, _ = checker.read_record(record)
    evaluation = checker.evaluate(parsed, as_of, rules_as_of)
    report = checker.report(evaluation, lang, margins=True)
    if store:
        log_answer(store, report, parsed, log_user, purpose, "explain", lang)
    click.echo(checker.render_explanation(evaluation, report), nl=False)


@main.command()
@click.argument("which", type=click.Choice(["input", "output"]))
def schema(which):
    """Print the JSON Schema of the citizen record (input) or of the report (output)."""
    from .schemas import input_schema, output_schema

    click.echo(json.dumps(input_schema() if which == "input" else output_schema(), ensure_ascii=False, indent=2))


@main.command()
@click.argument("inputs", nargs=-1, required=True, metavar="INPUT...")
@as_of_option
@lang_option
@click.option("--format", "fmt", type=click.Choice(["text", "csv", "json", "jsonl"]), default="text", show_default=True)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Evaluate in this many processes; the output is the same as with one.",
)
@click.option(
    "--order",
    type=click.Choice(["triage", "input"]),
    default="triage",
    show_default=True,
    help="Most urgent first (see docs/reference/caseloads.md), or the order the records were read.",
)
@click.option(
    "--errors",
    "errors_path",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="Also write rejected records to this file (JSON Lines).",
)
@rules_option
@engine_option
@rules_as_of_option
@release_option
@store_option
@click.pass_context
def batch(
    ctx, inputs, as_of, lang, fmt, workers, order, errors_path, rules_dir, engine, rules_as_of, release_ref, store_path
):
    """Check a whole caseload: a folder of records, JSONL files (- for stdin) or CSV exports."""
    from .caseload.batch import BatchSettings, run_batch
    from .caseload.readers import detect_and_read

    rules_dir, _ = from_release(ctx, rules_dir, (), release_ref, store_path)
    checker = make_checker(ctx, rules_dir, (), engine, lang)  # validates the rulebook before any work
    try:
        items = detect_and_read(list(inputs), defer_parsing=workers > 1)
    except ValueError as error:
        raise click.UsageError(usage_text(error, lang)) from None
    from .clock import today

    settings = BatchSettings(rules_dir, checker.engine, as_of or today(), lang, rules_as_of)
    errors_file = open(errors_path, "w", encoding="utf-8") if errors_path else None  # noqa: SIM115 - closed below
    progress = Progress(enabled=sys.stderr.isatty(), lang=lang)

    def rejected(item):
        progress.clear()
        click.echo(f"{item.source}: {item.citizen_id or '?'}: " + item.text(lang), err=True)
        if errors_file:
            errors_file.write(json.dumps(dataclasses.asdict(item), ensure_ascii=False) + "\n")

    try:
        summary = run_batch(items, settings, sys.stdout, fmt, workers, lang, order, rejected, progress.update, checker)
    finally:
        progress.clear()
        if errors_file:
            errors_file.close()
    if fmt != "text":  # the text table ends with this summary already
        click.echo(
            text("batch.summary", lang, read=summary.read, evaluated=summary.evaluated, rejected=summary.rejected),
            err=True,
        )
    if summary.rejected:
        ctx.exit(EXIT_REJECTED)


class Progress:
    """A one-line counter on stderr, shown only on a terminal."""

    def __init__(self, enabled: bool, lang: str = "en"):
        self.enabled, self.shown, self.lang = enabled, False, lang

    def update(self, summary) -> None:
        if self.enabled and summary.read % 250 == 0:
            counts = text("cli.progress", self.lang, read=summary.read, rejected=summary.rejected)
            click.echo(f"\r{counts}", err=True, nl=False)
            self.shown = True

    def clear(self) -> None:
        if self.shown:
            click.echo("\r\033[K", err=True, nl=False)
            self.shown = False


@main.command()
@click.option("--citizens", type=click.IntRange(min=1), required=True, help="How many citizens.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--years",
    type=click.FloatRange(0.25, 10),
    default=2.0,
    show_default=True,
    help="Length of each history before the as-of date.",
)
@as_of_option
@click.option(
    "--out",
    type=click.Path(),
    default="-",
    show_default=True,
    help="A JSONL file (- for stdout), or a folder for the CSV exports.",
)
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True)
def simulate(citizens, seed, years, as_of, out, fmt):
    """Generate a synthetic cohort calibrated to the BIP figures (no real person's data)."""
    from .caseload.simulate import DEFAULT_AS_OF as SIMULATION_AS_OF
    from .caseload.simulate import generate_cohort
    from .caseload.simulate import write_csv as write_cohort_csv
    from .caseload.simulate import write_jsonl as write_cohort_jsonl

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
@lang_option
@click.pass_context
def rules_validate(ctx, folder, guidance_dirs, lang):
    """Check a rulebook and its templates; print every problem as path:line: CODE message."""
    from .authoring.validate import validate as validate_rulebook

    ctx.meta["bip.lang"] = lang
    result = validate_rulebook(folder or default_rules(), guidance_dirs)
    for problem in result.errors:
        click.echo(shown(problem, lang))
    for problem in result.warnings:
        click.echo(text("cli.validate.warning", lang, problem=shown(problem, lang)))
    files = len({problem.path for problem in result.errors + result.warnings})
    if result.ok:
        rulebook = result.rulebook
        assert rulebook is not None, "a rulebook without errors has loaded"
        counts = {"rules": len(rulebook.all_rules()), "phases": len(rulebook.phases), "flags": len(rulebook.flag_ids)}
        click.echo(
            text(
                "cli.validate.ok",
                lang,
                name=rulebook.name,
                version=rulebook.version,
                warnings=len(result.warnings),
                **counts,
            )
        )
        if len(rulebook.layers) > 1:
            click.echo(text("cli.validate.layers", lang, layers=" <- ".join(name for name, _ in rulebook.layers)))
            for rule in rulebook.all_rules():
                if rule.origin != rulebook.layers[0][0]:
                    action = (
                        text("cli.validate.overrides", lang, rule=rule.overrides)
                        if rule.overrides
                        else text("cli.validate.added", lang)
                    )
                    click.echo(f"  {rule.id}: {shown_path(rule.path)}:{rule.line} ({action})")
        return
    click.echo(text("cli.validate.failed", lang, errors=len(result.errors), warnings=len(result.warnings), files=files))
    sys.exit(EXIT_INVALID_RULES)


@rules.command(name="docs")
@click.argument("folder", required=False, type=click.Path(file_okay=False))
@click.option("--format", "fmt", type=click.Choice(["markdown", "html"]), default="markdown", show_default=True)
@lang_option
@guidance_option
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None, help="Write the document to FILE.")
@click.option("--no-examples", is_flag=True, help="Leave out the example flag messages.")
@release_option
@store_option
@click.pass_context
def rules_docs(ctx, folder, fmt, lang, guidance_dirs, output, no_examples, release_ref, store_path):
    """The rulebook as a readable document (Markdown or HTML), from the rule files or a release."""
    from .authoring.docs import rulebook_document
    from .render import Guidance
    from .rulebook import load_rulebook

    ctx.meta["bip.lang"] = lang
    folder, guidance_dirs = from_release(ctx, folder, guidance_dirs, release_ref, store_path)
    rulebook = load_rulebook(folder or default_rules())
    write_output(
        rulebook_document(rulebook, Guidance(lang, guidance_dirs), lang, fmt, examples=not no_examples), output
    )


@rules.command(name="changes")
@click.argument("folder", required=False, type=click.Path(file_okay=False))
@click.option("--on", "day", required=True, type=click.DateTime(formats=["%Y-%m-%d"]), help="The day (YYYY-MM-DD).")
@lang_option
@click.pass_context
def rules_changes(ctx, folder, day, lang):
    """What changes in a rulebook on DATE: rules that start, stop or change, and parameter values."""
    from .authoring.changes_on import render_changes
    from .rulebook import load_rulebook

    ctx.meta["bip.lang"] = lang
    click.echo(render_changes(load_rulebook(folder or default_rules()), day.date(), lang), nl=False)


@rules.command(name="test")
@click.argument("folder", required=False, type=click.Path(file_okay=False))
@click.option(
    "--features",
    "features",
    type=click.Path(file_okay=False),
    default=None,
    help="Folder of .feature files (default: the bundled scenarios).",
)
@click.option("--coverage", is_flag=True, help="List the rules the scenarios exercised and those none did.")
@engine_option
@click.option("--verbose", "-v", is_flag=True, help="One line per scenario.")
@lang_option
@click.pass_context
def rules_test(ctx, folder, features, coverage, engine, verbose, lang):
    """Run Danish Gherkin scenarios (# language: da) against a rulebook."""
    from .authoring.scenario_runner import lint, run_scenarios
    from .rulebook import load_rulebook

    ctx.meta["bip.lang"] = lang
    rules_dir = folder or default_rules()
    load_rulebook(rules_dir)  # an invalid rulebook is reported (exit 4) before any scenario runs
    features_dir = features or bundled("features")
    problems = lint(features_dir)
    for problem in problems:
        click.echo(shown(problem, lang), err=True)
    if problems:
        click.echo(text("cli.rules_test.lint_failed", lang, count=len(problems)), err=True)
        ctx.exit(EXIT_FLAGGED)
    code = run_scenarios(rules_dir, features_dir, coverage, engine or "python", quiet=not verbose, lang=lang)
    ctx.exit(EXIT_FLAGGED if code else 0)


@rules.command(name="steps")
@lang_option
@click.pass_context
def rules_steps(ctx, lang):
    """Print the step vocabulary for scenarios, with an example of each step (Markdown)."""
    from .authoring.scenario_runner import step_reference

    ctx.meta["bip.lang"] = lang
    click.echo(step_reference(lang))


@rules.command(name="diff")
@click.argument("old", type=click.Path(file_okay=False))
@click.argument("new", type=click.Path(file_okay=False))
@click.option(
    "--caseload",
    "caseload",
    required=True,
    multiple=True,
    help="A folder of records, a JSONL file or CSV exports (repeatable).",
)
@as_of_option
@lang_option
@click.option(
    "--format", "fmt", type=click.Choice(["text", "markdown", "json", "html"]), default="text", show_default=True
)
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None, help="Write the report to FILE.")
@click.option(
    "--review-weeks",
    type=click.IntRange(min=1),
    default=None,
    help="The workload estimate's assumption: a case is reviewed every N weeks (default: a quarter, 13).",
)
@store_option
@click.pass_context
def rules_diff(ctx, old, new, caseload, as_of, lang, fmt, output, review_weeks, store_path):
    """Show what changing rulebook OLD into NEW does to a caseload: phases, flags, citizens.

    OLD and NEW are rule folders or releases (a hash, a unique prefix of one, or `latest`), each
    optionally with `@DATE`."""
    from .authoring.impact import compare_rule_folders, render_impact
    from .releases import DEFAULT_STORE, ReleaseError, release_side

    ctx.meta["bip.lang"] = lang
    try:
        old, new = (release_side(side, store_path or DEFAULT_STORE) for side in (old, new))
    except ReleaseError as error:
        fail("\n".join(shown(problem, lang) for problem in error.problems))

    def rejected(item):
        click.echo(f"{item.source}: {item.citizen_id or '?'}: " + "; ".join(item.texts(lang)), err=True)

    try:
        report = compare_rule_folders(old, new, list(caseload), as_of, rejected, review_weeks)
    except ValueError as error:
        raise click.UsageError(usage_text(error, lang)) from None
    write_output(render_impact(report, fmt, lang), output)


@rules.group(name="sheet")
def rules_sheet():
    """Parameters and phase thresholds in a spreadsheet (.xlsx): export, edit the values, import."""


@rules_sheet.command(name="export")
@click.argument("folder", type=click.Path(file_okay=False, exists=True))
@click.option("--out", "-o", required=True, type=click.Path(dir_okay=False), help="The .xlsx file to write.")
@lang_option
@click.pass_context
def rules_sheet_export(ctx, folder, out, lang):
    """Write the parameters (dated values) and the phase thresholds of FOLDER to a spreadsheet."""
    from .authoring.sheet import export_sheet

    ctx.meta["bip.lang"] = lang
    parameters, thresholds = export_sheet(folder, out, lang)
    click.echo(text("cli.sheet.exported", lang, out=out, parameters=parameters, thresholds=thresholds))


@rules_sheet.command(name="import")
@click.argument("sheet", type=click.Path(dir_okay=False))
@click.argument("folder", type=click.Path(file_okay=False, exists=True))
@lang_option
@click.pass_context
def rules_sheet_import(ctx, sheet, folder, lang):
    """Write the values edited in SHEET back into the rule files of FOLDER (only those that changed)."""
    from .authoring.sheet import import_sheet

    ctx.meta["bip.lang"] = lang
    changes = import_sheet(sheet, folder)
    for slot, value in changes:
        name, number = slot.key
        where = shown_path(str(slot.path))
        click.echo(text("cli.sheet.changed", lang, where=where, name=name, number=number, old=slot.value, new=value))
    click.echo(
        text("cli.sheet.imported" if changes else "cli.sheet.unchanged", lang, count=len(changes), folder=folder)
    )


@rules.command(name="release")
@click.argument("folder", type=click.Path(file_okay=False))
@click.option(
    "--approved-by",
    "approved_by",
    required=True,
    metavar="NAME",
    help="Who approves the release (not the author of the change, unless --self-approve).",
)
@click.option("--note", default=None, help="Why this release (kept in the release).")
@store_option
@guidance_option
@click.option("--self-approve", is_flag=True, help="Let the author approve; the release records it.")
@click.option(
    "--features",
    "features",
    type=click.Path(file_okay=False, exists=True),
    default=None,
    help="Scenarios to carry and run (default: the bundled scenarios, as bip rules test).",
)
@click.option(
    "--allow-failing-scenarios", "allow_failing", is_flag=True, help="Release although scenarios fail (needs --reason)."
)
@click.option("--reason", default=None, help="Why failing scenarios are allowed (kept in the release).")
@click.option(
    "--point-latest",
    is_flag=True,
    help="Content released before: point latest back at that release (a rollback; --note says why).",
)
@lang_option
@click.pass_context
def rules_release(
    ctx,
    folder,
    approved_by,
    note,
    store_path,
    guidance_dirs,
    self_approve,
    features,
    allow_failing,
    reason,
    point_latest,
    lang,
):
    """Validate and test a rulebook and write it to the release store as an approved, immutable release."""
    from .authoring.release import make_release
    from .releases import DEFAULT_STORE, ReleaseError

    ctx.meta["bip.lang"] = lang
    store = store_path or DEFAULT_STORE
    try:
        result = make_release(
            folder,
            approved_by,
            note,
            store,
            guidance_dirs,
            self_approve,
            features=features or bundled("features"),
            allow_failing=(reason or "") if allow_failing else None,
        )
    except ReleaseError as error:
        fail("\n".join(shown(problem, lang) for problem in error.problems))
    release = result.release
    for warning in result.warnings:
        click.echo(text("cli.validate.warning", lang, problem=shown(warning, lang)), err=True)
    if point_latest and not result.created:
        rollback_to(store, release.hash, approved_by, note or "", lang)
        return
    heading = text("cli.release.created" if result.created else "cli.release.exists", lang)
    approval = text("cli.release.approved_by", lang, approver=release.approver)
    if release.self_approved:
        approval += f" ({text('cli.release.self_approved', lang)})"
    click.echo(f"{heading}: {release.hash} {release.name} {release.version}, {approval}, {release.time}")
    click.echo(f"  {shown_path(str(release.folder))}")
    click.echo(f"  {release_scenarios(release, lang)}")


def rollback_to(store, ref, by, reason, lang):
    """Point `latest` at the release `ref` and say where it pointed before (exit 2 when refused)."""
    from .releases import ReleaseError, point_latest

    try:
        release, before = point_latest(store, ref, by, reason)
    except ReleaseError as error:
        fail("\n".join(shown(problem, lang) for problem in error.problems))
    was = f"{before.hash} {before.name} {before.version}" if before else text("cli.rollback.none", lang)
    click.echo(
        text(
            "cli.rollback.moved",
            lang,
            hash=release.hash,
            name=release.name,
            version=release.version,
            time=release.time,
            before=was,
        )
    )


@rules.command(name="rollback")
@click.argument("release_ref", metavar="RELEASE")
@click.option("--by", "by", required=True, metavar="NAME", help="Who decides the rollback (kept in the store).")
@click.option("--reason", required=True, help="Why (kept in the store).")
@store_option
@lang_option
@click.pass_context
def rules_rollback(ctx, release_ref, by, reason, store_path, lang):
    """Point `latest` at an earlier release (hash or unique prefix); services follow on their next reload."""
    from .releases import DEFAULT_STORE

    ctx.meta["bip.lang"] = lang
    rollback_to(store_path or DEFAULT_STORE, release_ref, by, reason, lang)


def release_scenarios(release, lang):
    """One line on the scenarios a release was tested with."""
    scenarios = release.manifest.get("scenarios")
    if not scenarios:
        return text("cli.release.no_scenarios", lang)
    line = text(
        "cli.release.scenarios", lang, passed=scenarios["passed"], failed=scenarios["failed"], features="features/"
    )
    allowed = scenarios.get("failing_allowed")
    return line + (f"; {text('cli.release.failing_allowed', lang, reason=allowed['reason'])}" if allowed else "")


@rules.command(name="releases")
@store_option
@lang_option
@click.pass_context
def rules_releases(ctx, store_path, lang):
    """List the releases in the release store, oldest first."""
    from .releases import DEFAULT_STORE, LATEST, list_releases, open_release

    ctx.meta["bip.lang"] = lang
    store = store_path or DEFAULT_STORE
    releases = list_releases(store)
    latest = open_release(store, LATEST).hash if releases else None
    for release in releases:
        flag = " " + text("cli.release.self_approved", lang) if release.self_approved else ""
        note = f"  {release.note}" if release.note else ""
        approval = text("cli.release.approved_by", lang, approver=release.approver)
        mark = f"  {text('cli.releases.latest', lang)}" if release.hash == latest else ""
        click.echo(
            f"{release.hash[:12]}  {release.time}  {release.name} {release.version}  {approval}{flag}{note}{mark}"
        )


@main.command()
@click.argument("decision_id")
@click.option(
    "--record",
    "record_file",
    default=None,
    metavar="FILE",
    help="The original record: the whole check is re-run from it (its hash must match the log).",
)
@database_option
@store_option
@lang_option
@click.pass_context
def replay(ctx, decision_id, record_file, database, store_path, lang):
    """Re-run a logged decision under the release it used, and show whether the result is identical."""
    from .log.errors import StoreError
    from .log.replay import render_replay
    from .log.replay import replay as replay_decision
    from .releases import ReleaseError

    ctx.meta["bip.lang"] = lang
    try:
        result = replay_decision(decision_id, database, store_path, record_file)
    except ReleaseError as error:
        fail("\n".join(shown(problem, lang) for problem in error.problems))
    except StoreError as error:
        fail(error.text(lang))
    click.echo(render_replay(result, lang), nl=False)
    if not result.identical:
        ctx.exit(EXIT_FLAGGED)


@main.group()
def tokens():
    """API tokens for `bip serve`: create, list and revoke (only a hash of each token is stored)."""


@tokens.command(name="create")
@click.option("--name", required=True, help="A name for the token: the user or system that will use it.")
@click.option("--role", required=True, help="caseworker, team_lead, policy, auditor or system.")
@database_option
@lang_option
def tokens_create(name, role, database, lang):
    """Create a token and print it once."""
    from .log.errors import StoreError, message
    from .log.tokens import ROLES, create_token

    if role not in ROLES:
        fail(message("role", lang, role=role, roles=", ".join(ROLES)))
    store = open_log(database, lang)
    try:
        token = create_token(store, name, role)
    except StoreError as error:
        fail(error.text(lang))
    finally:
        store.close()
    click.echo(token)
    click.echo(message("token_once", lang), err=True)


@tokens.command(name="list")
@database_option
@lang_option
def tokens_list(database, lang):
    """List the tokens: name, role, when created and when revoked (never the token)."""
    from .log.errors import StoreError, message
    from .log.tokens import list_tokens

    store = open_log(database, lang, create=False)
    try:
        rows = list_tokens(store)
    except StoreError as error:
        fail(error.text(lang))
    finally:
        store.close()
    if not rows:
        click.echo(message("no_tokens", lang, url=store.url), err=True)
        return
    click.echo(message("token_header", lang))
    for row in rows:
        click.echo(f"{row['name']}\t{row['role']}\t{row['created']}\t{row['revoked'] or '-'}")


@tokens.command(name="revoke")
@click.argument("name")
@database_option
@lang_option
def tokens_revoke(name, database, lang):
    """Revoke the token NAME: it is refused from now on."""
    from .log.errors import StoreError, message
    from .log.tokens import revoke_token

    store = open_log(database, lang, create=False)
    try:
        revoked = revoke_token(store, name)
    except StoreError as error:
        fail(error.text(lang))
    finally:
        store.close()
    if not revoked:
        fail(message("not_revoked", lang, name=name))
    click.echo(message("revoked", lang, name=name))


@main.group(name="log")
def log_group():
    """The decision log: export, purge, verify, checkpoints, keys and database roles."""


purpose_option = click.option(
    "--purpose", default="access request", show_default=True, help="Why the log is read (written to the log)."
)


@log_group.command(name="export")
@click.option("--citizen", required=True, help="The citizen's id, as in the records.")
@database_option
@click.option("--format", "fmt", type=click.Choice(["json", "jsonl", "csv"]), default="json", show_default=True)
@purpose_option
@lang_option
def log_export(citizen, database, fmt, purpose, lang):
    """Write every entry and assessment about one citizen: dates, who, purposes and results (the read is logged)."""
    from .log.decisions import default_user
    from .log.errors import StoreError, message
    from .log.export import read_citizen_log, write_export
    from .log.tokens import Principal

    store = open_log(database, lang, create=False)
    try:
        found = read_citizen_log(store, citizen, Principal(default_user(), "auditor"), purpose)
        count = write_export(found, fmt, sys.stdout)
    except StoreError as error:
        fail(error.text(lang))
    finally:
        store.close()
    click.echo(message("exported", lang, count=count, url=store.url), err=True)


@log_group.command(name="agreement")
@click.option("--since", required=True, type=IsoDate(), callback=_date, help="The first day (YYYY-MM-DD).")
@click.option("--until", required=True, type=IsoDate(), callback=_date, help="The last day (YYYY-MM-DD).")
@click.option("--teams", type=click.Path(dir_okay=False, exists=True), help="A CSV file of user,team lines.")
@click.option("--team", default=None, help="Only this team's assessments (needs --teams).")
@database_option
@click.option(
    "--format", "fmt", type=click.Choice(["text", "markdown", "json", "html"]), default="text", show_default=True
)
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None, help="Write the report to FILE.")
@rules_option
@lang_option
def log_agreement(since, until, teams, team, database, fmt, output, rules_dir, lang):
    """How often the caseworkers agreed with the checks, per phase and flag, and why they did not."""
    from .log.agreement import agreement, read_teams, render_agreement
    from .log.errors import StoreError
    from .rulebook import load_rulebook

    store = open_log(database, lang, create=False)
    try:
        report = agreement(store, since, until, read_teams(teams) if teams else None, team)
    except StoreError as error:
        fail(error.text(lang))
    finally:
        store.close()
    rulebook = load_rulebook(rules_dir or default_rules())
    labels = {key: phase.label.get(lang) for key, phase in rulebook.phases.items()}
    write_output(render_agreement(report, fmt, lang, labels), output)


def retention_period() -> str:
    """The decision log's default retention period (its module is loaded only when it is needed)."""
    from .log.retention import DEFAULT_RETENTION

    return DEFAULT_RETENTION


@log_group.command(name="purge")
@click.option(
    "--older-than",
    "age",
    default=retention_period,
    help="Delete entries older than this: Ny years, Nm months or Nd days. Default: the log's retention period.",
)
@click.option("--dry-run", is_flag=True, help="Only count what would be deleted; delete nothing.")
@click.option("--force", is_flag=True, help="Purge even within the minimum retention period (recorded as forced).")
@database_option
@lang_option
def log_purge(age, dry_run, force, database, lang):
    """Delete the decisions (and their assessments) older than the retention period; the purge is logged."""
    from .log.decisions import default_user
    from .log.errors import StoreError, message
    from .log.retention import cutoff_date, purge

    try:
        cutoff = cutoff_date(age)
    except ValueError:
        fail(message("bad_age", lang, age=age))
    store = open_log(database, lang, create=False)
    try:
        result = purge(store, cutoff, default_user(), dry_run=dry_run, force=force)
    except StoreError as error:
        fail(error.text(lang))
    finally:
        store.close()
    key = "purge_dry_run" if dry_run else "purged"
    click.echo(message(key, lang, count=result.decisions, assessments=result.assessments, date=cutoff.isoformat()))


@log_group.command(name="verify")
@click.option(
    "--checkpoint",
    "checkpoint_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="A checkpoint from `bip log checkpoint`, kept elsewhere: the log must still hold what it names.",
)
@database_option
@lang_option
def log_verify(checkpoint_file, database, lang):
    """Check the hash chains: name every entry changed, deleted, inserted or moved (exit 6 if any)."""
    from .log.errors import StoreError, message
    from .log.maintenance import verify_log

    point = None
    if checkpoint_file:
        try:
            point = json.loads(Path(checkpoint_file).read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            fail(message("checkpoint_unreadable", lang, path=checkpoint_file, reason=str(error)))
    store = open_log(database, lang, create=False)
    try:
        findings = verify_log(store, point)
    except StoreError as error:
        fail(error.text(lang))
    finally:
        store.close()
    for finding in findings:
        click.echo(
            message(f"verify_{finding.problem}", lang, table=finding.table, seq=finding.seq, entry=finding.entry),
            err=True,
        )
    if findings:
        fail(message("verify_failed", lang, count=len(findings), url=store.url), EXIT_LOG_TAMPERED)
    click.echo(message("verify_ok", lang, url=store.url))


@log_group.command(name="checkpoint")
@database_option
@lang_option
def log_checkpoint(database, lang):
    """Print a checkpoint (JSON: each chain's last entry and hash) to keep outside the log."""
    from .log.errors import StoreError
    from .log.maintenance import take_checkpoint

    store = open_log(database, lang, create=False)
    try:
        point = take_checkpoint(store)
    except StoreError as error:
        fail(error.text(lang))
    finally:
        store.close()
    click.echo(json.dumps(point, indent=2, sort_keys=True))


@log_group.command(name="rotate-key")
@database_option
@lang_option
def log_rotate_key(database, lang):
    """Add a new pseudonym key: new entries use it, older entries stay findable under the old ones."""
    from .log.errors import StoreError, message
    from .log.maintenance import rotate_key

    store = open_log(database, lang, create=False)
    try:
        new_id, path = rotate_key(store)
    except StoreError as error:
        fail(error.text(lang))
    finally:
        store.close()
    click.echo(message("key_rotated", lang, key_id=new_id, path=str(path)))


@log_group.command(name="move-key")
@click.option(
    "--key-file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Where to write the key (default: $BIP_PSEUDONYM_KEY_FILE, or beside a SQLite log).",
)
@database_option
@lang_option
def log_move_key(key_file, database, lang):
    """Move the pseudonym key a log made before bip 5 keeps inside it out, into a key file."""
    from .log.errors import StoreError, message
    from .log.maintenance import move_key_out

    store = open_log(database, lang, create=False)
    try:
        path = Path(key_file) if key_file else store.pseudonym_key_file()
        moved = move_key_out(store, path)
    except StoreError as error:
        fail(error.text(lang))
    finally:
        store.close()
    click.echo(message("key_moved", lang, key_id=moved, path=str(path)))


@log_group.command(name="migrate")
@click.option(
    "--grant",
    "service_role",
    default=None,
    metavar="ROLE",
    help="PostgreSQL: let this login role only read and append.",
)
@database_option
@lang_option
def log_migrate(service_role, database, lang):
    """Create or upgrade the log's tables (as their owner); with --grant, set the service role's rights."""
    from .log.errors import StoreError, message
    from .log.maintenance import grant_service_role

    store = open_log(database, lang)
    try:
        version = store.schema_version()
        if service_role:
            grant_service_role(store, service_role)
    except StoreError as error:
        fail(error.text(lang))
    finally:
        store.close()
    click.echo(message("migrated", lang, url=store.url, version=version))
    if service_role:
        click.echo(message("granted", lang, role=service_role))


@main.command(context_settings={"auto_envvar_prefix": "BIP", "show_default": True})
@click.option("--host", default=None, help="Address to listen on.  [default: 127.0.0.1]")
@click.option("--port", type=click.IntRange(0, 65535), default=None, help="[default: 8080]")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=None,
    help="Worker processes under gunicorn (each opens the log).  [default: 1]",
)
@click.option(
    "--access-log/--no-access-log",
    default=None,
    help="Log every request: route, status, latency, user, decision id.  [default: on]",
)
@click.option(
    "--log-level", type=click.Choice(["debug", "info", "warning", "error", "critical"]), default=None
)  # logs.LEVELS
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default=None,
    help="The server log's lines: text or one JSON object a line.  [default: text]",
)
@click.option(
    "--graceful-timeout",
    type=click.FloatRange(0),
    default=None,
    metavar="SECONDS",
    help="On SIGTERM or a reload, how long open requests (a long batch too) may still run.  [default: 30]",
)
@click.option(
    "--keepalive",
    type=click.FloatRange(0),
    default=None,
    metavar="SECONDS",
    help="How long an idle kept-alive connection stays open.  [default: 5]",
)
@click.option(
    "--keepalive-requests",
    type=click.IntRange(1),
    default=None,
    metavar="N",
    help="Requests one kept-alive connection serves before it is closed (spreads clients over the workers).  [default: 100]",
)
@click.option(
    "--request-timeout",
    type=click.FloatRange(0.1),
    default=None,
    metavar="SECONDS",
    help="Time a client has to send a request's head, and at most between two parts of a body.  [default: 30]",
)
@click.option(
    "--max-header-size",
    type=click.IntRange(256),
    default=None,
    metavar="BYTES",
    help="Largest request head (request line and headers); larger is 431.  [default: 65536]",
)
@click.option(
    "--max-headers", type=click.IntRange(1), default=None, help="Most header lines in a request.  [default: 100]"
)
@click.option(
    "--timezone",
    default=None,
    metavar="ZONE",
    help="The zone whose date is today (IANA name).  [default: Europe/Copenhagen]",
)
@click.option("--openapi/--no-openapi", default=None, help="Serve /openapi.json to anyone.  [default: on]")
@database_option
@rules_option
@guidance_option
@engine_option
@click.option("--watch", is_flag=True, default=None, help="Reload the rulebook when a rule file changes.")
@click.option(
    "--trust-proxy",
    metavar="HEADER",
    default=None,
    help="Take the user from HEADER and the role from HEADER-Role, set by a reverse proxy that "
    "strips them from clients (see docs/operations.md). Off by default.",
)
@click.option(
    "--oidc",
    type=click.Path(dir_okay=False),
    default=None,
    envvar="BIP_OIDC_CONFIG",
    metavar="FILE",
    help="Sign caseworkers in through the municipality's OpenID Connect provider, set up in FILE "
    "(YAML; see docs/guide/sign-in.md). Also BIP_OIDC_CONFIG.",
)
@click.option(
    "--max-body",
    type=click.IntRange(1),
    default=None,
    metavar="BYTES",
    help="Largest request body for check and explain (default 1000000).",
)
@click.option(
    "--max-batch-body",
    type=click.IntRange(1),
    default=None,
    metavar="BYTES",
    help="Largest request body for batch (default 100000000).",
)
@click.option(
    "--cors-origin",
    "cors_origins",
    multiple=True,
    metavar="ORIGIN",
    help="Allow browser calls from ORIGIN (repeatable). CORS is off by default.",
)
@click.option(
    "--caseload",
    type=click.Path(exists=True),
    default=None,
    metavar="PATH",
    help="Citizens the page can open by id: a folder of records, a .jsonl file, or a folder of "
    "CSV exports; re-read when they change.",
)
@click.option(
    "--release",
    "release",
    default=None,
    metavar="HASH|latest",
    help="Serve an approved release from the release store; `latest` is looked up again on reload.",
)
@click.option(
    "--store",
    "store_path",
    type=click.Path(file_okay=False),
    default=None,
    help="The release store (default: ./bip-releases).",
)
@click.pass_context
def serve(ctx, **options):
    """Run the check as an HTTP service (API, access control, decision log); see docs/operations.md.

    Every option can be set in the environment too: BIP_ and its name in capitals (BIP_PORT,
    BIP_WORKERS, BIP_LOG_FORMAT...).
    """
    from .service.server import serve as run_service
    from .service.settings import ServiceSettings, password_in_url

    settings = ServiceSettings.from_options(options)
    if password_in_url(settings.database):  # never on a command line nor in the workers' environment
        fail(text("serve.database_password", "da"))
    if settings.timezone:
        os.environ["BIP_TIMEZONE"] = settings.timezone
    from .clock import zone

    zone()  # a zone the system does not know: exit 2 now, not a worker failing to boot
    if settings.release:
        rules_dir, guidance = from_release(
            ctx, settings.rules, settings.guidance, settings.release, settings.store_path
        )
        settings.rules, settings.guidance = Path(rules_dir), [Path(folder) for folder in guidance]
    checker = make_checker(ctx, settings.rules, settings.guidance, settings.engine, "da")  # invalid: exit 4
    if settings.oidc is not None:
        from .service.oidc import load_config

        try:
            load_config(settings.oidc)
        except KeyedError as error:
            fail(error.text("da"))  # unusable provider settings: exit 2
    open_log(settings.database, "da", keys=True).close()  # an unusable log, or its keys: exit 2
    run_service(settings, checker)


@main.command(name="engines")
def engines():
    """Show which rule executors can run on this Python."""
    from .executors import default_executor_name, durable_available

    click.echo(f"durable: {'available' if durable_available() else 'not available'}")
    click.echo("python: available")
    click.echo(f"default: {default_executor_name()}")


def run() -> None:
    """The `bip` program: `main` as a process's entry point.

    When the command is done the process ends, so the objects it made are frozen out of the garbage
    collector (`gc.freeze`): the interpreter's final full collection, which only frees memory the
    process is about to give back, would add about a fifth to a cold `bip check`. (Instagram's
    servers skip it for the same reason.) Everything else of a normal exit runs as usual.
    """
    try:
        main()
    finally:
        import gc

        gc.freeze()


if __name__ == "__main__":  # pragma: no cover
    run()
