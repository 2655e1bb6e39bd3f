"""The message catalogue: both languages complete and alike, read through gettext, and Danish output free of English.

The last test runs the Danish output of every command and endpoint on good and bad input and looks
for the catalogue's own English texts in it, so a text shown without going through the catalogue's
Danish (or a problem built without its key) makes it fail.
"""

from __future__ import annotations

import json
import re
import string

import pytest
import yaml
from babel.messages.pofile import read_po
from click.testing import CliRunner

from bip_engine import cli, messages
from tests.conftest import ROOT

AS_OF = "2026-11-22"


def po_texts(lang: str) -> dict[str, str]:
    """The .po file of `lang` read with Babel, independently of the module's cache."""
    with open(messages.po_path(lang), "rb") as stream:
        return {item.id: item.string for item in read_po(stream) if item.id}


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def test_every_key_is_in_both_languages_with_the_same_placeholders():
    danish, english = po_texts("da"), po_texts("en")
    assert set(danish) == set(english)
    assert len(english) > 400
    assert [key for key, value in {**danish, **english}.items() if not value] == []
    different = {key: (placeholders(danish[key]), placeholders(english[key])) for key in english}
    assert {key: pair for key, pair in different.items() if pair[0] != pair[1]} == {}
    reserved = {
        "key",
        "lang",
        "code",
    }  # the parameters of `messages.text` and `errors.problem`: an argument cannot have these names
    assert [key for key, (names, _) in different.items() if names & reserved] == []


def test_the_module_gives_what_the_po_files_say_fresh_and_from_its_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("BIP_CACHE_DIR", str(tmp_path))
    for attempt in ("parsed", "cached"):
        messages.catalogue.cache_clear()
        messages._section.cache_clear()
        for lang in messages.LANGS:
            assert messages.catalogue(lang) == po_texts(lang), attempt
        assert len(list((tmp_path / "messages").glob("*.json"))) == 2
    messages.catalogue.cache_clear()
    messages._section.cache_clear()


def test_text_fills_placeholders_and_names_in_the_language():
    assert (
        messages.text("R002.score", "da", field="x", given=9) == "x: en score skal være et helt tal fra 1 til 5, ikke 9"
    )
    assert messages.text("left_out.intervention", "en", name="job", date="2026-01-01") == "job from 2026-01-01"
    named = messages.text("R003", "da", field="f", name="x", hint_name="y")
    assert named.endswith("(mente du 'y'?)")
    assert messages.text("fact_score", "en", label={"da": "Samarbejdsevne", "en": "Ability to cooperate"}) == (
        "latest score for Ability to cooperate"
    )
    with pytest.raises(KeyError):
        messages.text("no.such.key", "da")


# --- Danish output has no English from the catalogue ------------------------------------------------


def fragments(lang: str = "en", other: str = "da") -> dict[str, str]:
    """Pieces of the texts of `lang` that differ from those of `other` and could not be in `other`: the
    literal parts of each template between placeholders, of two or more words and 10 or more characters."""
    shown, others = po_texts(lang), po_texts(other)
    found = {}
    for key, template in shown.items():
        if template == others[key]:
            continue
        for literal, *_ in string.Formatter().parse(template):
            piece = literal.strip(" :;,.()'\"\n")
            if len(piece) >= 10 and len(piece.split()) >= 2 and piece not in others[key]:
                found[piece] = key
    return found


FRAGMENTS = fragments("en", "da")
DANISH_FRAGMENTS = fragments("da", "en")


def english_in(output: str) -> list[tuple[str, str]]:
    return [(key, piece) for piece, key in FRAGMENTS.items() if piece in output]


def danish_in(output: str) -> list[tuple[str, str]]:
    return [(key, piece) for piece, key in DANISH_FRAGMENTS.items() if piece in output]


def example(name: str) -> dict:
    return json.loads(json.dumps(yaml.safe_load((ROOT / "examples" / name).read_text(encoding="utf-8")), default=str))


def bad_examples() -> list[dict]:
    score = example("tilbagegang.yaml")
    score["measurements"][0]["scores"]["health_coping"] = 9
    fields = example("fremgang.yaml")
    fields["measurements"][0]["date"] = "2026-13-01"
    fields["interventions"] = [{"type": "jobrettet_typo", "start": "2026-01-01", "end": "2025-01-01"}]
    fields["colour"] = "blue"
    return [score, fields, {"id": "010190-1234"}, {}]


@pytest.fixture
def files(tmp_path):
    """Good and bad records, a caseload folder with both, and a broken rulebook."""
    good = sorted((ROOT / "examples").glob("*.yaml"))
    bad = []
    for number, data in enumerate(bad_examples()):
        path = tmp_path / f"bad{number}.json"
        path.write_text(json.dumps(data), encoding="utf-8")
        bad.append(path)
    (tmp_path / "notjson.json").write_text("{oops", encoding="utf-8")
    bad.append(tmp_path / "notjson.json")
    caseload = tmp_path / "caseload.jsonl"
    lines = [json.dumps(example(path.name)) for path in good] + [json.dumps(data) for data in bad_examples()]
    caseload.write_text("\n".join([*lines, "{oops", "[1]"]) + "\n", encoding="utf-8")
    rules = tmp_path / "rules"
    rules.mkdir()
    for path in (ROOT / "rules").glob("*.yaml"):
        (rules / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    with open(rules / "flags.yaml", "a", encoding="utf-8") as stream:
        stream.write("\nbroken: [unclosed\n")
    return {"good": good, "bad": bad, "caseload": caseload, "broken_rules": rules, "tmp": tmp_path}


def cli_outputs(files) -> dict[str, str]:
    runner = CliRunner()
    outputs = {}

    def run(name: str, *args: str) -> None:
        result = runner.invoke(cli.main, [*args, "--lang", "da"])
        assert result.exception is None or isinstance(result.exception, SystemExit), (name, result.exception)
        outputs[name] = result.output + (result.stderr if result.stderr_bytes is not None else "")

    for path in files["good"] + files["bad"]:
        for fmt in ("text", "markdown", "json"):
            run(f"check {path.name} {fmt}", "check", str(path), "--as-of", "2026-06-01", "--format", fmt)
        run(f"explain {path.name}", "explain", str(path), "--as-of", AS_OF)
    errors = files["tmp"] / "errors.jsonl"
    for fmt in ("text", "jsonl"):
        run(f"batch {fmt}", "batch", str(files["caseload"]), "--as-of", AS_OF, "--format", fmt, "--errors", str(errors))
        outputs[f"batch {fmt} errors"] = errors.read_text(encoding="utf-8")
    run("validate good", "rules", "validate")
    run("validate bad", "rules", "validate", str(files["broken_rules"]))
    run("docs", "rules", "docs")
    run("batch missing input", "batch", str(files["tmp"] / "nothing-here"), "--as-of", AS_OF)
    (files["tmp"] / "unknown.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    run("batch unknown csv", "batch", str(files["tmp"] / "unknown.csv"), "--as-of", AS_OF)
    run("diff bad date", "rules", "diff", f"{ROOT / 'rules'}@2026-13-01", str(ROOT / "rules"), "--caseload", "x")
    run("steps", "rules", "steps")
    run("diff", "rules", "diff", str(ROOT / "rules"), str(ROOT / "rules"), "--caseload", str(files["caseload"]))
    store = files["tmp"] / "store"
    run("release refused", "rules", "release", str(ROOT / "rules"), "--approved-by", " ", "--store", str(store))
    run(
        "release",
        "rules",
        "release",
        str(ROOT / "rules"),
        "--approved-by",
        "Karen",
        "--self-approve",
        "--store",
        str(store),
    )
    run("releases", "rules", "releases", "--store", str(store))
    features = files["tmp"] / "features"
    features.mkdir()
    (features / "bad.feature").write_text("Egenskab: x\n  Scenarie: y\n    Givet noget\n    Scenarieskabelon: z\n")
    run("rules test bad", "rules", "test", "--features", str(features))
    run("rules test none", "rules", "test", "--features", str(files["tmp"] / "broken_rules"))
    failing = files["tmp"] / "failing"
    failing.mkdir()
    (failing / "failing.feature").write_text(
        "# language: da\nEgenskab: x\n  Scenarie: forkert fase\n    Givet en borger med disse målinger:\n"
        "      | dato       | alle |\n      | 2026-08-12 | 3    |\n      | 2026-11-10 | 2    |\n"
        "    Når tjekket køres den 2026-11-22\n    Så er fasen Fremgang\n"
        "  Scenarie: forkerte data\n    Givet en borger med disse målinger:\n"
        "      | dato       | helth_coping |\n      | 2026-11-10 | 3            |\n"
        "    Når tjekket køres den 2026-11-22\n    Så er der ingen fase\n",
        encoding="utf-8",
    )
    run("rules test failing", "rules", "test", "--features", str(failing), "--coverage")
    database = f"sqlite:///{files['tmp'] / 'log.sqlite'}"
    run("replay unknown", "replay", "nope", "--database", database, "--store", str(store))
    run("token bad role", "tokens", "create", "--name", "x", "--role", "boss", "--database", database)
    return outputs


def test_the_danish_output_of_every_command_has_no_english_message(files):
    assert len(FRAGMENTS) > 100  # the check can fail: there is English to find
    outputs = cli_outputs(files)
    found = {name: english_in(output) for name, output in outputs.items()}
    assert {name: pieces for name, pieces in found.items() if pieces} == {}


def test_the_finder_finds_english_where_there_is_some():
    sample = "Borgerens data kan ikke bruges:\n  x.json: R002 " + messages.text("R002.score", "en", field="f", given=9)
    assert english_in(sample)


def test_the_danish_answers_of_every_endpoint_have_no_english_message(files, tmp_path):
    from fastapi.testclient import TestClient

    from bip_engine.service.app import create_app
    from bip_engine.service.settings import ServiceSettings
    from tests.service_server import make_tokens

    database = f"sqlite:///{tmp_path / 'service.sqlite'}"
    tokens = make_tokens(database)
    answers = {}
    with TestClient(create_app(ServiceSettings(database=database, engine="python"))) as client:
        system = {"authorization": f"Bearer {tokens['system']}"}
        query = f"lang=da&as_of={AS_OF}&purpose=test"
        for path in files["good"] + files["bad"]:
            body = path.read_bytes() if path.suffix == ".json" else json.dumps(example(path.name)).encode()
            for route in ("check", "explain"):
                answer = client.post(
                    f"/v1/{route}?{query}", content=body, headers={**system, "content-type": "application/json"}
                )
                answers[f"{route} {path.name}"] = answer.text
        answers["batch"] = client.post(
            f"/v1/batch?{query}",
            content=files["caseload"].read_bytes(),
            headers={**system, "content-type": "application/x-ndjson"},
        ).text
        answers["no token"] = client.post(f"/v1/check?{query}", json={}).text
        answers["wrong role"] = client.post(
            f"/v1/batch?{query}", content=b"", headers={"authorization": f"Bearer {tokens['caseworker']}"}
        ).text
        answers["not found"] = client.get("/v1/nothing?lang=da", headers=system).text
        answers["method"] = client.delete(f"/v1/check?{query}", headers=system).text
        answers["media type"] = client.post(
            f"/v1/check?{query}", content=b"x", headers={**system, "content-type": "text/plain"}
        ).text
        answers["empty"] = client.post(
            f"/v1/check?{query}", content=b" ", headers={**system, "content-type": "application/json"}
        ).text
        answers["page"] = client.get("/?lang=da").text
    found = {name: english_in(text) for name, text in answers.items()}
    assert {name: pieces for name, pieces in found.items() if pieces} == {}
    assert re.search(r"helt tal fra 1 til 5", answers["check bad0.json"])


def test_every_key_the_code_names_is_in_the_catalogue():
    """Message keys written out in the code (`problem("R002.score", ...)`, `text("cli.progress", ...)`) exist."""
    sources = [*sorted((ROOT / "engine").rglob("*.py")), ROOT / "cli.py"]
    named, prefixes = set(), set()
    for path in sources:
        code = path.read_text(encoding="utf-8")
        named |= set(
            re.findall(r"\b(?:problem|text|self\.add)\(\s*\"([A-Z][0-9]{3}[A-Za-z0-9_.]*|[a-z_]+\.[a-z0-9_.]+)\"", code)
        )
        prefixes |= set(re.findall(r"\btexts\(\s*\"([a-z_.]+)\"", code))
    keys = messages.keys()
    assert len(named) > 80 and prefixes  # the search finds them
    assert sorted(named - keys) == []
    assert sorted(prefix for prefix in prefixes if not any(key.startswith(prefix + ".") for key in keys)) == []


# --- rulebook problems are keyed, and `bip rules validate --lang da` says them in Danish -------------


BROKEN_RULES = """
  - id: typo_fact
    severity: low
    when: month_since_measurement > 3
    reason: {da: x, en: x}
    source: bip_progression
  - id: missing_parameter
    severity: low
    when: change_two_intervals <= steady_fall_treshold
    reason: {da: x, en: x}
    source: bip_progression
  - id: dated_twice
    severity: low
    when: measurement_count == 0
    valid_from: 2026-01-01
    reason: {da: x, en: x}
    source: bip_progression
  - id: dated_twice
    severity: low
    when: measurement_count == 0
    valid_from: 2026-06-01
    reason: {da: x, en: x}
    source: bip_progression
"""


@pytest.fixture
def broken_rulebook(tmp_path):
    """The example rules with a misspelt fact, a missing (misspelt) parameter and two overlapping dated rules."""
    rules = tmp_path / "rules"
    rules.mkdir()
    for path in (ROOT / "rules").glob("*.yaml"):
        (rules / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    with open(rules / "flags.yaml", "a", encoding="utf-8") as stream:
        stream.write(BROKEN_RULES)
    return rules


def test_validate_says_a_broken_rulebook_in_danish(broken_rulebook):
    outputs = {}
    for lang in ("da", "en"):
        result = CliRunner().invoke(cli.main, ["rules", "validate", str(broken_rulebook), "--lang", lang])
        assert result.exit_code == 4, result.output
        outputs[lang] = result.output + (result.stderr if result.stderr_bytes is not None else "")
    assert outputs["da"].count("E102") == 2 and "D003" in outputs["da"]
    assert "'months_since_measurement'" in outputs["da"] and "'steady_fall_threshold'" in outputs["da"]  # the hints
    assert english_in(outputs["da"]) == []
    assert english_in(outputs["en"])  # the same problems in English are found: the check can fail


def is_message_key(node, keys: set[str]) -> bool:
    """A key of the catalogue written out, or a choice (`a if x else b`) between two such keys."""
    import ast

    if isinstance(node, ast.IfExp):
        return is_message_key(node.body, keys) and is_message_key(node.orelse, keys)
    return isinstance(node, ast.Constant) and node.value in keys


def test_every_problem_in_the_engine_is_built_with_a_message_key():
    """`ProblemList.add(key, ...)` and `Problem(..., key=...)`: no problem is made from an English message."""
    import ast

    keys = messages.keys()
    checked, unkeyed = 0, []
    for path in sorted((ROOT / "engine").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        lists = {"problems", "scratch"}  # names a ProblemList goes by: parameters annotated so, or ProblemList()
        for node in ast.walk(tree):
            annotation = getattr(node, "annotation", None) if isinstance(node, ast.arg) else None
            if annotation is not None and "ProblemList" in ast.unparse(annotation):
                lists.add(node.arg)
            made = isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
            if made and ast.unparse(node.value.func) == "ProblemList":
                lists |= {target.id for target in node.targets if isinstance(target, ast.Name)}
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            func = node.func
            if isinstance(func, ast.Name) and func.id == "Problem":
                checked += 1
                if not any(keyword.arg == "key" for keyword in node.keywords):
                    unkeyed.append(where)
            if isinstance(func, ast.Attribute) and func.attr == "add" and ast.unparse(func.value) in lists:
                checked += 1
                first = node.args[0] if node.args else None
                is_key = first is not None and is_message_key(first, keys)
                messages_given = [
                    arg
                    for arg in node.args[1:2]
                    if isinstance(arg, (ast.JoinedStr, ast.BinOp))
                    or (isinstance(arg, ast.Constant) and isinstance(arg.value, str))
                ]
                if not is_key or messages_given:
                    unkeyed.append(where)
    assert checked > 30  # the search finds the problems
    assert unkeyed == []


def test_the_step_list_is_english_with_lang_en_and_keeps_the_danish_steps():
    """`bip rules steps --lang en`: the explanations in English, the step phrases (policy staff's Danish) as they are."""
    from bip_engine.authoring.gherkin_steps import STEPS

    result = CliRunner().invoke(cli.main, ["rules", "steps", "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert all(pattern in result.output for pattern, _, _ in STEPS)

    def prose(output: str) -> str:  # the page without the Danish step phrases, which it keeps on purpose
        for pattern, example, _ in STEPS:
            output = output.replace(example, "").replace(pattern, "")
        return output

    assert danish_in(prose(result.output)) == []
    danish = CliRunner().invoke(cli.main, ["rules", "steps", "--lang", "da"]).output
    assert danish_in(prose(danish))  # the same page in Danish is found: the check can fail
