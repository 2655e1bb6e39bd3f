"""Releases: validated, approved by a second person, content-addressed, read-only, and runnable."""

from __future__ import annotations

import json
import os
import shutil
import stat

import pytest
from click.testing import CliRunner

from bip_engine import Checker, RulebookError, cli, load_rulebook
from bip_engine.authoring.release import make_release
from bip_engine.releases import (
    ReleaseError,
    list_releases,
    load_release,
    open_release,
    resolve,
)
from tests.conftest import ROOT
from tests.test_dated import AS_OF, dated_rulebook, falling_record, write


@pytest.fixture
def dated(tmp_path):
    return dated_rulebook(tmp_path)


@pytest.fixture
def texts(dated):
    return [dated.parent / "tekster"]


@pytest.fixture
def features(dated):
    """The municipality's scenarios: the bundled ones but the New Year check, which its 2027 rules change on purpose."""
    folder = dated.parent / "features"
    shutil.copytree(ROOT / "features", folder, ignore=shutil.ignore_patterns("regeldato.feature"))
    return folder


def test_release_is_written_read_only_and_runs_without_its_source(dated, texts, tmp_path):
    store = tmp_path / "store"
    result = make_release(dated, "Jens", "Ny grænse fra 2027", store, texts)
    release = result.release
    assert result.created and release.approver == "Jens" and release.authors == ["Mette"]
    assert not release.self_approved and release.note == "Ny grænse fra 2027"
    assert (release.name, release.version) == ("kommune", "2027.1")
    assert release.layers == ["0-bip-standard", "1-kommune"]
    for path in [release.folder, *release.folder.rglob("*")]:
        assert not os.stat(path).st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH), path
    manifest = json.loads((release.folder / "release.json").read_text(encoding="utf-8"))
    assert manifest["source_hash"] == load_rulebook(dated).content_hash
    assert "guidance/1/da/flags/meeting_required.j2" in manifest["files"]
    shutil.rmtree(dated)  # the release holds every file it needs
    checker = Checker(load_release(store, release.hash[:8]), release.guidance, engine="python")
    report = checker.check(falling_record(), AS_OF, "da", rules_as_of=AS_OF.replace(year=2027, month=1, day=1))
    assert report.rulebook.release == release.hash and report.rulebook.hash == release.rulebook_hash
    assert report.phase.id == "standstill" and "meeting_required" in [flag.id for flag in report.flags]


def test_the_same_content_twice_is_a_no_op_that_says_so(dated, texts, features, tmp_path):
    store = tmp_path / "store"
    first = make_release(dated, "Jens", None, store, texts, features=features)
    second = make_release(dated, "Karen", "again", store, texts, features=features)
    assert not second.created and second.release.hash == first.release.hash and second.release.approver == "Jens"
    assert len(list_releases(store)) == 1
    result = CliRunner().invoke(
        cli.main,
        [
            "rules",
            "release",
            str(dated),
            "--approved-by",
            "Karen",
            "--store",
            str(store),
            "--guidance",
            str(texts[0]),
            "--features",
            str(features),
        ],
    )
    assert result.exit_code == 0 and "Allerede udgivet; intet skrevet" in result.output


def test_the_author_cannot_approve_unless_self_approval_is_recorded(dated, texts, features, tmp_path):
    store = tmp_path / "store"
    result = CliRunner().invoke(
        cli.main,
        ["rules", "release", str(dated), "--approved-by", "mette", "--store", str(store), "--guidance", str(texts[0])],
    )
    assert result.exit_code == 2 and "L002" in result.output and "rulebook.yaml:4" in result.output
    assert list_releases(store) == []
    result = CliRunner().invoke(
        cli.main,
        [
            "rules",
            "release",
            str(dated),
            "--approved-by",
            "Mette",
            "--store",
            str(store),
            "--guidance",
            str(texts[0]),
            "--self-approve",
            "--features",
            str(features),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "selvgodkendt" in result.output
    release = open_release(store, "latest")
    assert release.self_approved and release.approver == "Mette"
    listing = CliRunner().invoke(cli.main, ["rules", "releases", "--store", str(store), "--lang", "en"]).output
    assert release.hash[:12] in listing and "self-approved" in listing


def test_an_invalid_rulebook_is_refused_with_its_problems(dated, texts, tmp_path):
    write(dated, "faser.yaml", "stage: phase\nrules:\n  - id: regress_fall\n    when: chnage <= regress_threshold\n")
    with pytest.raises(RulebookError):
        make_release(dated, "Jens", None, tmp_path / "store", texts)
    result = CliRunner().invoke(
        cli.main,
        [
            "rules",
            "release",
            str(dated),
            "--approved-by",
            "Jens",
            "--store",
            str(tmp_path / "store"),
            "--guidance",
            str(texts[0]),
        ],
    )
    assert result.exit_code == 4 and "faser.yaml:4" in result.output and "E102" in result.output
    assert not (tmp_path / "store").exists() or list_releases(tmp_path / "store") == []


def test_a_missing_template_is_refused_too(dated, tmp_path):
    with pytest.raises(RulebookError) as error:
        make_release(dated, "Jens", None, tmp_path / "store")  # no guidance for the local flag
    assert any(problem.code == "T002" for problem in error.value.problems)


def test_only_the_author_of_the_changed_layer_counts(dated, texts, tmp_path):
    store = tmp_path / "store"
    make_release(dated, "Jens", None, store, texts)
    write(dated, "rulebook.yaml", 'name: kommune\nversion: "2027.2"\nextends: default\nauthor: Jens\n')
    with pytest.raises(ReleaseError) as error:
        make_release(dated, "Jens", None, store, texts)
    assert error.value.problems[0].code == "L002"
    second = make_release(dated, "Mette", None, store, texts).release
    assert second.authors == ["Jens"] and second.manifest["previous"] == list_releases(store)[0].hash


def test_finding_releases_by_prefix_latest_and_errors(dated, texts, tmp_path):
    store = tmp_path / "store"
    with pytest.raises(ReleaseError):
        open_release(store, "latest")
    first = make_release(dated, "Jens", None, store, texts).release
    write(dated, "rulebook.yaml", 'name: kommune\nversion: "2027.2"\nextends: default\nauthor: Mette\n')
    second = make_release(dated, "Jens", None, store, texts).release
    assert open_release(store, "latest").hash == second.hash == resolve(store, "latest").hash
    assert open_release(store, first.hash[:10]).hash == first.hash
    assert resolve(store, None) is None
    with pytest.raises(ReleaseError) as error:
        open_release(store, "ffff")
    assert error.value.problems[0].code == "L001"
    with pytest.raises(ReleaseError):
        open_release(store, "")


def test_check_and_batch_run_from_the_store(dated, texts, tmp_path):
    store = tmp_path / "store"
    release = make_release(dated, "Jens", None, store, texts).release
    record = tmp_path / "b.json"
    record.write_text(json.dumps(falling_record()), encoding="utf-8")
    runner = CliRunner()
    report = json.loads(
        runner.invoke(
            cli.main,
            [
                "check",
                str(record),
                "--release",
                "latest",
                "--store",
                str(store),
                "--as-of",
                "2026-11-22",
                "--format",
                "json",
            ],
        ).stdout
    )
    assert report["rulebook"]["release"] == release.hash and report["phase"]["id"] == "regress"
    text = runner.invoke(
        cli.main,
        [
            "check",
            str(record),
            "--release",
            release.hash[:12],
            "--store",
            str(store),
            "--as-of",
            "2026-11-22",
            "--engine",
            "python",
        ],
    ).stdout
    assert f"udgivelse {release.hash[:12]}" in " ".join(text.split())
    caseload = tmp_path / "c.jsonl"
    caseload.write_text(json.dumps(falling_record()) + "\n", encoding="utf-8")
    row = runner.invoke(
        cli.main,
        [
            "batch",
            str(caseload),
            "--release",
            "latest",
            "--store",
            str(store),
            "--as-of",
            "2026-11-22",
            "--format",
            "jsonl",
            "--rules-as-of",
            "2027-01-01",
        ],
    ).stdout
    first, trailer = (json.loads(line) for line in row.splitlines())
    assert first["phase"] == "standstill"
    assert trailer["summary"]["rulebook"]["release"] == release.hash  # the output names the release
    assert (trailer["summary"]["as_of"], trailer["summary"]["rules_as_of"]) == ("2026-11-22", "2027-01-01")
    missing = runner.invoke(cli.main, ["check", str(record), "--release", "abc", "--store", str(store)])
    assert missing.exit_code == 2 and "L001" in missing.output
    both = runner.invoke(cli.main, ["check", str(record), "--release", "latest", "--rules", str(dated)])
    assert both.exit_code == 2


def test_a_release_renders_the_local_guidance_over_the_defaults(dated, texts, tmp_path):
    """The municipality's own template of a default flag wins over the bundled one, from the release too."""
    local = "Lokal overskrift: målingen er for gammel"
    for lang in ("da", "en"):
        write(
            texts[0] / lang / "flags",
            "measurement_overdue.j2",
            f"{{% block title %}}{local}{{% endblock %}}{{% block message %}}Mål igen.{{% endblock %}}",
        )
    store = tmp_path / "store"
    make_release(dated, "Jens", None, store, texts)
    record = tmp_path / "r.json"
    record.write_text(json.dumps(falling_record()), encoding="utf-8")
    args = ["check", str(record), "--as-of", "2026-11-22", "--format", "json"]
    from_source = json.loads(
        CliRunner().invoke(cli.main, [*args, "--rules", str(dated), "--guidance", str(texts[0])]).stdout
    )
    shutil.rmtree(texts[0])  # the release must carry the local templates itself
    from_release = json.loads(
        CliRunner().invoke(cli.main, [*args, "--release", "latest", "--store", str(store)]).stdout
    )
    for report in (from_source, from_release):
        titles = {flag["id"]: flag["title"] for flag in report["flags"]}
        assert titles["measurement_overdue"] == local, titles


def test_a_release_runs_its_scenarios_carries_them_and_records_the_results(dated, texts, features, tmp_path):
    store = tmp_path / "store"
    release = make_release(dated, "Jens", None, store, texts, features=features).release
    carried = sorted(path.relative_to(release.folder / "features") for path in (release.folder / "features").rglob("*"))
    assert carried == sorted(path.relative_to(features) for path in features.rglob("*.feature"))
    scenarios = json.loads((release.folder / "release.json").read_text(encoding="utf-8"))["scenarios"]
    expected = sum(  # a scenario per Scenarie, and per example row of an outline
        text.count("Scenarie:")
        + text.count("Scenario:")
        - text.count("Abstrakt Scenario:")
        + sum(len(block.split("\n\n")[0].strip().splitlines()) - 1 for block in text.split("Eksempler:")[1:])
        for text in (path.read_text(encoding="utf-8") for path in features.rglob("*.feature"))
    )
    assert scenarios["failed"] == 0 and scenarios["passed"] == len(scenarios["results"]) == expected
    assert {item["feature"] for item in scenarios["results"]} == {
        f"features/{p.name}" for p in features.glob("*.feature")
    }


def test_a_failing_scenario_refuses_the_release_unless_allowed_with_a_reason(dated, texts, tmp_path):
    """The bundled New Year scenario fails under the municipality's 2027 rules, as `bip rules test` says."""
    store = tmp_path / "store"
    args = ["rules", "release", str(dated), "--approved-by", "Jens", "--store", str(store), "--guidance", str(texts[0])]
    tested = CliRunner().invoke(cli.main, ["rules", "test", str(dated)])
    assert tested.exit_code == 1
    refused = CliRunner().invoke(cli.main, args)
    assert refused.exit_code == 2 and "L006" in refused.output, refused.output
    assert "regeldato.feature:" in refused.output and list_releases(store) == []
    no_reason = CliRunner().invoke(cli.main, [*args, "--allow-failing-scenarios"])
    assert no_reason.exit_code == 2 and "--reason" in no_reason.output and list_releases(store) == []
    allowed = CliRunner().invoke(
        cli.main, [*args, "--allow-failing-scenarios", "--reason", "Nytårsscenariet opdateres"]
    )
    assert allowed.exit_code == 0, allowed.output
    assert "1 fejlet" in allowed.output and "Nytårsscenariet opdateres" in allowed.output
    scenarios = open_release(store, "latest").manifest["scenarios"]
    assert scenarios["failing_allowed"] == {"reason": "Nytårsscenariet opdateres", "by": "Jens"}
    failed = [item for item in scenarios["results"] if item["outcome"] == "failed"]
    assert [item["feature"] for item in failed] == ["features/regeldato.feature"]


def test_rollback_points_latest_at_an_earlier_release_and_records_who_and_why(dated, texts, features, tmp_path):
    """Re-releasing earlier content with --point-latest (or bip rules rollback) moves latest back; services follow."""
    store = tmp_path / "store"
    first = make_release(dated, "Jens", "A", store, texts, features=features).release
    write(dated, "rulebook.yaml", 'name: kommune\nversion: "2027.2"\nextends: default\nauthor: Mette\n')
    second = make_release(dated, "Jens", "B", store, texts, features=features).release
    assert open_release(store, "latest").hash == second.hash == resolve(store, "latest").hash
    write(dated, "rulebook.yaml", 'name: kommune\nversion: "2027.1"\nextends: default\nauthor: Mette\n')
    base = ["rules", "release", str(dated), "--approved-by", "Jens", "--store", str(store), "--guidance", str(texts[0])]
    again = CliRunner().invoke(cli.main, [*base, "--features", str(features)])
    assert again.exit_code == 0 and "Allerede udgivet" in again.output, again.output
    assert open_release(store, "latest").hash == second.hash  # without --point-latest nothing moves
    moved = CliRunner().invoke(cli.main, [*base, "--features", str(features), "--point-latest", "--note", "B fejler"])
    assert moved.exit_code == 0, moved.output
    assert f"latest peger nu på {first.hash}" in moved.output and second.hash in moved.output
    assert open_release(store, "latest").hash == first.hash == resolve(store, "latest").hash
    listing = CliRunner().invoke(cli.main, ["rules", "releases", "--store", str(store)]).output
    assert [line[:12] for line in listing.splitlines() if line.endswith("<- latest")] == [first.hash[:12]]
    forward = CliRunner().invoke(
        cli.main,
        ["rules", "rollback", second.hash[:10], "--by", "Karen", "--reason", "B er rettet", "--store", str(store)],
    )
    assert forward.exit_code == 0 and open_release(store, "latest").hash == second.hash
    history = [json.loads(line) for line in (store / "latest-history.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [(item["hash"], item["by"], item["reason"]) for item in history[-2:]] == [
        (first.hash, "Jens", "B fejler"),
        (second.hash, "Karen", "B er rettet"),
    ]
    refused = CliRunner().invoke(
        cli.main, ["rules", "rollback", first.hash, "--by", " ", "--reason", "x", "--store", str(store)]
    )
    assert refused.exit_code == 2 and "L007" in refused.output


def test_rules_diff_takes_release_hashes_and_latest_with_dates(dated, texts, tmp_path):
    store = tmp_path / "store"
    release = make_release(dated, "Jens", None, store, texts).release
    caseload = tmp_path / "c.jsonl"
    caseload.write_text(json.dumps(falling_record()) + "\n", encoding="utf-8")
    args = ["--caseload", str(caseload), "--as-of", "2026-11-22", "--format", "json", "--store", str(store)]
    by_release = CliRunner().invoke(
        cli.main, ["rules", "diff", f"{release.hash[:12]}@2026-12-31", "latest@2027-01-01", *args]
    )
    assert by_release.exit_code == 0, by_release.output
    by_folder = CliRunner().invoke(
        cli.main, ["rules", "diff", f"{dated}@2026-12-31", f"{dated}@2027-01-01", *args[:-2]]
    )
    assert json.loads(by_release.stdout)["phases"] == json.loads(by_folder.stdout)["phases"]
    unknown = CliRunner().invoke(cli.main, ["rules", "diff", "abcdef@2026-12-31", "latest", *args])
    assert unknown.exit_code == 2 and "L001" in unknown.output


def test_rules_docs_of_a_release_uses_its_rules_and_its_guidance(dated, texts, tmp_path):
    local = "Lokal overskrift i dokumentet"
    for lang in ("da", "en"):
        write(
            texts[0] / lang / "flags",
            "measurement_overdue.j2",
            f"{{% block title %}}{local}{{% endblock %}}{{% block message %}}Mål igen.{{% endblock %}}",
        )
    store = tmp_path / "store"
    make_release(dated, "Jens", None, store, texts)
    shutil.rmtree(dated.parent / "tekster")
    shutil.rmtree(dated)
    document = CliRunner().invoke(
        cli.main, ["rules", "docs", "--release", "latest", "--store", str(store), "--no-examples"]
    )
    assert document.exit_code == 0, document.output
    assert "kommune" in document.output and "2027.1" in document.output and local in document.output
