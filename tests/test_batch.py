"""Batch triage over whole caseloads: nothing lost, same output with workers, documented order."""

import json
import random

import pytest
from click.testing import CliRunner

from bip_engine import cli
from bip_engine.caseload.batch import PHASE_URGENCY, triage_key
from bip_engine.caseload.extsort import external_sort
from bip_engine.caseload.simulate import generate_cohort, write_csv, write_jsonl

AS_OF = "2026-11-22"


def invoke(*args, input=None):
    return CliRunner().invoke(cli.main, ["batch", *args, "--as-of", AS_OF, "--engine", "python"], input=input)


def cohort_file(tmp_path, n=120, seed=5):
    path = tmp_path / "cohort.jsonl"
    with path.open("w", encoding="utf-8") as stream:
        write_jsonl(generate_cohort(n, seed=seed), stream)
    return path


def rows_of(output):
    """The citizens' rows of JSON Lines output, without its trailer (the last line, `{"summary": ...}`)."""
    lines = [json.loads(line) for line in output.splitlines() if line.strip()]
    assert "summary" in lines[-1], lines[-1]
    return lines[:-1]


def test_jsonl_rows_in_triage_order(tmp_path):
    result = invoke(str(cohort_file(tmp_path)), "--format", "jsonl", "--lang", "en")
    assert result.exit_code == 0, result.output
    rows = rows_of(result.stdout)
    assert len(rows) == 120
    assert rows == sorted(rows, key=triage_key)
    assert rows[0]["phase"] == "derailment"
    assert {row["phase"] for row in rows} >= {"derailment", "regress", "standstill", "progress"}
    assert "120 read, 120 evaluated, 0 rejected" in result.stderr


def test_workers_give_identical_output(tmp_path):
    path = str(cohort_file(tmp_path, n=300))
    single = invoke(path, "--format", "csv")
    double = invoke(path, "--format", "csv", "--workers", "2")
    assert single.exit_code == double.exit_code == 0
    assert single.stdout == double.stdout
    assert len(single.stdout.splitlines()) == 301


def test_input_order_is_kept_when_asked(tmp_path):
    rows = rows_of(invoke(str(cohort_file(tmp_path, n=50)), "--format", "jsonl", "--order", "input").stdout)
    assert [row["citizen_id"] for row in rows] == [f"SIM-{i:06d}" for i in range(1, 51)]


def test_bad_records_are_reported_and_the_rest_processed(tmp_path):
    path = tmp_path / "mixed.jsonl"
    good = list(generate_cohort(3, seed=1))
    bad_score = dict(good[0], id="BAD-SCORE", measurements=[{"date": "2026-05-01", "scores": {"job_search": 9}}])
    bad_type = dict(good[1], id="BAD-TYPE", interventions=[{"type": "circus", "start": "2026-01-01"}])
    lines = [
        json.dumps(good[0]),
        "{broken json",
        json.dumps(bad_score),
        json.dumps(good[1]),
        json.dumps(bad_type),
        json.dumps(good[2]),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    errors = tmp_path / "errors.jsonl"
    result = invoke(str(path), "--format", "jsonl", "--errors", str(errors), "--lang", "en")
    assert result.exit_code == 3
    assert len(rows_of(result.stdout)) == 3
    assert "6 read, 3 evaluated, 3 rejected" in result.stderr
    assert f"{path}:2:" in result.stderr
    assert "BAD-SCORE" in result.stderr and "BAD-TYPE" in result.stderr and "circus" in result.stderr
    rejected = [json.loads(line) for line in errors.read_text(encoding="utf-8").splitlines()]
    assert [item["citizen_id"] for item in rejected] == [None, "BAD-SCORE", "BAD-TYPE"]


def test_folder_of_records_with_a_broken_file(tmp_path):
    folder = tmp_path / "caseload"
    folder.mkdir()
    for record in generate_cohort(4, seed=2):
        (folder / f"{record['id']}.json").write_text(json.dumps(record), encoding="utf-8")
    (folder / "zz-broken.yaml").write_text("id: X\nmeasurements: [\n", encoding="utf-8")
    result = invoke(str(folder), "--format", "json")
    assert result.exit_code == 3
    document = json.loads(result.stdout)
    assert document["summary"]["read"] == 5 and document["summary"]["rejected"] == 1
    assert len(document["citizens"]) == 4


def test_csv_exports_with_semicolons_and_bom(tmp_path):
    paths = write_csv(generate_cohort(40, seed=9), tmp_path / "export")
    for path in paths.values():  # as Danish Excel would save them
        text = path.read_text(encoding="utf-8").replace(",", ";")
        path.write_bytes("\ufeff".encode() + text.replace("\n", "\r\n").encode("utf-8"))
    result = invoke(*[str(path) for path in paths.values()], "--format", "jsonl")
    assert result.exit_code == 0, result.stderr
    assert len(rows_of(result.stdout)) == 40


def test_text_format_has_table_and_summary(tmp_path):
    result = CliRunner().invoke(
        cli.main, ["batch", str(cohort_file(tmp_path, n=60)), "--as-of", AS_OF, "--engine", "python", "--lang", "en"]
    )
    assert result.exit_code == 0
    assert "Summary: 60 read, 60 evaluated, 0 rejected" in result.stdout
    assert "Citizens per phase" in result.stdout and "Flags by frequency" in result.stdout
    assert all(len(line) <= 80 for line in result.stdout.splitlines())


def test_unusable_input_is_a_usage_error(tmp_path):
    assert invoke(str(tmp_path / "missing.jsonl")).exit_code == 2


def test_external_sort_matches_sorted_with_spilled_runs():
    rng = random.Random(3)
    phases = list(PHASE_URGENCY)
    rows = [
        {
            "citizen_id": f"C{rng.randint(0, 99999):05d}-{i}",
            "phase": rng.choice(phases),
            "high": rng.randint(0, 2),
            "medium": rng.randint(0, 3),
            "low": rng.randint(0, 2),
        }
        for i in range(2500)
    ]
    assert list(external_sort(iter(rows), triage_key, run_size=300)) == sorted(rows, key=triage_key)


#: Reader problems as a rejection shows them: (line, code, English text, Danish text) per language run.
BATCH_READ_PROBLEMS = {
    "jsonl": (
        {
            "c.jsonl": b'{"id": "OK-1"}\n{"id": "\xff"}\n{"id": "A", oops}\n[1, 2]\n\n{"id": "OK-2"}\n',
        },
        [
            ("c.jsonl:2", "F002", "the line is not UTF-8 text", "linjen er ikke UTF-8-tekst"),
            (
                "c.jsonl:3",
                "Y001",
                "not valid JSON: Expecting property name",
                "ikke gyldig JSON: Expecting property name",
            ),
            ("c.jsonl:4", "R001", "a record must be a JSON object", "en registrering skal være et JSON-objekt"),
        ],
    ),
    "csv": (
        {
            "m.csv": (
                b"citizen_id,date,indicator,score\n"
                b"OK-1,2026-05-12,job_search,3\n"
                b",2026-05-12,job_search,3\n"
                b"A,2026-05-12,job_search,3,extra\n"
                b"B,2026-05-12,job_search,3\n"
                b"B,2026-05-12,job_search,4\n"
            ),
            "i.csv": b"citizen_id,type,start,end,status\nX,mentor,2026-01-01,,\n",
        },
        [
            ("m.csv:3", "R007", "the citizen_id is empty; the row is not used", "cellen citizen_id er tom"),
            (
                "m.csv:4",
                "R007",
                "the row has 5 cells but the header has 4",
                "rækken har 5 celler, men overskriften har 4",
            ),
            (
                "m.csv:6",
                "R009",
                "a second, different score for job_search",
                "en anden score for job_search den 2026-05-12",
            ),
            ("i.csv:2", "R008", "citizen X is not in", "borger X findes ikke i"),
        ],
    ),
}


@pytest.mark.parametrize("workers", ["1", "2"])
@pytest.mark.parametrize("kind", BATCH_READ_PROBLEMS)
def test_reader_problems_are_rejected_with_their_code_in_the_language_asked(tmp_path, kind, workers):
    files, expected = BATCH_READ_PROBLEMS[kind]
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
    inputs = [str(tmp_path / name) for name in files]
    for lang, column in (("en", 2), ("da", 3)):
        errors = tmp_path / f"errors-{lang}.jsonl"
        result = invoke(*inputs, "--format", "jsonl", "--errors", str(errors), "--lang", lang, "--workers", workers)
        assert result.exit_code == 3, result.output
        rejected = [json.loads(line) for line in errors.read_text(encoding="utf-8").splitlines()]
        assert [item["source"] for item in rejected] == [str(tmp_path / where) for where, *_ in expected]
        for item, case in zip(rejected, expected, strict=True):
            (problem,) = item["problems"]
            assert problem["code"] == case[1] and case[column] in problem["message"], (lang, problem)
        words = {"en": "read", "da": "læst"}[lang]
        read = len(rejected) + len(rows_of(result.stdout))
        assert f"{read} {words}" in result.stderr
