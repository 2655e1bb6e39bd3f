"""Reading and validating citizen records: every problem names file, line and field."""

import pytest

from bip_engine import RecordError
from bip_engine.record import cpr_warning, read_record_file, validate_record


def problems_of(tmp_path, text, checker, name="r.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RecordError) as info:
        checker.read_record(str(path))
    return [str(problem) for problem in info.value.problems]


def test_score_out_of_range_names_line_and_field(tmp_path, python_checker):
    text = "id: A-1\nmeasurements:\n  - date: 2026-05-12\n    scores:\n      health_coping: 7\n"
    assert problems_of(tmp_path, text, python_checker) == [
        f"{tmp_path}/r.yaml:5: R002 measurements[0].scores.health_coping: "
        "a score must be a whole number from 1 to 5, not 7"
    ]


def test_unknown_indicator_and_intervention_get_did_you_mean(tmp_path, python_checker):
    text = (
        "id: A-1\nmeasurements:\n  - date: 2026-05-12\n    scores: {work_confidense: 3}\n"
        "interventions:\n  - type: ekstern_praktk\n    start: 2026-01-01\n"
    )
    found = problems_of(tmp_path, text, python_checker)
    assert found[0].endswith(
        "R003 measurements[0].scores: unknown indicator 'work_confidense' (did you mean 'work_confidence'?)"
    )
    assert ":4:" in found[0]
    assert (
        ":6: R004 interventions[0].type: unknown intervention type 'ekstern_praktk' "
        "(did you mean 'ekstern_praktik'?)" in found[1]
    )


def test_missing_id_bad_date_and_unknown_field(tmp_path, python_checker):
    text = "measurements:\n  - date: 12-05-2026\n    scores: {job_search: 2}\nnotse: x\n"
    found = problems_of(tmp_path, text, python_checker)
    assert any("R002 id: is required" in item for item in found)
    assert any(":2: R002 measurements[0].date: must be a date written YYYY-MM-DD" in item for item in found)
    assert any(":4: R002 notse: is not a known field" in item for item in found)


def test_yaml_syntax_error_and_duplicate_key(tmp_path, python_checker):
    assert ":2:9: Y001" in problems_of(tmp_path, "id: A\nnotes: a: b\n", python_checker)[0]
    duplicate = problems_of(tmp_path, "id: A\nnotes: x\nid: B\n", python_checker)[0]
    assert duplicate.endswith(":3: Y002 duplicate key 'id' (first given on line 1)")


def test_json_record_with_syntax_error(tmp_path, python_checker):
    found = problems_of(tmp_path, '{"id": "A", }', python_checker, name="r.json")
    assert "r.json:1:" in found[0] and "Y001" in found[0]


@pytest.mark.parametrize("text, code", [("", "R001"), ("- a\n- b\n", "R001")])
def test_empty_or_non_mapping_record(tmp_path, python_checker, text, code):
    assert code in problems_of(tmp_path, text, python_checker)[0]


def test_missing_file(python_checker):
    with pytest.raises(RecordError, match="F001 file not found"):
        python_checker.read_record("/nonexistent/record.yaml")


def test_intervention_ending_before_it_starts(tmp_path, python_checker):
    text = "id: A\ninterventions:\n  - type: mentor\n    start: 2026-05-01\n    end: 2026-04-01\n"
    assert ":5: R005 interventions[0].end: ends before it starts" in problems_of(tmp_path, text, python_checker)[0]


def test_cpr_like_id_gives_a_warning():
    assert cpr_warning(validate_record({"id": "010190-1234"}))
    assert cpr_warning(validate_record({"id": "A-1042"})) is None


def test_read_from_stdin(monkeypatch):
    import io

    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b'{"id": "S-1"}')))
    data, name = read_record_file("-")
    assert data == {"id": "S-1"} and name == "<stdin>"


def test_an_interrupted_intervention_needs_the_day_it_stopped(tmp_path, python_checker):
    text = "id: A-1\ninterventions:\n  - type: ekstern_praktik\n    start: 2026-09-01\n    status: interrupted\n"
    assert problems_of(tmp_path, text, python_checker) == [
        f"{tmp_path}/r.yaml:5: R010 interventions[0].end: an interrupted intervention (status interrupted) "
        "needs an end date – the day it stopped"
    ]


def test_a_meeting_status_and_the_format_version_are_checked_with_their_lines(tmp_path, python_checker):
    text = 'id: A-1\nschema_version: "2.0"\nmeetings:\n  - date: 2026-10-01\n    kind: samtale\n    status: udeblevet\n'
    assert problems_of(tmp_path, text, python_checker) == [
        f"{tmp_path}/r.yaml:6: R002 meetings[0].status: must be one of held, cancelled, no_show, not 'udeblevet'",
        f"{tmp_path}/r.yaml:2: R002 schema_version: the record format's version must be 1.0 or 1.1, not '2.0'",
    ]


def test_records_of_format_1_0_load_unchanged_and_the_schema_has_the_new_fields(python_checker):
    """Every bundled example is a 1.0 record (no meetings, no interrupted, no version): each still loads."""
    from bip_engine import input_schema
    from tests.conftest import ROOT

    for path in sorted((ROOT / "examples").glob("*.yaml")):
        record, _, _ = python_checker.read_record(str(path))
        assert record.meetings == [] and record.schema_version is None
    schema = input_schema()
    assert schema["title"].endswith("schema version 1.1")
    assert {"meetings", "schema_version"} <= set(schema["properties"])
    statuses = schema["$defs"]["Intervention"]["properties"]["status"]["anyOf"][0]["enum"]
    assert "interrupted" in statuses
    assert schema["$defs"]["Meeting"]["properties"]["status"]["enum"] == ["held", "cancelled", "no_show"]
