"""A report is made one way: a field added to a report model reaches every output at once.

The command line once built its report from copies of the models and of the rulebook; a field
added to `RulebookRef` (with its line in `assemble.py`) then left `Checker` working and made
`bip check --format json` fail. Here a copy of the package gets such a field, and the command's
JSON must carry it and equal what `Checker` gives, on a cold cache and on a warm one.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

from tests.conftest import ROOT

AS_OF = "2026-11-22"
NEW_FIELD = (
    '    layers: Annotated[list[str], Field(description="The layers of the rulebook, base first")] = field(\n'
    "        default_factory=list\n"
    "    )\n"
)
NEW_LINE = "                layers=[name for name, _ in self.rulebook.layers],\n"


def _patched_package(tmp_path):
    """A copy of bip_engine with `RulebookRef.layers` added, filled in by `ReportBuilder`."""
    package = tmp_path / "site" / "bip_engine"
    shutil.copytree(ROOT / "engine", package, symlinks=False, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("rules", "guidance"):  # the bundled folders, as a wheel installs them
        shutil.copytree(ROOT / name, package / "bundled" / name)
    report = package / "report.py"
    text = report.read_text(encoding="utf-8")
    anchor = "class RulebookRef(DataModel):\n"
    head, tail = text.split(anchor)
    body, rest = tail.split("\n\n\n", 1)
    report.write_text(head + anchor + body + "\n" + NEW_FIELD + "\n\n" + rest, encoding="utf-8")
    assemble = package / "assemble.py"
    text = assemble.read_text(encoding="utf-8")
    anchor = "                release=self.rulebook.release,\n"
    assert text.count(anchor) == 1
    assemble.write_text(text.replace(anchor, anchor + NEW_LINE), encoding="utf-8")
    return package.parent


def test_a_field_added_to_the_rulebook_reference_reaches_the_command_line(tmp_path):
    site = _patched_package(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(site), "BIP_CACHE_DIR": str(tmp_path / "cache")}
    record = str(ROOT / "examples" / "stilstand.yaml")
    library = subprocess.run(
        [
            sys.executable,
            "-c",
            "import datetime, sys; from bip_engine import Checker, report_json; c = Checker(engine='python'); "
            f"sys.stdout.write(report_json(c.check_file(sys.argv[1], datetime.date.fromisoformat('{AS_OF}'))))",
            record,
        ],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    assert json.loads(library.stdout)["rulebook"]["layers"] == ["bip-standard"]
    command = [sys.executable, "-m", "bip_engine.cli", "check", record, "--format", "json", "--as-of", AS_OF]
    for _ in ("cold cache", "warm cache"):
        answer = subprocess.run([*command, "--engine", "python"], capture_output=True, text=True, env=env)
        assert answer.returncode == 0, answer.stderr
        assert "Traceback" not in answer.stderr
        assert answer.stdout == library.stdout


SCRIPT = """
import datetime, json, sys
from bip_engine import Checker, RecordError, report_json
from bip_engine import record, report
checker = Checker(engine="python")
answer = report_json(checker.check_file(sys.argv[1], datetime.date(2026, 11, 22), "en"))
try:
    checker.parse_record({"id": "", "measurements": [{"date": "2026-13-01", "scores": {"health_coping": 9}}]})
except RecordError as error:
    problems = [str(problem) for problem in error.problems]
built = "pydantic.main" in sys.modules
print(json.dumps({"answer": answer, "problems": problems, "built": built}))
"""


def test_kept_validators_and_serializers_answer_as_built_ones(tmp_path):
    """The second process makes the models' validators and serializers from the cached core schemas,
    without importing `pydantic.main`: the same report, the same located problems for a rejected record."""
    env = {**os.environ, "BIP_CACHE_DIR": str(tmp_path / "cache")}
    command = [sys.executable, "-c", SCRIPT, str(ROOT / "examples" / "afsporing.yaml")]
    runs = [json.loads(subprocess.run(command, capture_output=True, text=True, env=env, check=True).stdout)]
    runs.append(json.loads(subprocess.run(command, capture_output=True, text=True, env=env, check=True).stdout))
    env["BIP_CACHE_DIR"] = ""
    runs.append(json.loads(subprocess.run(command, capture_output=True, text=True, env=env, check=True).stdout))
    assert [run["built"] for run in runs] == [True, False, True]
    assert runs[0]["answer"] == runs[1]["answer"] == runs[2]["answer"]
    assert runs[0]["problems"] == runs[1]["problems"] == runs[2]["problems"]
    assert len(runs[0]["problems"]) >= 3


def test_a_built_report_is_what_validating_its_data_gives(python_checker):
    """The builder makes the report's dataclasses directly, without validating them again: every part
    must have the types the schema names, so that validating the report's own data gives an equal
    report and writing its JSON meets no value of an unexpected type (pydantic would warn)."""
    import datetime as dt
    import warnings

    from bip_engine import report_json
    from bip_engine.caseload.simulate import generate_cohort
    from bip_engine.report import Report

    as_of = dt.date.fromisoformat(AS_OF)
    for data in generate_cohort(150, seed=11):
        for lang in ("da", "en"):
            report = python_checker.check(data, as_of, lang, margins=lang == "en")
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                text = report_json(report)
                again = Report.model_validate(report.model_dump())
            assert again == report, report.citizen_id
            assert Report.model_validate_json(text) == report, report.citizen_id


def test_a_report_in_an_unknown_language_is_refused(python_checker):
    """Even a record that renders no template (no measurement, no flag) gets no report in a language
    the report's schema does not have."""
    import pytest

    with pytest.raises(ValueError, match="'de'"):
        python_checker.check({"id": "A-1"}, lang="de")
