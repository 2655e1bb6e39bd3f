"""The import rules: the contracts in pyproject.toml ([tool.importlinter], run by `lint-imports` in
`make lint`) hold today and break when a forbidden import is planted; and no module of bip_engine
imports itself through a circle of imports.

The contracts are read from pyproject.toml and checked here on the same graph `lint-imports` builds,
so this test and `make lint` cannot disagree about what the rules are.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import grimp
import pytest
from importlinter import api
from importlinter.contracts.forbidden import ForbiddenContract
from importlinter.contracts.layers import LayersContract
from importlinter.contracts.protected import ProtectedContract

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    """bip_engine's import graph with the external packages it imports (each as one module)."""
    return grimp.build_graph("bip_engine", include_external_packages=True, cache_dir=None)


@pytest.fixture(scope="module")
def contracts() -> dict:
    """The contracts of pyproject.toml, by name."""
    configuration = api.read_configuration(str(ROOT / "pyproject.toml"))
    kinds = {kind.type_name: kind for kind in (LayersContract, ProtectedContract, ForbiddenContract)}
    return {
        options["name"]: kinds[options["type"]](
            name=options["name"], session_options=configuration["session_options"], contract_options=options
        )
        for options in configuration["contracts_options"]
    }


def contract_named(contracts: dict, words: str):
    """The one contract whose name contains `words`."""
    (name,) = [name for name in contracts if words in name]
    return contracts[name]


@contextmanager
def planted(graph: grimp.ImportGraph, importer: str, imported: str) -> Iterator[None]:
    """`graph` with one more import, taken out again afterwards."""
    new_module = importer not in graph.modules
    graph.add_import(importer=importer, imported=imported)
    try:
        yield
    finally:
        graph.remove_import(importer=importer, imported=imported)
        if new_module:
            graph.remove_module(importer)


def test_the_layers_must_place_every_module(contracts):
    assert contract_named(contracts, "Layers").exhaustive


def test_every_contract_is_kept(graph, contracts):
    broken = [name for name, contract in contracts.items() if not contract.check(graph, verbose=False).kept]
    assert broken == [], "run `lint-imports` to see the offending imports"


@pytest.mark.parametrize(
    ("contract", "importer", "imported"),
    [
        ("Layers", "bip_engine.expr", "bip_engine.caseload.batch"),  # the core imports a wing
        ("Layers", "bip_engine.caseload.batch", "bip_engine.authoring.docs"),  # a wing imports a higher one
        ("Layers", "bip_engine.service.api", "bip_engine.cli"),
        ("Layers", "bip_engine.newly_added", "bip_engine.errors"),  # a new module placed in no layer
        ("click", "bip_engine.render", "click"),
        ("click", "bip_engine.service.app", "click"),
        ("web framework", "bip_engine.caseload.batch", "starlette"),
        ("web framework", "bip_engine.cli", "uvicorn"),
        ("SQLAlchemy", "bip_engine.authoring.impact", "sqlalchemy"),
        ("SQLAlchemy", "bip_engine.cli", "sqlalchemy"),
        ("SQLAlchemy", "bip_engine.record", "sqlalchemy"),
        ("PostgreSQL driver", "bip_engine.log.store", "psycopg"),
        ("PostgreSQL driver", "bip_engine.caseload.batch", "psycopg"),
    ],
)
def test_a_planted_violation_breaks_the_contract(graph, contracts, contract, importer, imported):
    rule = contract_named(contracts, contract)
    with planted(graph, importer, imported):
        assert not rule.check(graph, verbose=False).kept
    assert rule.check(graph, verbose=False).kept


def import_circles(graph: grimp.ImportGraph) -> list[tuple[str, ...]]:
    """Each import of a bip_engine module that leads back to its importer, as the circle of modules."""
    circles = []
    for importer in sorted(graph.modules):
        if not importer.startswith("bip_engine"):
            continue
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            if imported.startswith("bip_engine") and graph.chain_exists(imported=importer, importer=imported):
                back = graph.find_shortest_chain(importer=imported, imported=importer)
                circles.append((importer, *(back or ())))
    return circles


@pytest.fixture(scope="module")
def runtime_graph() -> grimp.ImportGraph:
    """bip_engine's imports as they run: those made only for type checking are left out."""
    return grimp.build_graph("bip_engine", exclude_type_checking_imports=True, cache_dir=None)


def test_no_module_imports_itself_through_a_circle(runtime_graph):
    assert import_circles(runtime_graph) == []


def test_a_planted_circle_is_found(runtime_graph):
    with planted(runtime_graph, "bip_engine.errors", "bip_engine.check"):
        circles = import_circles(runtime_graph)
    assert ("bip_engine.errors", "bip_engine.check", "bip_engine.errors") in circles
    assert ("bip_engine.errors", "bip_engine.check", "bip_engine.errors") not in import_circles(runtime_graph)
