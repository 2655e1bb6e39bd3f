"""The language defects users saw, one test each: Danish output that was (partly) English, and problems as strings."""

from __future__ import annotations

import json

import pytest
import yaml
from click.testing import CliRunner

from bip_engine import cli
from tests.conftest import ROOT

AS_OF = "2026-11-22"


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(cli.main, list(args), input=input)


def bad_record() -> dict:
    """An example record with a score out of range (a problem with a message key, R002.score)."""
    data = yaml.safe_load((ROOT / "examples" / "tilbagegang.yaml").read_text(encoding="utf-8"))
    data["measurements"][0]["scores"]["health_coping"] = 9
    return json.loads(json.dumps(data, default=str))


def test_rules_validate_speaks_danish(rules_copy):
    with open(rules_copy / "flags.yaml", "a", encoding="utf-8") as stream:
        stream.write("\nbroken: [unclosed\n")
    result = run("rules", "validate", str(rules_copy), "--lang", "da")
    assert result.exit_code == 4, result.output
    assert "YAML-syntaksfejl" in result.output
    assert "error(s)" not in result.output and "fejl" in result.output.splitlines()[-1]


def test_rules_validate_ok_line_in_danish():
    result = run("rules", "validate", str(ROOT / "rules"), "--lang", "da")
    assert result.exit_code == 0, result.output
    assert "rules," not in result.output and "regler" in result.output


@pytest.fixture
def api(tmp_path):
    """The service in this process, with the token of the `system` role (it may check and batch)."""
    from fastapi.testclient import TestClient

    from bip_engine.service.app import create_app
    from bip_engine.service.settings import ServiceSettings
    from tests.service_server import make_tokens

    database = f"sqlite:///{tmp_path / 'log.sqlite'}"
    token = make_tokens(database)["system"]
    with TestClient(create_app(ServiceSettings(database=database, engine="python"))) as client:
        client.headers["authorization"] = f"Bearer {token}"
        yield client


def test_api_check_in_danish_gives_danish_problem_messages(api):
    answer = api.post(f"/v1/check?lang=da&as_of={AS_OF}&purpose=test", json=bad_record())
    assert answer.status_code == 422, answer.text
    body = answer.json()
    messages = [problem["message"] for problem in body["problems"]]
    assert messages and all("score must be" not in message for message in messages)
    assert any("en score skal være et helt tal" in message for message in messages)


def test_batch_rejections_are_problem_objects(tmp_path):
    line = json.dumps(bad_record())
    errors = tmp_path / "errors.jsonl"
    result = run("batch", "-", "--format", "jsonl", "--as-of", AS_OF, "--errors", str(errors), input=line + "\n")
    assert result.exit_code == 3
    rejected = json.loads(errors.read_text(encoding="utf-8").splitlines()[0])
    problem = rejected["problems"][0]
    assert isinstance(problem, dict) and {"code", "message", "path", "line"} <= set(problem)
    assert problem["code"] == "R002"


def test_api_batch_rejections_are_problem_objects(api):
    answer = api.post(
        f"/v1/batch?lang=da&as_of={AS_OF}&purpose=test",
        content=json.dumps(bad_record()) + "\n",
        headers={"content-type": "application/x-ndjson"},
    )
    assert answer.status_code == 200, answer.text
    rows = [json.loads(line) for line in answer.text.splitlines() if line.strip()]
    rejected = next(row["rejected"] for row in rows if "rejected" in row)
    problem = rejected["problems"][0]
    assert isinstance(problem, dict) and problem["code"] == "R002" and "helt tal" in problem["message"]


@pytest.fixture
def released(tmp_path):
    from tests.test_dated import dated_rulebook

    folder = dated_rulebook(tmp_path)
    store = tmp_path / "store"
    result = run(
        "rules",
        "release",
        str(folder),
        "--approved-by",
        "Karen",
        "--store",
        str(store),
        "--guidance",
        str(folder.parent / "tekster"),
        "--allow-failing-scenarios",  # the bundled New Year scenario does not hold for these 2027 rules
        "--reason",
        "kommunens regler ændres 2027",
    )
    assert result.exit_code == 0, result.output
    return folder, store


def test_rules_releases_in_danish_says_godkendt_af(released):
    _, store = released
    result = run("rules", "releases", "--store", str(store))
    assert result.exit_code == 0, result.output
    assert "approved by" not in result.output and "godkendt af Karen" in result.output


def test_release_refusal_l002_is_danish(released):
    folder, store = released
    result = run("rules", "release", str(folder), "--approved-by", " ", "--store", str(store), "--lang", "da")
    assert result.exit_code == 2 and "L002" in result.output
    assert "needs the name" not in result.output


def test_danish_text_report_names_indicators_and_facts_in_words():
    result = run("check", str(ROOT / "examples" / "tilbagegang.yaml"), "--as-of", "2026-06-01", "--lang", "da")
    assert result.exit_code == 0, result.output
    report = result.output
    assert "Mestring af helbredsudfordringer" in report
    assert "health_coping " not in report
    assert "measurement_count =" not in report and "antal målinger med borgerens egne svar = " in report
    left_out = report.split("UDELADT AF TJEKKET")[1]
    assert "dated after the check date" not in left_out and "measurement of" not in left_out
