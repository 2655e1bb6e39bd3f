"""Tests for the streaming caseload readers (engine/caseload_io.py)."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from bip_engine.caseload.readers import (
    RawRecord,
    ReadProblem,
    detect_and_read,
    read_csv_exports,
    read_folder,
    read_jsonl,
)

M_HEADER = "citizen_id,date,indicator,score\n"
I_HEADER = "citizen_id,type,start,end,status\n"
C_HEADER = "citizen_id,caseworker_id,from\n"


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def records(items) -> list[RawRecord]:
    return [item for item in items if isinstance(item, RawRecord)]


def problems(items) -> list[ReadProblem]:
    return [item for item in items if isinstance(item, ReadProblem)]


# --- Folders and single files -------------------------------------------------------------------


def test_folder_reads_record_files_sorted_by_name(tmp_path):
    write(tmp_path / "b.yaml", "id: B\nmeasurements:\n  - date: 2026-05-12\n    scores: {job_search: 3}\n")
    write(tmp_path / "a.json", json.dumps({"id": "A"}))
    write(tmp_path / "c.yml", "id: C\n")
    write(tmp_path / "readme.txt", "not a record")
    write(tmp_path / ".hidden.yaml", "id: H\n")
    items = list(read_folder(tmp_path))
    assert [item.data["id"] for item in items] == ["A", "B", "C"]
    assert items[1].source == str(tmp_path / "b.yaml")
    assert items[1].data["measurements"][0]["scores"] == {"job_search": 3}


def test_folder_yaml_error_is_a_problem_with_its_line_and_the_rest_still_comes(tmp_path):
    write(tmp_path / "a.yaml", "id: A\n")
    write(tmp_path / "b.yaml", "id: B\nmeasurements:\n  - date: 2026-05-12\n   scores: [\n")
    write(tmp_path / "c.yaml", "id: C\n")
    write(tmp_path / "d.yaml", "- just\n- a list\n")
    items = list(read_folder(tmp_path))
    assert [item.data["id"] for item in records(items)] == ["A", "C"]
    broken, not_mapping = problems(items)
    assert broken.source.startswith(str(tmp_path / "b.yaml") + ":")
    assert int(broken.source.rsplit(":", 1)[1]) in (3, 4)
    assert "mapping" in not_mapping.message and not_mapping.source == str(tmp_path / "d.yaml")


def test_read_folder_refuses_a_missing_folder(tmp_path):
    with pytest.raises(ValueError, match="nowhere"):
        read_folder(tmp_path / "nowhere")


# --- JSON Lines ---------------------------------------------------------------------------------


def test_jsonl_broken_line_in_the_middle_names_the_line(tmp_path):
    path = write(tmp_path / "caseload.jsonl", '{"id": "A"}\n\n{"id": "B", oops}\n[1, 2]\n{"id": "C"}\n')
    items = list(read_jsonl(path))
    assert [(item.source, item.data["id"]) for item in records(items)] == [(f"{path}:1", "A"), (f"{path}:5", "C")]
    assert [item.source for item in problems(items)] == [f"{path}:3", f"{path}:4"]
    assert "JSON" in problems(items)[0].message
    assert [type(item).__name__ for item in items] == ["RawRecord", "ReadProblem", "ReadProblem", "RawRecord"]


def test_jsonl_from_stdin_and_from_a_file_object(monkeypatch):
    fake = io.TextIOWrapper(io.BytesIO('\ufeff{"id": "S"}\r\n{"id": "T"}\n'.encode()), encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", fake)
    assert [(item.source, item.data["id"]) for item in read_jsonl("-")] == [("<stdin>:1", "S"), ("<stdin>:2", "T")]
    stream = io.StringIO('{"id": "X"}\n')
    assert [item.data for item in read_jsonl(stream)] == [{"id": "X"}]


def test_jsonl_bad_utf8_line_is_a_problem(tmp_path):
    path = tmp_path / "caseload.jsonl"
    path.write_bytes(b'{"id": "A"}\n{"id": "\xff"}\n{"id": "B"}\n')
    items = list(read_jsonl(path))
    assert [item.data["id"] for item in records(items)] == ["A", "B"]
    assert problems(items)[0].source == f"{path}:2"


# --- CSV exports --------------------------------------------------------------------------------


def test_csv_with_semicolons_bom_crlf_and_loose_header(tmp_path):
    measurements = tmp_path / "m.csv"
    measurements.write_bytes(
        "\ufeff Citizen_ID ;DATE;Indicator ; score\r\n"
        "A-1;2026-02-10;health_coping;2\r\n"
        "A-1;2026-02-10;caseworker_belief; 3 \r\n"
        "A-1;2026-05-12;health_coping;3\r\n"
        "\r\n"
        "B-2;2026-05-01;job_search;4\r\n".encode("utf-8")
    )
    interventions = write(
        tmp_path / "i.csv",
        "citizen_id;type;start;end;status\r\n"
        "A-1;ekstern_praktik;2025-09-01;;\r\n"
        "A-1;mentor;2026-01-01;2026-03-01;completed\r\n",
    )
    items = list(read_csv_exports(measurements, interventions))
    assert problems(items) == []
    first, second = records(items)
    assert first.source == f"{measurements}:2"
    assert first.data == {
        "id": "A-1",
        "measurements": [
            {"date": "2026-02-10", "scores": {"health_coping": 2, "caseworker_belief": 3}},
            {"date": "2026-05-12", "scores": {"health_coping": 3}},
        ],
        "interventions": [
            {"type": "ekstern_praktik", "start": "2025-09-01"},
            {"type": "mentor", "start": "2026-01-01", "end": "2026-03-01", "status": "completed"},
        ],
    }
    assert second.source == f"{measurements}:6"
    assert second.data["interventions"] == []


def test_csv_windows_1252_line_is_read(tmp_path):
    measurements = write(tmp_path / "m.csv", M_HEADER + "A,2026-05-12,job_search,3\n")
    caseworkers = write(tmp_path / "c.csv", C_HEADER + "A,sagsbehandler-Søren,2025-01-01\n", encoding="cp1252")
    (record,) = records(read_csv_exports(measurements, caseworkers=caseworkers))
    assert record.data["caseworkers"] == [{"id": "sagsbehandler-Søren", "from": "2025-01-01"}]


def test_interventions_and_caseworkers_merged_per_citizen(tmp_path):
    measurements = write(
        tmp_path / "m.csv",
        M_HEADER + "A,2026-05-12,job_search,3\n"
        "B,2026-05-12,job_search,2\n"
        "C,2026-05-12,job_search,4\n"
        "C,2026-08-12,job_search,5\n",
    )
    interventions = write(
        tmp_path / "i.csv",
        I_HEADER + "A,mentor,2026-01-01,,ongoing\n"
        "A,wage_subsidy,2026-02-01,2026-04-01,completed\n"
        "C,treatment,2026-03-01,,\n",
    )
    caseworkers = write(tmp_path / "c.csv", C_HEADER + "B,cw-1,2025-01-01\nC,cw-2,2025-01-01\nC,cw-3,2026-06-01\n")
    items = list(read_csv_exports(measurements, interventions, caseworkers))
    assert problems(items) == []
    by_id = {item.data["id"]: item.data for item in items}
    assert list(by_id) == ["A", "B", "C"]
    assert [i["type"] for i in by_id["A"]["interventions"]] == ["mentor", "wage_subsidy"]
    assert by_id["A"]["caseworkers"] == []
    assert by_id["B"]["interventions"] == [] and by_id["B"]["caseworkers"] == [{"id": "cw-1", "from": "2025-01-01"}]
    assert by_id["C"]["interventions"] == [{"type": "treatment", "start": "2026-03-01"}]
    assert [c["id"] for c in by_id["C"]["caseworkers"]] == ["cw-2", "cw-3"]
    assert len(by_id["C"]["measurements"]) == 2


def test_ungrouped_measurements_are_merged_per_citizen_in_order_of_first_appearance(tmp_path):
    measurements = write(
        tmp_path / "m.csv",
        M_HEADER + "A,2026-02-10,job_search,3\n"
        "B,2026-02-10,job_search,3\n"
        "A,2026-05-12,job_search,4\n"
        "C,2026-05-12,job_search,4\n",
    )
    items = list(read_csv_exports(measurements))
    assert problems(items) == []
    assert [(item.data["id"], item.source) for item in items] == [
        ("A", f"{measurements}:2"),
        ("B", f"{measurements}:3"),
        ("C", f"{measurements}:5"),
    ]
    assert items[0].data["measurements"] == [
        {"date": "2026-02-10", "scores": {"job_search": 3}},
        {"date": "2026-05-12", "scores": {"job_search": 4}},
    ]


def test_ungrouped_interventions_are_merged_in_file_order(tmp_path):
    measurements = write(tmp_path / "m.csv", M_HEADER + "A,2026-05-12,job_search,3\nB,2026-05-12,job_search,3\n")
    interventions = write(
        tmp_path / "i.csv", I_HEADER + "A,mentor,2026-01-01,,\nB,mentor,2026-01-01,,\nA,treatment,2026-02-01,,\n"
    )
    items = list(read_csv_exports(measurements, interventions))
    assert problems(items) == []
    by_id = {item.data["id"]: item.data for item in items}
    assert [i["type"] for i in by_id["A"]["interventions"]] == ["mentor", "treatment"]
    assert [i["type"] for i in by_id["B"]["interventions"]] == ["mentor"]


def test_rows_of_a_citizen_missing_from_measurements_are_reported_with_file_and_line(tmp_path):
    measurements = write(
        tmp_path / "m.csv",
        M_HEADER + "A,2026-05-12,job_search,3\nB,2026-05-12,job_search,3\nC,2026-05-12,job_search,3\n",
    )
    interventions = write(
        tmp_path / "i.csv",
        I_HEADER + "A,mentor,2026-01-01,,\n"
        "X,mentor,2026-01-01,,\n"
        "C,treatment,2026-02-01,,\n"
        "Z,mentor,2026-01-01,,\n"
        "X,treatment,2026-03-01,,\n",
    )
    caseworkers = write(tmp_path / "c.csv", C_HEADER + "Y,cw-1,2025-01-01\nB,cw-2,2025-01-01\n")
    items = list(read_csv_exports(measurements, interventions, caseworkers))
    by_id = {item.data["id"]: item.data for item in records(items)}
    assert list(by_id) == ["A", "B", "C"]
    assert [i["type"] for i in by_id["C"]["interventions"]] == ["treatment"]
    assert by_id["B"]["interventions"] == [] and by_id["B"]["caseworkers"] == [{"id": "cw-2", "from": "2025-01-01"}]
    strays = problems(items)
    assert [problem.source for problem in strays] == [f"{interventions}:3", f"{interventions}:5", f"{caseworkers}:2"]
    assert all("not in" in problem.message and str(measurements) in problem.message for problem in strays)
    assert "citizen X" in strays[0].message and "1 more row" in strays[0].message
    assert "citizen Y" in strays[2].message


def test_files_in_different_citizen_orders_are_merged(tmp_path):
    measurements = write(
        tmp_path / "m.csv",
        M_HEADER + "A,2026-05-12,job_search,3\nB,2026-05-12,job_search,3\nC,2026-05-12,job_search,3\n",
    )
    interventions = write(
        tmp_path / "i.csv", I_HEADER + "C,treatment,2026-02-01,,\nB,mentor,2026-01-01,,\nA,treatment,2026-02-01,,\n"
    )
    caseworkers = write(tmp_path / "c.csv", C_HEADER + "C,cw-3,2025-01-01\nA,cw-1,2025-01-01\nC,cw-4,2026-01-01\n")
    items = list(read_csv_exports(measurements, interventions, caseworkers))
    assert problems(items) == []
    assert [
        (item.data["id"], [i["type"] for i in item.data["interventions"]], [c["id"] for c in item.data["caseworkers"]])
        for item in items
    ] == [("A", ["treatment"], ["cw-1"]), ("B", ["mentor"], []), ("C", ["treatment"], ["cw-3", "cw-4"])]


def test_a_citizen_with_many_dates_keeps_them_in_file_order(tmp_path):
    days = [f"2026-0{month}-01" for month in (5, 1, 7, 2, 3, 6, 4)]
    measurements = write(
        tmp_path / "m.csv",
        M_HEADER + "".join(f"A,{day},job_search,3\n" for day in days) + "B,2026-05-12,job_search,3\n",
    )
    (first, second) = records(read_csv_exports(measurements))
    assert [m["date"] for m in first.data["measurements"]] == days
    assert second.data["id"] == "B"


def test_scores_invalid_values_pass_through_and_empty_cells_are_left_out(tmp_path):
    measurements = write(
        tmp_path / "m.csv",
        M_HEADER + "A,2026-05-12,job_search,x\n"
        "A,2026-05-12,cooperation,7\n"
        "A,2026-05-12,wage_realism,\n"
        "A,2026-05-12,health_coping,+2\n",
    )
    (record,) = records(read_csv_exports(measurements))
    assert record.data["measurements"] == [
        {"date": "2026-05-12", "scores": {"job_search": "x", "cooperation": 7, "health_coping": 2}}
    ]


def test_citizen_without_measurements_listed_by_id_only(tmp_path):
    measurements = write(tmp_path / "m.csv", M_HEADER + "A,,,\nB,2026-05-12,job_search,3\n")
    interventions = write(tmp_path / "i.csv", I_HEADER + "A,mentor,2026-01-01,,\n")
    first, second = records(read_csv_exports(measurements, interventions))
    assert first.data == {"id": "A", "measurements": [], "interventions": [{"type": "mentor", "start": "2026-01-01"}]}
    assert second.data["id"] == "B"


def test_bad_rows_are_problems_and_their_citizen_is_not_read(tmp_path):
    measurements = write(
        tmp_path / "m.csv",
        M_HEADER + ",2026-05-12,job_search,3\n"
        "A,2026-05-12,job_search,3,extra\n"
        "B,2026-05-12,job_search,3\n"
        "B,2026-05-12,job_search,4\n"
        "C,2026-05-12,job_search,3\n"
        "C,2026-05-12,job_search,3\n",
    )
    items = list(read_csv_exports(measurements))
    assert [item.data["id"] for item in records(items)] == ["C"]
    assert [problem.source for problem in problems(items)] == [
        f"{measurements}:2",
        f"{measurements}:3",
        f"{measurements}:5",
    ]
    assert "citizen_id is empty" in problems(items)[0].message
    assert "citizen A is not read" in problems(items)[1].message
    assert "second, different score" in problems(items)[2].message


# --- detect_and_read ----------------------------------------------------------------------------


def test_detect_identifies_csv_exports_by_header_not_by_name(tmp_path):
    looks_like_measurements = write(tmp_path / "measurements.csv", I_HEADER + "A,mentor,2026-01-01,,\n")
    actual_measurements = write(tmp_path / "export1.txt", M_HEADER + "A,2026-05-12,job_search,3\n")
    caseworkers = write(tmp_path / "x.csv", C_HEADER + "A,cw-1,2025-01-01\n")
    items = list(detect_and_read([str(looks_like_measurements), str(caseworkers), str(actual_measurements)]))
    (record,) = items
    assert record.source == f"{actual_measurements}:2"
    assert record.data["interventions"] == [{"type": "mentor", "start": "2026-01-01"}]
    assert record.data["caseworkers"] == [{"id": "cw-1", "from": "2025-01-01"}]


def test_detect_reads_folders_jsonl_and_single_files_in_order(tmp_path):
    folder = tmp_path / "records"
    folder.mkdir()
    write(folder / "f.yaml", "id: F\n")
    jsonl = write(tmp_path / "caseload.jsonl", '{"id": "J"}\n')
    single = write(tmp_path / "one.yml", "id: S\n")
    items = list(detect_and_read([str(jsonl), str(folder), str(single)]))
    assert [item.data["id"] for item in items] == ["J", "F", "S"]


def test_detect_refuses_unusable_inputs(tmp_path):
    with pytest.raises(ValueError, match=r"missing\.csv"):
        detect_and_read([str(tmp_path / "missing.csv")])
    unknown = write(tmp_path / "other.csv", "name,age\nx,1\n")
    with pytest.raises(ValueError, match=r"other\.csv"):
        detect_and_read([str(unknown)])
    interventions = write(tmp_path / "i.csv", I_HEADER)
    with pytest.raises(ValueError, match="measurements"):
        detect_and_read([str(interventions)])
    first = write(tmp_path / "m1.csv", M_HEADER)
    second = write(tmp_path / "m2.csv", M_HEADER)
    with pytest.raises(ValueError, match=r"m2\.csv"):
        detect_and_read([str(first), str(second)])
    with pytest.raises(ValueError):
        detect_and_read([])
    with pytest.raises(ValueError, match="standard input"):
        detect_and_read(["-", "-"])


def test_read_csv_exports_refuses_a_file_given_as_the_wrong_kind(tmp_path):
    measurements = write(tmp_path / "m.csv", M_HEADER)
    caseworkers = write(tmp_path / "c.csv", C_HEADER)
    with pytest.raises(ValueError, match="interventions"):
        read_csv_exports(measurements, interventions=caseworkers)


# --- Every reader problem is coded, in Danish and English ------------------------------------------

#: One input per kind of reader problem: (files to write, the file read), then the problem expected:
#: its line, code, an English and a Danish part of its text (arguments stay as they are).
PROBLEM_KINDS = {
    "jsonl line not UTF-8": (
        {"c.jsonl": b'{"id": "A"}\n{"id": "\xff"}\n'},
        ["c.jsonl"],
        (
            2,
            "F002",
            "the line is not UTF-8 text (invalid start byte at byte 8)",
            "linjen er ikke UTF-8-tekst (",
            "ved byte 8",
        ),
    ),
    "jsonl syntax error": (
        {"c.jsonl": b'{"id": "A", oops}\n'},
        ["c.jsonl"],
        (
            1,
            "Y001",
            "not valid JSON: Expecting property name",
            "ikke gyldig JSON: Expecting property name",
            "(kolonne 13)",
        ),
    ),
    "jsonl line not an object": (
        {"c.jsonl": b"[1, 2]\n"},
        ["c.jsonl"],
        (
            1,
            "R001",
            "a record must be a JSON object with at least an 'id'",
            "skal være et JSON-objekt",
            "mindst et 'id'",
        ),
    ),
    "jsonl line nested too deep": (
        {"c.jsonl": b"[" * 100 + b"]" * 100 + b"\n"},
        ["c.jsonl"],
        (1, "Y003", "nested deeper than 64 levels", "indlejret dybere end 64 niveauer", "lister og afbildninger"),
    ),
    "empty record file": (
        {"a.yaml": b"  \n"},
        ["a.yaml"],
        (None, "R001", "the file is empty", "filen er tom", "filen er tom"),
    ),
    "record file not a mapping": (
        {"a.yaml": b"- just\n- a list\n"},
        ["a.yaml"],
        (None, "R001", "a record must be a mapping with at least an 'id'", "skal være en afbildning", "mindst et 'id'"),
    ),
    "record file not UTF-8": (
        {"a.yaml": b"id: \xff\n"},
        ["a.yaml"],
        (None, "F002", "not UTF-8 text (invalid start byte at byte 4)", "ikke UTF-8-tekst (", "ved byte 4"),
    ),
    "csv row with too many cells": (
        {"m.csv": (M_HEADER + "A,2026-05-12,job_search,3,extra\n").encode()},
        ["m.csv"],
        (
            2,
            "R007",
            "the row has 5 cells but the header has 4; citizen A is not read",
            "rækken har 5 celler, men overskriften har 4",
            "borger A læses ikke",
        ),
    ),
    "csv row with an empty citizen_id": (
        {"m.csv": (M_HEADER + " ,2026-05-12,job_search,3\n").encode()},
        ["m.csv"],
        (2, "R007", "the citizen_id is empty; the row is not used", "citizen_id er tom", "rækken bruges ikke"),
    ),
    "csv row not valid CSV": (
        {"m.csv": (M_HEADER + "A,2026-05-12,job_search," + "9" * 140_000 + "\n").encode()},
        ["m.csv"],
        (
            2,
            "R007",
            "the row is not valid CSV (field larger than field limit",
            "rækken er ikke gyldig CSV (",
            "field limit",
        ),
    ),
    "csv stray citizen": (
        {
            "m.csv": (M_HEADER + "A,2026-05-12,job_search,3\n").encode(),
            "i.csv": (I_HEADER + "X,mentor,2026-01-01,,\n").encode(),
        },
        ["m.csv", "i.csv"],
        (
            2,
            "R008",
            "citizen X is not in {measurements}, so this row is not used",
            "borger X findes ikke i {measurements}",
            "denne række bruges ikke",
        ),
    ),
    "csv stray citizen with more rows": (
        {
            "m.csv": (M_HEADER + "A,2026-05-12,job_search,3\n").encode(),
            "c.csv": (
                C_HEADER + "A,cw-1,2025-01-01\nY,cw-2,2025-01-01\nY,cw-3,2026-01-01\nY,cw-4,2026-02-01\n"
            ).encode(),
        },
        ["m.csv", "c.csv"],
        (
            3,
            "R008",
            "so this row (and 2 more row(s) of the citizen in this file) is not used",
            "borger Y findes ikke i {measurements}, så denne række (og 2 række(r) mere for borgeren i denne fil)",
            "en række, der kun har citizen_id",
        ),
    ),
    "csv conflicting scores": (
        {"m.csv": (M_HEADER + "B,2026-05-12,job_search,3\nB,2026-05-12,job_search,4\n").encode()},
        ["m.csv"],
        (
            3,
            "R009",
            "a second, different score for job_search on 2026-05-12; citizen B is not read",
            "en anden score for job_search den 2026-05-12, som afviger fra den første",
            "borger B læses ikke",
        ),
    ),
}


@pytest.mark.parametrize("kind", PROBLEM_KINDS)
def test_every_reader_problem_has_a_code_and_is_shown_in_danish_and_english(tmp_path, kind):
    files, read, (line, code, english, danish, more_danish) = PROBLEM_KINDS[kind]
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
    (problem,) = problems(detect_and_read([str(tmp_path / name) for name in read]))
    fill = {"measurements": tmp_path / "m.csv"}
    where = tmp_path / (read[-1] if code == "R008" else read[0])
    assert problem.source == (f"{where}:{line}" if line else str(where))
    assert problem.code == code and problem.problem.key and problem.problem.key.split(".")[0] == code
    assert problem.text("en").startswith(f"{code} ") and problem.message == problem.text("en")
    assert english.format(**fill) in problem.text("en")
    shown = problem.text("da")
    assert shown.startswith(f"{code} ") and danish.format(**fill) in shown and more_danish in shown
    assert shown != problem.text("en")


def test_a_row_problem_keeps_its_key_and_arguments_through_the_sorter(tmp_path):
    measurements = write(tmp_path / "m.csv", M_HEADER + "A,2026-05-12,job_search,3,extra,more\n")
    (problem,) = problems(read_csv_exports(measurements))
    assert problem.problem.key == "R007.cells"
    assert problem.problem.args == {"cells": 6, "width": 4, "citizen": "A"}
    assert (problem.problem.path, problem.problem.line) == (str(measurements), 2)
