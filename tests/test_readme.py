"""The README and the documentation site are the contract: check them against the code so they cannot drift apart.

The pages are read as text from docs/; the service's tables are held to the app in
tests/test_service_readme.py. `make docs` (part of `make test`) builds the site with
`mkdocs build --strict`, which fails on a broken link or anchor and on a page left out of the nav.
"""

from __future__ import annotations

import re
import subprocess
import sys

import click
import pytest
import yaml
from click.testing import CliRunner

from bip_engine import cli
from tests.conftest import ROOT

DOCS = ROOT / "docs"
README = (ROOT / "README.md").read_text(encoding="utf-8")


def page(name: str) -> str:
    """The text of one page of the site, by its path under docs/."""
    return (DOCS / name).read_text(encoding="utf-8")


def all_pages() -> dict[str, str]:
    """Every Markdown page of the site and the README, by name."""
    pages = {str(path.relative_to(ROOT)): path.read_text(encoding="utf-8") for path in sorted(DOCS.rglob("*.md"))}
    pages["README.md"] = README
    return pages


def test_the_readme_library_example_runs(capsys):
    code = re.search(r"```python\n(.*?)```", README, flags=re.S)
    assert code is not None
    exec(compile(code.group(1), "README.md", "exec"), {})
    printed = capsys.readouterr().out
    assert re.match(r"(progress|standstill|regress|derailment) \[", printed), printed[:200]


def test_the_readme_stays_short_and_names_the_two_commands():
    assert len(README.splitlines()) <= 160
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for target in ("example", "test", "docs"):
        assert f"make {target}" in README and re.search(rf"^{target}:", makefile, flags=re.M), target
    assert re.search(r"^test: .*\bdocs\b", makefile, flags=re.M), "make test must build the docs"
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_every_page_is_in_the_nav_and_every_nav_entry_is_a_page():
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8").replace("!!python", "#"))

    def entries(nav):
        for item in nav:
            for value in item.values():
                yield from entries(value) if isinstance(value, list) else [value]

    nav = set(entries(config["nav"]))
    pages = {str(path.relative_to(DOCS)) for path in DOCS.rglob("*.md")}
    assert nav == pages


def test_the_pages_name_the_installed_package_not_the_source_folder():
    """Code is imported as bip_engine: `from engine import` or `engine.module` would not run after an install."""
    old_names = re.compile(r"\bfrom engine\b|\bimport engine\b|(?<![\w/.-])engine\.[a-z_]+")
    found = [(name, match) for name, text in all_pages().items() for match in old_names.findall(text)]
    assert found == []
    assert old_names.findall("from engine import Checker; engine.check; the engine.") == [
        "from engine",
        "engine.check",
    ]


def test_facts_table_matches_the_fact_catalogue(rulebook):
    rows = dict(re.findall(r"^\| `([a-z0-9_<>]+)` \| (\w+) \|", page("reference/rules.md"), flags=re.M))
    expected = {}
    for name, spec in rulebook.facts.items():
        expected["score_<indicator>" if name.startswith("score_") else name] = spec.type
    assert rows == expected


#: Literals shaped like a problem code that are something else.
NOT_PROBLEM_CODES = {"S256"}  # PKCE's code challenge method (RFC 7636), in the sign-in


def test_every_problem_code_in_the_code_is_documented():
    documented = set()
    for first, last in re.findall(r"\b([A-Z]\d{3})(?:–([A-Z]\d{3}))?", page("reference/codes.md")):
        start = int(first[1:])
        end = int(last[1:]) if last else start
        documented.update(f"{first[0]}{number:03d}" for number in range(start, end + 1))
    used = set()
    for path in (ROOT / "engine").rglob("*.py"):
        used.update(re.findall(r'"([A-Z]\d{3})"', path.read_text(encoding="utf-8")))
    assert used and used - documented - NOT_PROBLEM_CODES == set()


def test_exit_codes_table_matches_the_cli():
    """The table lists 0 and every `EXIT_*` code the command line defines, and nothing else."""
    table = {int(code) for code in re.findall(r"^\| (\d+) \| ", page("reference/codes.md"), flags=re.M)}
    defined = {value for name, value in vars(cli).items() if name.startswith("EXIT_") and isinstance(value, int)}
    assert {cli.EXIT_NOT_INSTALLED, cli.EXIT_INTERNAL} <= defined
    assert table == defined | {0}


def test_the_report_schema_version_is_the_one_the_code_writes():
    """Every "schema version X.Y" the records page and the changelog name is the report's `SCHEMA_VERSION`."""
    from bip_engine.report import SCHEMA_VERSION

    for text in (page("reference/records.md"), (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")):
        named = set(re.findall(r"schema(?: version|_version`?,? now) (\d+\.\d+)", text))
        assert named, "no report schema version named"
        assert SCHEMA_VERSION in named
    current = re.findall(r"schema version (\d+\.\d+)\)", page("reference/records.md"))
    assert current == [SCHEMA_VERSION]


def test_every_environment_variable_the_code_reads_is_in_the_operations_guide():
    """The configuration table names every `BIP_...` variable in the code, and no other."""
    sources = [ROOT / "cli.py", *(ROOT / "engine").rglob("*.py")]
    used = {name for path in sources for name in re.findall(r"\bBIP_[A-Z_]+\b", path.read_text(encoding="utf-8"))}
    serve = cli.main.commands["serve"]  # every serve option is read from BIP_<NAME> too (click's auto_envvar_prefix)
    assert serve.context_settings.get("auto_envvar_prefix") == "BIP"
    used |= {
        f"BIP_{param.name.upper()}"
        for param in serve.params
        if isinstance(param, click.Option) and param.name and not param.envvar  # an explicit envvar replaces it
    }
    guide = page("operations.md")
    documented = set(re.findall(r"\bBIP_[A-Z_]+\b", guide))
    assert {"BIP_CACHE_DIR", "BIP_INCIDENT_DIR"} <= used
    assert used == documented


def commands(group: click.Group, prefix: str = "") -> dict[str, click.Command]:
    """Every command of the command line by its full name ("rules test"), groups included."""
    found: dict[str, click.Command] = {}
    for name, command in group.commands.items():
        found[prefix + name] = command
        if isinstance(command, click.Group):
            found.update(commands(command, f"{prefix}{name} "))
    return found


def test_every_command_is_described_in_a_guide_or_reference_page():
    """The CLI reference is generated; this holds that each command is also explained in words somewhere."""
    prose = "\n".join(text for name, text in all_pages().items() if name != "docs/reference/cli.md")
    missing = [name for name in commands(cli.main) if f"bip {name}" not in prose]
    assert missing == []


def test_the_cli_reference_is_generated_from_the_click_commands():
    """The page holds mkdocs-click's directive, no typed synopsis, and what it generates names every command."""
    from mkdocs_click._docs import make_command_docs

    text = page("reference/cli.md")
    directive = dict(re.findall(r"^    :(\w+): (.+)$", text.split("::: mkdocs-click\n")[1], flags=re.M))
    assert directive["module"] == "bip_engine.cli" and directive["command"] == "main"
    assert directive["list_subcommands"] == "True" and directive["prog_name"] == "bip"
    assert not re.search(r"^bip \w", text, flags=re.M)  # no typed synopsis beside the generated one
    generated = "\n".join(
        make_command_docs(
            "bip", cli.main, depth=int(directive["depth"]), style=directive["style"], list_subcommands=True
        )
    )
    documented, path = set(), []
    for hashes, word in re.findall(r"^(#+) (\S+)$", generated, flags=re.M):
        level = len(hashes) - int(directive["depth"]) - 2  # 0 for bip's commands, 1 for a group's
        if level >= 0:
            path = [*path[:level], word]
            documented.add(" ".join(path))
    assert documented == set(commands(cli.main))
    assert "Sentinel" not in generated  # click's unset defaults are shown as text in the table style


def options_of(command: click.Command) -> set[str]:
    return {option for parameter in command.params for option in (*parameter.opts, *parameter.secondary_opts)}


def written_commands(text: str):
    """(command name, options written after it) for every `bip ...` written in code in a page."""
    names = commands(cli.main)
    spans = re.findall(r"(?<!`)`([^`]+)`(?!`)", text) + re.findall(r"^\s*(bip .*)$", text, flags=re.M)
    for span in spans:
        for part in re.split(r"[;|&]{1,2}(?![^\[]*\])|\bthen\b", span):
            match = re.match(r"\s*bip ([a-z]+(?:-[a-z]+)*(?: [a-z]+(?:-[a-z]+)*){0,2})(.*)", part, flags=re.S)
            if not match:
                continue
            words, rest = match.group(1).split(), match.group(2)
            while len(words) > 1 and " ".join(words) not in names:  # the longest command path written
                rest = " " + words.pop() + rest
            name = " ".join(words)
            if name not in names:
                yield name, {"<unknown command>"}
                continue
            rest = rest.split("#")[0]
            yield name, set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*|-[a-z])\b", rest))


def test_every_option_written_after_a_bip_command_is_an_option_of_that_command():
    names = commands(cli.main)
    wrong = []
    seen = 0
    for page_name, text in all_pages().items():
        for name, options in written_commands(text):
            seen += 1
            if options == {"<unknown command>"}:
                wrong.append((page_name, f"bip {name}", "no such command"))
                continue
            known = options_of(names[name]) | {"-h", "--help"}
            wrong += [(page_name, f"bip {name}", option) for option in sorted(options - known)]
    assert seen > 50 and wrong == []


def test_the_option_check_would_catch_a_misspelt_option():
    assert list(written_commands("run `bip check x.yaml --as-off 2026-01-01` and `bip nosuch`")) == [
        ("check", {"--as-off"}),
        ("nosuch", {"<unknown command>"}),
    ]


def test_the_text_report_excerpt_is_what_the_command_prints():
    text = page("reference/records.md")
    command = re.search(r"\(`(bip check examples/\S+ --as-of \S+ --engine python)`\)", text)
    assert command is not None
    excerpt = text.split(command.group(0))[1].split("```text\n")[1].split("```")[0]
    args = command.group(1).split()[1:]
    output = subprocess.run(
        [sys.executable, "-m", "bip_engine.cli", *args], capture_output=True, text=True, cwd=ROOT
    ).stdout
    lines = [line for line in excerpt.splitlines() if line.strip() not in ("", "...")]
    assert len(lines) > 10
    assert [line for line in lines if line not in output.splitlines()] == []


@pytest.mark.slow
def test_policy_staff_walkthrough_commands_run(tmp_path):
    """The Danish walkthrough: a local rulebook that changes one threshold validates and changes a phase."""
    guide = page("guide/regler.md")
    section = guide.split("## Ændre en grænse")[1].split("\n## ")[0]
    blocks = re.findall(r"```yaml\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 2
    for block in blocks:
        write_block(tmp_path, block)
    local = tmp_path / "kommunens-regler"
    scenario = section.split("```gherkin\n")[1].split("```")[0]
    features = tmp_path / "kommunens-scenarier"
    features.mkdir()
    (features / "tilbagegang.feature").write_text(dedent(scenario), encoding="utf-8")
    assert CliRunner().invoke(cli.main, ["rules", "validate", str(local)]).exit_code == 0
    result = run_bip("rules", "test", str(local), "--features", str(features))
    assert result.returncode == 0, result.stdout + result.stderr
    default = run_bip("rules", "test", "--features", str(features))
    assert default.returncode == 1  # under the default rules the same citizen is in regress


def dedent(block: str) -> str:
    """A code block of a numbered list item, without the list's three-space indent."""
    return "\n".join(line[3:] if line.startswith("   ") else line for line in block.splitlines()) + "\n"


def write_block(folder, block: str) -> None:
    """Write a YAML block whose first line is a comment naming its file (`# folder/file.yaml`)."""
    text = dedent(block)
    name = text.splitlines()[0].lstrip("# ").strip()
    target = folder / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")


def run_bip(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bip_engine.cli", *args], capture_output=True, text=True, cwd=ROOT)


@pytest.mark.slow
def test_policy_staff_dated_threshold_walkthrough_runs(tmp_path):
    """The Danish walkthrough of a threshold that changes on a date: files, validate, test, diff, release."""
    import json as json_module

    section = page("guide/regler.md").split("## En grænse, der skifter på en dato")[1].split("\n## ")[0]
    blocks = re.findall(r"```yaml\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 3
    for block in blocks:
        write_block(tmp_path, block)
    local = tmp_path / "kommunens-regler"
    scenario = section.split("```gherkin\n")[1].split("```")[0]
    features = tmp_path / "kommunens-scenarier"
    features.mkdir()
    (features / "grænse.feature").write_text(dedent(scenario), encoding="utf-8")
    runner = CliRunner()
    assert runner.invoke(cli.main, ["rules", "validate", str(local)]).exit_code == 0
    result = run_bip("rules", "test", str(local), "--features", str(features))
    assert result.returncode == 0 and "2 passed" in result.stdout, result.stdout + result.stderr
    caseload = tmp_path / "sagsstamme.jsonl"
    runner.invoke(cli.main, ["simulate", "--citizens", "200", "--out", str(caseload)])
    scores = {"health_coping": 3, "opportunity_knowledge": 3, "work_confidence": 3, "cooperation": 3, "wage_realism": 3}
    with caseload.open("a", encoding="utf-8") as stream:  # the scenario's citizen: a fall of exactly 0.4
        for index in range(3):
            measurements = [
                {"date": "2026-08-12", "scores": scores},
                {"date": "2026-11-10", "scores": dict(scores, health_coping=2, opportunity_knowledge=2)},
            ]
            stream.write(json_module.dumps({"id": f"FALD-{index}", "measurements": measurements}) + "\n")
    diff = runner.invoke(
        cli.main,
        [
            "rules",
            "diff",
            f"{local}@2026-12-31",
            f"{local}@2027-01-01",
            "--caseload",
            str(caseload),
            "--as-of",
            "2026-11-22",
            "--format",
            "json",
        ],
    )
    assert diff.exit_code == 0, diff.output
    table = json_module.loads(diff.stdout)["phases"]["table"]
    assert table["regress"]["standstill"] >= 3 and table["standstill"]["regress"] == 0
    store = tmp_path / "bip-releases"
    refused = runner.invoke(
        cli.main,
        ["rules", "release", str(local), "--approved-by", "Mette Sørensen", "--store", str(store)],
    )
    assert refused.exit_code == 2
    released = runner.invoke(
        cli.main,
        [
            "rules",
            "release",
            str(local),
            "--approved-by",
            "Jens Hansen",
            "--note",
            "Ny grænse fra 2027",
            "--store",
            str(store),
            "--features",
            str(features),
        ],
    )
    assert released.exit_code == 0 and "godkendt af Jens Hansen" in released.output
    assert "Ny grænse fra 2027" in runner.invoke(cli.main, ["rules", "releases", "--store", str(store)]).output


def test_the_caseworkers_guide_names_every_phase_and_every_flag_title(rulebook):
    """The caseworkers' guide describes the bundled rules: every phase by its Danish label, every flag by its title."""
    text = page("guide/sagsbehandlere.md")
    labels = [phase.label.da for phase in rulebook.phases.values()]
    assert len(labels) == 4 and [label for label in labels if f"**{label}**" not in text] == []
    titles = []
    for flag in rulebook.flag_ids:
        template = (ROOT / "guidance" / "da" / "flags" / f"{flag}.j2").read_text(encoding="utf-8")
        title = re.search(r"\{% block title %\}(.*?)\{% endblock %\}", template, re.S)
        assert title is not None, flag
        titles += [piece.strip() for piece in re.split(r"\{[%{#].*?[%}#]\}", title.group(1)) if piece.strip()]
    assert len(titles) > len(rulebook.flag_ids) > 10
    assert [title for title in titles if f"| {title} |" not in text] == []


def test_the_code_points_at_the_documentation_pages_not_the_readme():
    """Help texts and docstrings name the page that says it; the README is only a start page now."""
    sources = [ROOT / "cli.py", *(ROOT / "engine").rglob("*.py"), *(ROOT / "benchmarks").glob("*.py")]
    stale = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sources
        if not path.is_symlink()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "README" in line
    ]
    assert stale == []
    named = set(re.findall(r"docs/([\w/-]+\.md)", "\n".join(path.read_text(encoding="utf-8") for path in sources)))
    assert named, "the code names no documentation page"
    assert {name for name in named if not (DOCS / name).is_file()} == set()
