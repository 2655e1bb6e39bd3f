"""The caseload names each citizen's caseworker and team, and the scoping reads it (no server needed).

The caseworkers export has an optional `team` column (old exports without it still read); the
simulator writes it; `scoping.visible` keeps, for a caseworker, the citizens whose caseworker now is
them and, for a team lead, the team's. The expectations are computed from the records, by the
domain's rule (the caseworker now is the entry with the latest `from` up to today).
"""

from __future__ import annotations

import datetime as dt

import pytest

from bip_engine import clock
from bip_engine.caseload.readers import RawRecord, read_csv_exports
from bip_engine.caseload.simulate import generate_cohort, write_csv
from bip_engine.record import validate_record
from bip_engine.service.page_records import CaseloadEntry
from bip_engine.service.scoping import current_assignment, scope_of, visible

M_HEADER = "citizen_id,date,indicator,score\n"


def records(items) -> dict[str, dict]:
    """The records read, by citizen id (problems left out)."""
    return {item.data["id"]: item.data for item in items if isinstance(item, RawRecord)}


def test_the_team_column_is_read_when_there_and_optional(tmp_path) -> None:
    measurements = tmp_path / "m.csv"
    measurements.write_text(M_HEADER + "A,2026-01-10,job_search,3\nB,2026-01-10,job_search,2\n", encoding="utf-8")
    with_team = tmp_path / "c.csv"
    with_team.write_text("citizen_id;caseworker_id;from;team\nA;cw-1;2025-01-01;nord\nB;cw-2;2025-02-01;\n")
    read = records(read_csv_exports(measurements, caseworkers=with_team))
    assert read["A"]["caseworkers"] == [{"id": "cw-1", "from": "2025-01-01", "team": "nord"}]
    assert read["B"]["caseworkers"] == [{"id": "cw-2", "from": "2025-02-01"}]  # an empty cell: no team
    old = tmp_path / "old.csv"
    old.write_text("citizen_id,caseworker_id,from\nA,cw-1,2025-01-01\n", encoding="utf-8")
    assert records(read_csv_exports(measurements, caseworkers=old))["A"]["caseworkers"] == [
        {"id": "cw-1", "from": "2025-01-01"}
    ]
    assert validate_record(read["A"]).caseworkers[0].team == "nord"


def test_the_simulated_exports_name_the_team_and_scoping_follows_them(tmp_path) -> None:
    cohort = list(generate_cohort(300, seed=3))
    paths = write_csv(cohort, tmp_path)
    read = records(read_csv_exports(paths["measurements"], paths["interventions"], paths["caseworkers"]))
    assert {citizen: data["caseworkers"] for citizen, data in read.items()} == {
        record["id"]: record["caseworkers"] for record in cohort
    }
    assert all("team" in entry for record in cohort for entry in record["caseworkers"])
    entries = {citizen: CaseloadEntry(citizen, data) for citizen, data in read.items()}
    today = clock.today()
    now = {
        citizen: max((e for e in data["caseworkers"] if e["from"] <= today.isoformat()), key=lambda e: e["from"])
        for citizen, data in read.items()
        if data["caseworkers"]
    }
    caseworker = now[next(iter(now))]
    mine = set(visible(entries, scope_of("caseworker", caseworker["id"], caseworker["team"], via="oidc")))
    assert mine == {citizen for citizen, entry in now.items() if entry["id"] == caseworker["id"]}
    team = set(visible(entries, scope_of("team_lead", "tl-x", caseworker["team"], via="oidc")))
    assert team == {citizen for citizen, entry in now.items() if entry["team"] == caseworker["team"]}
    assert mine < team < set(entries)
    assert set(visible(entries, scope_of("caseworker", caseworker["id"]))) == set(entries)  # not via the provider


def test_the_caseworker_now_is_the_latest_not_in_the_future() -> None:
    data = {
        "caseworkers": [
            {"id": "cw-1", "from": "2024-01-01"},
            {"id": "cw-2", "from": "2026-03-01", "team": "syd"},
            {"id": "cw-3", "from": "2026-09-01"},
        ]
    }
    assert current_assignment(data, dt.date(2026, 6, 1)) == data["caseworkers"][1]
    assert current_assignment(data, dt.date(2026, 9, 1)) == data["caseworkers"][2]
    assert current_assignment(data, dt.date(2023, 12, 31)) is None
    assert current_assignment({"caseworkers": []}) is None
    scope = scope_of("caseworker", "cw-2", via="oidc")
    assert scope.allows(data, dt.date(2026, 6, 1)) and not scope.allows(data, dt.date(2026, 9, 1))


def test_claims_become_an_identity_by_the_configured_names(tmp_path) -> None:
    from bip_engine.service.oidc import Identity, OidcConfig, SignInError, identity_from_claims

    config = OidcConfig(
        issuer="https://idp.example/realms/jc",
        client_id="bip",
        client_secret_file=tmp_path / "secret",
        redirect_url="https://bip.example/auth/callback",
        user_claim="preferred_username",
        role_claim="realm_access.roles",  # Keycloak's realm roles
        team_claim="team",
        roles={"sagsbehandler": "caseworker", "teamleder": "team_lead"},
    )
    keycloak = {"preferred_username": "anna.h", "realm_access": {"roles": ["offline_access", "sagsbehandler"]}}
    assert identity_from_claims(config, {**keycloak, "team": "Team Nord"}) == Identity(
        "anna.h", "caseworker", "Team Nord"
    )
    both = {**keycloak, "realm_access": {"roles": "sagsbehandler teamleder"}, "team": ["Team Nord", "Team Syd"]}
    assert identity_from_claims(config, both) == Identity("anna.h", "team_lead", "Team Nord")
    for claims, key in (
        ({"realm_access": {"roles": ["sagsbehandler"]}}, "oidc_missing_claim"),
        ({**keycloak, "realm_access": {"roles": ["kantine"]}}, "oidc_unknown_role"),
        ({**keycloak, "realm_access": {"roles": ["teamleder"]}}, "oidc_missing_claim"),  # a team lead needs a team
    ):
        with pytest.raises(SignInError) as refused:
            identity_from_claims(config, claims)
        assert refused.value.key == key
