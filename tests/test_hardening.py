"""Bad input gets a located answer and its exit code, never a traceback, in every reader and command.

Each class of bad input (issue 7) is generated here and fed to every way a record enters the
engine: `check` and `explain` (YAML and JSON files, standard input), `batch` (a folder, JSON Lines,
CSV exports) and `rules diff --caseload`. A new reader that forgets a class fails here.
"""

from __future__ import annotations

import calendar
import csv
import io
import json
import random
import shutil

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from bip_engine import cli
from bip_engine.caseload.output import safe_cell
from bip_engine.paths import default_rules
from bip_engine.yamlio import MAX_DEPTH, json_depth_problem, parse_json, parse_yaml, yaml_depth_problem

AS_OF = "2026-11-22"
RNG = random.Random(7)


def run(*args, input=None):
    result = CliRunner().invoke(cli.main, list(args), input=input)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result


def good_record(citizen="H-1", date="2026-05-12", score=3, start="2026-03-01", cw_from="2026-01-01") -> dict:
    return {
        "id": citizen,
        "measurements": [{"date": date, "scores": {"health_coping": score, "job_search": 3}}],
        "interventions": [{"type": "mentor", "start": start}],
        "caseworkers": [{"id": "cw-1", "from": cw_from}],
    }


def impossible_dates(count=4) -> list[str]:
    """Dates that look right but are not in the calendar: day past the month's end, month 13, 29 Feb."""
    dates = []
    for _ in range(count):
        year, month = RNG.randint(2000, 2030), RNG.randint(1, 12)
        dates.append(f"{year}-{month:02d}-{calendar.monthrange(year, month)[1] + RNG.randint(1, 3):02d}")
    dates.append(f"{RNG.choice([2025, 2026, 2027])}-02-29")
    dates.append(f"2026-13-{RNG.randint(1, 28):02d}")
    return dates


def long_number() -> str:
    """The digits of a whole number longer than Python converts (4,300 digits)."""
    return str(RNG.randint(1, 9)) + "".join(RNG.choice("0123456789") for _ in range(RNG.randint(4300, 20000)))


def as_yaml(data: dict) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=10**9)


# --- every way a record enters ------------------------------------------------------------------


def via_check(tmp_path, data_text: str, suffix: str):
    path = tmp_path / f"record{suffix}"
    path.write_text(data_text, encoding="utf-8")
    return run("check", str(path), "--as-of", AS_OF, "--engine", "python"), str(path)


def via_explain(tmp_path, data_text: str, suffix: str):
    path = tmp_path / f"record{suffix}"
    path.write_text(data_text, encoding="utf-8")
    return run("explain", str(path), "--as-of", AS_OF, "--engine", "python", "--lang", "en"), str(path)


def via_stdin(tmp_path, data_text: str, suffix: str):
    return run("check", "-", "--as-of", AS_OF, "--engine", "python", input=data_text), "<stdin>"


def via_batch_folder(tmp_path, data_text: str, suffix: str):
    folder = tmp_path / "caseload"
    folder.mkdir()
    (folder / f"a-good{suffix}").write_text(json.dumps(good_record("GOOD-1")), encoding="utf-8")
    (folder / f"b-bad{suffix}").write_text(data_text, encoding="utf-8")
    return run("batch", str(folder), "--as-of", AS_OF, "--engine", "python", "--format", "jsonl"), str(
        folder / f"b-bad{suffix}"
    )


def via_batch_jsonl(tmp_path, data_text: str, suffix: str):
    path = tmp_path / "caseload.jsonl"
    path.write_text(json.dumps(good_record("GOOD-1")) + "\n" + " ".join(data_text.split("\n")) + "\n", encoding="utf-8")
    return run("batch", str(path), "--as-of", AS_OF, "--engine", "python", "--format", "jsonl"), f"{path}:2"


def via_rules_diff(tmp_path, data_text: str, suffix: str):
    folder = tmp_path / "caseload"
    folder.mkdir()
    (folder / f"a-good{suffix}").write_text(json.dumps(good_record("GOOD-1")), encoding="utf-8")
    (folder / f"b-bad{suffix}").write_text(data_text, encoding="utf-8")
    rules = str(default_rules())
    return run("rules", "diff", rules, rules, "--caseload", str(folder), "--as-of", AS_OF, "--format", "json"), str(
        folder / f"b-bad{suffix}"
    )


SINGLE = [via_check, via_explain, via_stdin]
CASELOAD = [via_batch_folder, via_batch_jsonl]
EVERY = SINGLE + CASELOAD + [via_rules_diff]


def assert_located(result, where: str, code: str, exit_code: int = 3):
    """The command failed with `exit_code` and named the place and the problem code."""
    output = result.output
    if result.exit_code == 0 and "rejected" in output:  # rules diff reports rejections and goes on
        document = json.loads(result.stdout)
        assert document["counts"]["rejected"] == 1, document["counts"]
        assert any(problem["code"] == code for item in document["rejected"] for problem in item["problems"])
        return
    assert result.exit_code == exit_code, output
    assert code in output, output
    if where != "<stdin>":
        assert where in output, output


# --- impossible calendar dates ------------------------------------------------------------------


@pytest.mark.parametrize("via", EVERY, ids=lambda via: via.__name__)
@pytest.mark.parametrize("field", ["date", "start", "cw_from"])
@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_impossible_dates_are_located_problems(tmp_path, via, field, fmt):
    day = RNG.choice(impossible_dates())
    data = good_record(**{field: day})
    if fmt == "yaml" and via is not via_batch_jsonl:
        text, suffix = as_yaml(data).replace(f"'{day}'", day), ".yaml"  # an unquoted YAML timestamp
        assert f": {day}" in text
    else:
        text, suffix = json.dumps(data), ".json"
    result, where = via(tmp_path, text, suffix)
    assert_located(result, where, "R002")
    assert day in result.output


def test_impossible_date_names_the_field_and_line(tmp_path):
    text = "id: H-1\nmeasurements:\n  - date: 2026-02-30\n    scores: {health_coping: 2}\n"
    result, where = via_check(tmp_path, text, ".yaml")
    assert result.exit_code == 3
    assert f"{where}:3: R002 measurements[0].date: '2026-02-30' er ikke en dato i kalenderen" in result.output


def test_impossible_date_in_csv_exports(tmp_path):
    day = RNG.choice(impossible_dates())
    measurements = tmp_path / "measurements.csv"
    measurements.write_text(
        f"citizen_id,date,indicator,score\nC-1,2026-05-01,health_coping,3\nC-2,{day},health_coping,3\n",
        encoding="utf-8",
    )
    interventions = tmp_path / "interventions.csv"
    interventions.write_text(f"citizen_id,type,start,end,status\nC-1,mentor,{day},,\n", encoding="utf-8")
    result = run(
        "batch",
        str(measurements),
        str(interventions),
        "--as-of",
        AS_OF,
        "--engine",
        "python",
        "--format",
        "jsonl",
        "--lang",
        "en",
    )
    assert result.exit_code == 3
    assert "2 read, 0 evaluated, 2 rejected" in result.stderr
    assert result.stderr.count(day) >= 2 and "R002" in result.stderr


def test_impossible_date_in_a_rule_file_is_exit_4(tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(default_rules(), rules)
    with (rules / "rulebook.yaml").open("a", encoding="utf-8") as stream:
        stream.write("released: 2026-02-30\n")
    result = run("rules", "validate", str(rules))
    assert result.exit_code == 4 and "rulebook.yaml" in result.output


# --- deep nesting -------------------------------------------------------------------------------


def deep_json(depth: int, opener: str) -> str:
    closer = {"[": "]", "{": "}"}[opener]
    inner = '"x": ' if opener == "{" else ""
    return '{"id": "H-1", "notes": "a", "extra": ' + (opener + inner) * depth + "1" + closer * depth + "}"


def deep_yaml(depth: int, form: str) -> str:
    if form == "flow_list":
        return "id: H-1\nextra: " + "[" * depth + "]" * depth + "\n"
    if form == "flow_map":
        return "id: H-1\nextra: " + "{a: " * depth + "1" + "}" * depth + "\n"
    if form == "block_map":
        return (
            "id: H-1\nextra:\n"
            + "".join(" " * (level + 1) + f"k{level}:\n" for level in range(depth))
            + " " * (depth + 1)
            + "v\n"
        )
    if form == "block_list":
        return "id: H-1\nextra:\n" + "- " * depth + "x\n"
    raise ValueError(form)


DEPTHS = [MAX_DEPTH + 1, RNG.randint(MAX_DEPTH + 2, 900), 100_000]


@pytest.mark.parametrize("via", EVERY, ids=lambda via: via.__name__)
@pytest.mark.parametrize("depth", DEPTHS)
@pytest.mark.parametrize("form", ["json[", "json{", "flow_list", "flow_map", "block_map", "block_list"])
def test_deep_nesting_is_refused_before_parsing(tmp_path, via, depth, form):
    if form.startswith("json"):
        text, suffix = deep_json(depth, form[-1]), ".json"
    elif via is via_batch_jsonl:
        pytest.skip("JSON Lines hold JSON only")
    else:
        if form == "block_map" and depth > 5000:
            depth = 5000  # the text grows with the square of the depth
        text, suffix = deep_yaml(depth, form), ".yaml"
    result, where = via(tmp_path, text, suffix)
    assert_located(result, where, "Y003")


def test_deep_nesting_names_the_line_where_the_limit_is_passed(tmp_path):
    text = deep_yaml(MAX_DEPTH + 10, "block_map")
    result, where = via_check(tmp_path, text, ".yaml")
    assert result.exit_code == 3
    assert f"{where}:{MAX_DEPTH + 2}:" in result.output and "Y003" in result.output


@pytest.mark.parametrize("form", ["flow_list", "block_map"])
def test_deep_nesting_in_a_rule_file_is_exit_4(tmp_path, form):
    rules = tmp_path / "rules"
    shutil.copytree(default_rules(), rules)
    (rules / "rulebook.yaml").write_text(
        "name: deep\nversion: '1'\n" + deep_yaml(20_000 if form == "flow_list" else 300, form).replace("id: H-1\n", ""),
        encoding="utf-8",
    )
    for args in (
        ["rules", "validate", str(rules)],
        ["check", "examples/stilstand.yaml", "--rules", str(rules), "--engine", "python"],
    ):
        result = run(*args)
        assert result.exit_code == 4 and "Y003" in result.output and "rulebook.yaml" in result.output


tree_text = st.text(alphabet=st.sampled_from(list("ab: -#[]{}'\",|>&*!\n\\")), max_size=10)
trees = st.recursive(
    st.one_of(st.integers(), tree_text, st.none(), st.booleans()),
    lambda children: st.one_of(st.lists(children, max_size=3), st.dictionaries(tree_text, children, max_size=3)),
    max_leaves=30,
)


def nesting(value) -> int:
    if isinstance(value, list):
        return 1 + max((nesting(item) for item in value), default=0)
    if isinstance(value, dict):
        return 1 + max((nesting(item) for item in value.values()), default=0)
    return 0


@settings(max_examples=300, deadline=None)
@given(trees, st.sampled_from([None, True, False]), st.sampled_from([2, 4]), st.sampled_from([12, 80]))
def test_the_depth_scan_never_counts_fewer_levels_than_the_document_has(value, flow, indent, width):
    """Whatever YAML style writes a document, the scan sees at least its depth and at most two more."""
    depth = nesting(value)
    text = yaml.safe_dump(value, default_flow_style=flow, indent=indent, width=width, allow_unicode=True)
    if depth:
        assert yaml_depth_problem(text, "x", depth - 1) is not None, text
        assert json_depth_problem(json.dumps(value), "x", depth - 1) is not None
    assert yaml_depth_problem(text, "x", depth + 1) is None, text
    assert json_depth_problem(json.dumps(value), "x", depth) is None


# --- integers too long to convert ---------------------------------------------------------------


@pytest.mark.parametrize("via", EVERY, ids=lambda via: via.__name__)
@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_too_long_integers_are_located_problems(tmp_path, via, fmt):
    number = long_number()
    data = good_record()
    if fmt == "yaml" and via is not via_batch_jsonl:
        text, suffix = as_yaml(data).replace("health_coping: 3", f"health_coping: {number}", 1), ".yaml"
    else:
        text, suffix = json.dumps(data).replace('"health_coping": 3', f'"health_coping": {number}', 1), ".json"
    assert number in text
    result, where = via(tmp_path, text, suffix)
    assert_located(result, where, "Y004")


def test_too_long_integer_in_csv_exports(tmp_path):
    measurements = tmp_path / "measurements.csv"
    measurements.write_text(
        "citizen_id,date,indicator,score\nC-1,2026-05-01,health_coping,3\n"
        f"C-2,2026-05-01,health_coping,{long_number()}\n",
        encoding="utf-8",
    )
    result = run("batch", str(measurements), "--as-of", AS_OF, "--engine", "python", "--format", "csv", "--lang", "en")
    assert result.exit_code == 3 and "2 read, 1 evaluated, 1 rejected" in result.stderr
    assert "C-2" in result.stderr and "R002" in result.stderr


def test_too_long_integer_in_a_rule_file_is_exit_4(tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(default_rules(), rules)
    text = (rules / "phases.yaml").read_text(encoding="utf-8")
    (rules / "phases.yaml").write_text(text.replace("priority: 10", f"priority: {long_number()}", 1), encoding="utf-8")
    result = run("rules", "validate", str(rules))
    assert result.exit_code == 4 and "Y004" in result.output and "phases.yaml" in result.output


def test_parsers_return_problems_for_every_bad_class():
    for text, parse in (
        (deep_json(10_000, "["), parse_json),
        (deep_yaml(10_000, "flow_map"), parse_yaml),
        ('{"a": ' + "1" * 5000 + "}", parse_json),
        ("a: " + "1" * 5000, parse_yaml),
        ("? [a]\n: 1\n", parse_yaml),
    ):
        data, problem = parse(text, "x")
        assert data is None and problem.code in ("Y001", "Y003", "Y004") and problem.path == "x"


# --- guidance templates that would build too much or run too long --------------------------------

HOSTILE_TEMPLATES = {
    "string_times": "{{ 'x' * %d }}" % RNG.randint(10**6 + 1, 10**9),
    "list_times": "{{ [1, 2] * %d }}" % RNG.randint(10**6, 10**9),
    "power": "{{ 7 ** %d }}" % RNG.randint(10**5, 10**8),
    "format_width": "{{ '%%%dd'|format(1) }}" % RNG.randint(10**7, 10**9),
    "str_format_width": "{{ '{:>%d}'.format(1) }}" % RNG.randint(10**7, 10**9),
    "padding": "{{ 'x'.center(%d) }}" % RNG.randint(10**7, 10**9),
    "join": "{{ range(100000)|join('y' * 999999) }}",
    "concat_doubling": "{% set ns = namespace(s='ab') %}{% for i in range(60) %}{% set ns.s = ns.s ~ ns.s %}"
    "{% endfor %}{{ ns.s|length }}",
    "output": "{% for i in range(100000) %}{% for j in range(1000) %}xxxxxxxxxx{% endfor %}{% endfor %}",
}


def guidance_with(tmp_path, body: str):
    folder = tmp_path / "guidance"
    for lang in ("da", "en"):
        (folder / lang / "flags").mkdir(parents=True)
        (folder / lang / "flags" / "caseworker_change.j2").write_text(
            "{% block title %}T{% endblock %}\n{% block message %}\nline three\n" + body + "\n{% endblock %}\n",
            encoding="utf-8",
        )
    return folder


@pytest.mark.parametrize("name", list(HOSTILE_TEMPLATES))
def test_hostile_templates_are_stopped_with_file_and_line(tmp_path, name):
    folder = guidance_with(tmp_path, HOSTILE_TEMPLATES[name])
    result = run("check", "examples/stilstand.yaml", "--as-of", AS_OF, "--engine", "python", "--guidance", str(folder))
    assert result.exit_code == 4, result.output
    assert "T007" in result.output
    assert f"{folder / 'da' / 'flags' / 'caseworker_change.j2'}:4:" in result.output


def test_a_template_that_loops_for_long_is_stopped(tmp_path):
    loop = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
    folder = guidance_with(tmp_path, loop)
    result = run("check", "examples/stilstand.yaml", "--as-of", AS_OF, "--engine", "python", "--guidance", str(folder))
    assert result.exit_code == 4 and "T006" in result.output
    assert f"{folder / 'da' / 'flags' / 'caseworker_change.j2'}:4:" in result.output


@pytest.mark.slow
def test_rules_validate_finds_oversized_constants_without_rendering(tmp_path):
    folder = guidance_with(tmp_path, HOSTILE_TEMPLATES["string_times"] + "\n{{ range(99999999) }}")
    result = run("rules", "validate", "--guidance", str(folder))
    assert result.exit_code == 4
    assert result.output.count("T007") >= 2 and "caseworker_change.j2:4:" in result.output


# --- CSV injection ------------------------------------------------------------------------------

FORMULA_STARTS = ["=", "+", "-", "@", "\t", "\r"]


def test_batch_csv_neutralises_formula_cells(tmp_path):
    ids = [
        start + f"{RNG.choice(['1+1', 'cmd|calc', 'HYPERLINK(x)', 'SUM(A1)'])}-{index}"
        for index, start in enumerate(FORMULA_STARTS)
    ] + ["PLAIN-1"]
    path = tmp_path / "caseload.jsonl"
    path.write_text("".join(json.dumps(good_record(citizen)) + "\n" for citizen in ids), encoding="utf-8")
    result = run("batch", str(path), "--as-of", AS_OF, "--engine", "python", "--format", "csv", "--order", "input")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [row["citizen_id"] for row in rows] == ["'" + citizen for citizen in ids[:-1]] + ["PLAIN-1"]
    for row in rows:
        for name, cell in row.items():
            assert cell[:1] not in FORMULA_STARTS, (name, cell)
        assert row["high"].isdigit()
    jsonl = run("batch", str(path), "--as-of", AS_OF, "--engine", "python", "--format", "jsonl", "--order", "input")
    assert [json.loads(line)["citizen_id"] for line in jsonl.stdout.splitlines()[:-1]] == ids  # only CSV is changed


def test_safe_cell_keeps_numbers_and_empty_cells():
    assert safe_cell(-1) == -1 and safe_cell(0) == 0 and safe_cell(None) == ""
    assert safe_cell("-0.33") == "'-0.33" and safe_cell("A=1") == "A=1"


# --- the same citizen twice ---------------------------------------------------------------------


def test_duplicate_ids_are_rejected_after_the_first_in_every_reader(tmp_path):
    folder = tmp_path / "caseload"
    folder.mkdir()
    (folder / "one.json").write_text(json.dumps(good_record("DUP-1")), encoding="utf-8")
    (folder / "two.yaml").write_text(as_yaml(good_record("DUP-2")), encoding="utf-8")
    jsonl = tmp_path / "more.jsonl"
    jsonl.write_text(
        "".join(json.dumps(good_record(citizen)) + "\n" for citizen in ("DUP-1", "NEW-1", "NEW-1")), encoding="utf-8"
    )
    measurements = tmp_path / "measurements.csv"
    measurements.write_text("citizen_id,date,indicator,score\nDUP-2,2026-05-01,health_coping,3\n", encoding="utf-8")
    result = run(
        "batch",
        str(folder),
        str(jsonl),
        str(measurements),
        "--as-of",
        AS_OF,
        "--engine",
        "python",
        "--format",
        "jsonl",
        "--lang",
        "en",
    )
    assert result.exit_code == 3
    assert "6 read, 3 evaluated, 3 rejected" in result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()[:-1]]  # the last line is the trailer
    assert sorted(row["citizen_id"] for row in rows) == ["DUP-1", "DUP-2", "NEW-1"]
    assert f"R006 citizen id DUP-1 was already read at {folder / 'one.json'}" in result.stderr
    assert f"{jsonl}:3: NEW-1: R006 citizen id NEW-1 was already read at {jsonl}:2" in result.stderr
    assert f"{measurements}:2: DUP-2: R006" in result.stderr
    danish = run("batch", str(jsonl), "--as-of", AS_OF, "--engine", "python", "--format", "jsonl")
    assert (
        "R006 borger-id NEW-1 er allerede læst i" in danish.stderr and "3 læst, 2 vurderet, 1 afvist" in danish.stderr
    )


def test_duplicate_ids_with_workers(tmp_path):
    path = tmp_path / "caseload.jsonl"
    path.write_text("".join(json.dumps(good_record(f"W-{index % 3}")) + "\n" for index in range(9)), encoding="utf-8")
    result = run(
        "batch",
        str(path),
        "--as-of",
        AS_OF,
        "--engine",
        "python",
        "--format",
        "jsonl",
        "--workers",
        "2",
        "--lang",
        "en",
    )
    assert result.exit_code == 3 and "9 read, 3 evaluated, 6 rejected" in result.stderr


def test_duplicate_ids_in_rules_diff(tmp_path):
    path = tmp_path / "caseload.jsonl"
    path.write_text("".join(json.dumps(good_record(citizen)) + "\n" for citizen in ("A", "B", "A")), encoding="utf-8")
    rules = str(default_rules())
    result = run("rules", "diff", rules, rules, "--caseload", str(path), "--as-of", AS_OF, "--format", "json")
    document = json.loads(result.stdout)
    assert document["counts"]["read"] == 3 and document["counts"]["rejected"] == 1
    assert document["rejected"][0]["problems"][0]["code"] == "R006"


# --- every message follows --lang ---------------------------------------------------------------


def test_cpr_like_id_warning_follows_lang(tmp_path):
    path = tmp_path / "record.json"
    path.write_text(json.dumps(good_record("010203-1234")), encoding="utf-8")
    warnings = {}
    for lang in ("da", "en"):
        result = run("check", str(path), "--as-of", AS_OF, "--engine", "python", "--format", "json", "--lang", lang)
        warnings[lang] = json.loads(result.stdout)["warnings"]
    assert warnings["en"] == ["the citizen id looks like a CPR number; use a pseudonymous id"]
    assert warnings["da"] == ["borger-id'et ligner et CPR-nummer; brug et pseudonymt id"]


@pytest.mark.parametrize(
    "lang, expected",
    [
        (
            "da",
            [
                "en score skal være et helt tal fra 1 til 5, ikke 9",
                "ukendt indsatstype 'cirkus'",
                "slutter før den begynder",
                "er ikke et kendt felt",
            ],
        ),
        (
            "en",
            [
                "a score must be a whole number from 1 to 5, not 9",
                "unknown intervention type 'cirkus'",
                "ends before it starts",
                "is not a known field",
            ],
        ),
    ],
)
def test_record_problems_follow_lang(tmp_path, lang, expected):
    schema = good_record()
    schema["measurements"][0]["scores"]["job_search"] = 9
    names = good_record("H-2")
    names["interventions"] = [
        {"type": "cirkus", "start": "2026-03-01"},
        {"type": "mentor", "start": "2026-03-01", "end": "2026-01-01"},
    ]
    for data, texts, extra in ((schema, [expected[0], expected[3]], "notse: x\n"), (names, expected[1:3], "")):
        path = tmp_path / "record.yaml"
        path.write_text(as_yaml(data) + extra, encoding="utf-8")
        check = run("check", str(path), "--as-of", AS_OF, "--engine", "python", "--lang", lang)
        assert check.exit_code == 3
        for text in texts:
            assert text in check.output
    jsonl = tmp_path / "caseload.jsonl"
    jsonl.write_text(json.dumps(schema) + "\n" + json.dumps(names) + "\n", encoding="utf-8")
    batch = run("batch", str(jsonl), "--as-of", AS_OF, "--engine", "python", "--format", "jsonl", "--lang", lang)
    assert batch.exit_code == 3
    for text in expected[:3]:
        assert text in batch.stderr
    summary = {"da": "2 læst, 0 vurderet, 2 afvist", "en": "2 read, 0 evaluated, 2 rejected"}[lang]
    assert summary in batch.stderr


@pytest.mark.parametrize(
    ("name", "text", "where", "code", "da", "en"),
    [
        ("dup.yaml", "id: A\nid: B\n", "dup.yaml:2", "Y002", "nøglen 'id' står to gange", "duplicate key 'id'"),
        ("bad.yaml", "id: [A\n", "bad.yaml:2:1", "Y001", "YAML-syntaksfejl: ", "YAML syntax error: "),
        (
            "key.yaml",
            "? [a, b]\n: 1\n",
            "key.yaml:1:3",
            "Y001",
            "YAML-syntaksfejl: en nøgle skal være en enkel værdi",
            "YAML syntax error: a key must be",
        ),
        ("bad.json", '{"id": }', "bad.json:1:8", "Y001", "JSON-syntaksfejl: ", "JSON syntax error: "),
    ],
)
def test_syntax_problems_read_in_the_chosen_language(tmp_path, name, text, where, code, da, en):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    for lang, words in (("da", da), ("en", en)):
        result = run("check", "--lang", lang, str(path))
        assert result.exit_code == 3, result.output
        assert f"{where}" in result.output and f"{code} {words}" in result.output, result.output
