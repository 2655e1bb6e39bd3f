"""The bundled examples: each shows its phase, so the README's example command shows what it says."""

import pytest

from tests.conftest import AS_OF, ROOT

EXPECTED = {
    "fremgang.yaml": ("progress", []),
    "stilstand.yaml": ("standstill", ["caseworker_change", "staircase_language"]),
    "tilbagegang.yaml": ("regress", ["no_intervention_3m", "indicator_drop"]),
    "afsporing.yaml": ("derailment", ["fifth_internship", "low_caseworker_belief"]),
    "ingen_maalinger.yaml": (None, ["no_measurement"]),
}


def test_every_example_is_listed():
    assert sorted(path.name for path in (ROOT / "examples").glob("*.yaml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_phase_and_key_flags(checker, name):
    phase, flags = EXPECTED[name]
    report = checker.check_file(str(ROOT / "examples" / name), AS_OF, "da")
    assert (report.phase.id if report.phase else None) == phase
    assert set(flags) <= {flag.id for flag in report.flags}
    if not flags:
        assert report.flags == []
