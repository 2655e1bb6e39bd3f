"""The command line, through click's CliRunner: output formats, exit codes and every error path."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from bip_engine import cli, durable_available
from tests.conftest import ROOT, record, replace_in

EXAMPLE = str(ROOT / "examples" / "stilstand.yaml")


def run(*args, input=None):
    return CliRunner().invoke(cli.main, list(args), input=input, catch_exceptions=False)


def write(tmp_path, data, name="r.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True) if not isinstance(data, str) else data, encoding="utf-8")
    return str(path)


def test_check_text_in_danish_and_english():
    danish = run("check", EXAMPLE, "--as-of", "2026-11-22", "--engine", "python")
    assert danish.exit_code == 0, danish.output
    assert "Stilstand" in danish.output and "EX-STILSTAND" in danish.output
    english = run("check", EXAMPLE, "--as-of", "2026-11-22", "--lang", "en", "--engine", "python")
    assert "Standstill" in english.output
    assert "\033[" not in danish.output  # no colour when not on a terminal


def test_check_text_fits_80_columns():
    output = run("check", EXAMPLE, "--as-of", "2026-11-22", "--engine", "python").output
    too_long = [line for line in output.splitlines() if len(line) > 80]
    assert too_long == []


def test_check_json_has_the_documented_fields_and_is_byte_identical():
    first = run("check", EXAMPLE, "--as-of", "2026-11-22", "--format", "json", "--engine", "python").output
    second = run("check", EXAMPLE, "--as-of", "2026-11-22", "--format", "json", "--engine", "python").output
    assert first == second
    report = json.loads(first)
    assert report["schema_version"] == "1.3"
    assert report["phase"]["id"] == "standstill"
    assert report["phase"]["confidence"] == "high"
    assert report["phase"]["evidence"]
    assert {"meaning", "coherence", "momentum"} <= set(report["guidance"])
    assert [point["number"] for point in report["checklist"]] == list(range(1, 11))
    flag_ids = {flag["id"] for flag in report["flags"]}
    assert {"caseworker_change", "staircase_language", "no_job_oriented_element"} <= flag_ids
    changed = next(flag for flag in report["flags"] if flag["id"] == "caseworker_change")
    assert changed["severity"] == "high" and changed["source"] == "bip_caseworker_change"
    assert set(report["rulebook"]) == {"name", "version", "hash", "release", "templates_hash", "software_version"}
    assert report["rulebook"]["release"] is None
    assert report["rules_as_of"] == "2026-11-22"


def test_check_markdown():
    output = run("check", EXAMPLE, "--as-of", "2026-11-22", "--format", "markdown", "--engine", "python").output
    assert output.startswith("#") and "- [x]" in output


def test_check_reads_stdin():
    text = (ROOT / "examples" / "stilstand.yaml").read_text(encoding="utf-8")
    result = run("check", "-", "--as-of", "2026-11-22", "--format", "json", "--engine", "python", input=text)
    assert result.exit_code == 0 and json.loads(result.output)["citizen_id"] == "EX-STILSTAND"


def test_data_after_the_check_date_is_listed_as_left_out():
    result = run("check", EXAMPLE, "--as-of", "2026-06-01", "--format", "json", "--engine", "python")
    left_out = json.loads(result.output)["left_out"]
    assert [item["date"] for item in left_out if item["kind"] == "measurement"] == ["2026-08-18"]


@pytest.mark.parametrize("severity, code", [("high", 1), ("low", 1)])
def test_fail_on_exits_1_when_a_flag_reaches_the_severity(severity, code):
    assert run("check", EXAMPLE, "--as-of", "2026-11-22", "--fail-on", severity, "--engine", "python").exit_code == code


def test_fail_on_exits_0_when_no_flag_reaches_the_severity(tmp_path):
    path = write(
        tmp_path,
        record(
            [3, 3, 3],
            interventions=[
                {"type": "external_internship", "start": "2026-10-01"},
                {"type": "network", "start": "2026-10-01"},
            ],
        ),
    )
    result = run(
        "check", path, "--as-of", "2026-11-22", "--fail-on", "medium", "--engine", "python", "--format", "json"
    )
    assert result.exit_code == 0, json.loads(result.output)["flags"]


def test_invalid_record_exits_3_with_file_and_line(tmp_path):
    path = write(tmp_path, "id: A-1\nmeasurements:\n  - date: 2026-05-12\n    scores: {job_search: 9}\n")
    result = CliRunner().invoke(cli.main, ["check", path, "--engine", "python"])
    assert result.exit_code == 3
    assert f"{path}:4: R002 measurements[0].scores.job_search" in result.output
    assert "Traceback" not in result.output


def test_missing_record_file_exits_3():
    result = CliRunner().invoke(cli.main, ["check", "/no/such/file.yaml", "--engine", "python"])
    assert result.exit_code == 3 and "F001 filen findes ikke" in result.output
    english = CliRunner().invoke(cli.main, ["check", "/no/such/file.yaml", "--engine", "python", "--lang", "en"])
    assert english.exit_code == 3 and "F001 file not found" in english.output


def test_invalid_rulebook_exits_4(rules_copy):
    replace_in(rules_copy / "flags.yaml", "when: belief_gap >= 2", "when: belief_gapp >= 2")
    result = CliRunner().invoke(
        cli.main, ["check", EXAMPLE, "--rules", str(rules_copy), "--engine", "python", "--lang", "en"]
    )
    assert result.exit_code == 4
    assert "unknown fact 'belief_gapp' (did you mean 'belief_gap'?)" in result.output


def test_broken_guidance_template_exits_4_naming_file_and_line(tmp_path):
    override = tmp_path / "guidance" / "da" / "phases"
    override.mkdir(parents=True)
    (override / "standstill.j2").write_text(
        "{% block signs %}x{% endblock %}\n{% block meaning %}{{ facts.levl }}{% endblock %}\n"
        "{% block coherence %}x{% endblock %}{% block momentum %}x{% endblock %}\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        cli.main,
        ["check", EXAMPLE, "--guidance", str(tmp_path / "guidance"), "--engine", "python", "--as-of", "2026-11-22"],
    )
    assert result.exit_code == 4
    assert f"{override / 'standstill.j2'}:2: T001 udefineret værdi" in result.output  # the check's language: da


def test_guidance_override_replaces_a_single_template(tmp_path):
    override = tmp_path / "guidance" / "en" / "flags"
    override.mkdir(parents=True)
    (override / "staircase_language.j2").write_text(
        "{% block title %}Local staircase title{% endblock %}{% block message %}Local text.{% endblock %}",
        encoding="utf-8",
    )
    result = run(
        "check",
        EXAMPLE,
        "--guidance",
        str(tmp_path / "guidance"),
        "--lang",
        "en",
        "--engine",
        "python",
        "--format",
        "json",
        "--as-of",
        "2026-11-22",
    )
    flags = {flag["id"]: flag for flag in json.loads(result.output)["flags"]}
    assert flags["staircase_language"]["title"] == "Local staircase title"
    assert flags["caseworker_change"]["title"] != ""  # the others still come from the bundled templates


@pytest.mark.parametrize(
    "args",
    [
        ["check"],
        ["check", EXAMPLE, "--as-of", "22-11-2026"],
        ["check", EXAMPLE, "--lang", "de"],
        ["check", EXAMPLE, "--format", "pdf"],
        ["schema", "middle"],
        ["nonsense"],
    ],
)
def test_usage_errors_exit_2(args):
    assert CliRunner().invoke(cli.main, args).exit_code == 2


@pytest.mark.skipif(durable_available(), reason="durable_rules loads on this Python")
def test_durable_engine_unavailable_is_a_usage_error():
    result = CliRunner().invoke(cli.main, ["check", EXAMPLE, "--engine", "durable"])
    assert result.exit_code == 2 and "durable_rules cannot be loaded" in result.output


def test_the_default_executor_is_python_whether_or_not_durable_rules_loads():
    result = CliRunner().invoke(cli.main, ["check", EXAMPLE, "--as-of", "2026-11-22", "--lang", "en"])
    assert result.exit_code == 0 and "engine: python" in result.output
    assert "durable_rules" not in result.output  # no notice: nothing was asked that cannot be given


def test_explain_lists_every_rule(rulebook):
    result = run("explain", EXAMPLE, "--as-of", "2026-11-22", "--engine", "python", "--lang", "en")
    assert result.exit_code == 0
    missing = [rule.id for rule in rulebook.all_rules() if rule.id not in result.output]
    assert missing == []
    assert "standstill_flat" in result.output.split("standstill_default")[0]


@pytest.mark.parametrize("which, title", [("input", "BIP citizen record"), ("output", "BIP check report")])
def test_schema(which, title):
    schema = json.loads(run("schema", which).output)
    assert schema["title"].startswith(title)
    if which == "output":
        assert {"phase", "flags", "checklist", "guidance", "rulebook", "left_out"} <= set(schema["properties"])


def test_single_non_job_oriented_intervention_is_described_correctly_in_danish(tmp_path):
    path = write(tmp_path, record([3], interventions=[{"type": "network", "start": "2026-10-01"}]))
    output = run("check", path, "--as-of", "2026-11-22", "--engine", "python").output
    assert "men den er ikke jobrettet" in " ".join(output.split())


def test_rules_docs_writes_a_file(tmp_path):
    target = tmp_path / "regler.html"
    result = run("rules", "docs", "--format", "html", "--output", str(target), "--no-examples")
    assert result.exit_code == 0
    assert target.read_text(encoding="utf-8").lstrip().lower().startswith("<!doctype html>")


def test_standard_input_that_is_not_utf8_is_a_located_problem_not_an_internal_error():
    result = subprocess.run(
        [sys.executable, "-m", "bip_engine.cli", "check", "-", "--lang", "en"],
        input=b"\xff\xfeid: A-1\n",
        capture_output=True,
        timeout=120,
    )
    assert result.returncode == cli.EXIT_REJECTED, result.stderr
    assert "<stdin>: F002 not UTF-8 text (invalid start byte at byte 0)" in result.stderr.decode()


def test_standard_input_may_start_with_a_byte_order_mark():
    data = ("\ufeff" + Path(EXAMPLE).read_text(encoding="utf-8")).encode()
    result = subprocess.run(
        [sys.executable, "-m", "bip_engine.cli", "check", "-", "--as-of", "2026-11-22"],
        input=data,
        capture_output=True,
        timeout=120,
    )
    assert result.returncode == 0 and "EX-STILSTAND" in result.stdout.decode(), result.stderr
