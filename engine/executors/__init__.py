"""Executors: two ways to run a compiled rulebook over one record's facts.

Both take the same intermediate form and give the same `Outcome`: `python`, the default, is a small
evaluator in pure Python that also produces the explanation trace; `durable` runs it on the
durable_rules Rete engine, the reference executor (the `[durable]` extra, Python < 3.13), held equal
to `python` by the differential test. `make_executor` picks one by name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from .outcome import ExecutorClosed, Outcome

if TYPE_CHECKING:  # annotations only: a cold check runs the rules without loading the pydantic models
    from collections.abc import Mapping

    from ..rulebook import Rulebook

__all__ = [
    "Executor",
    "ExecutorClosed",
    "ExecutorUnavailable",
    "Outcome",
    "default_executor_name",
    "durable_available",
    "make_executor",
]


class Executor(Protocol):
    """What every executor offers: its name and a run over one record's facts."""

    name: str

    def run(self, facts: Mapping[str, Any]) -> Outcome:
        """The rules' conclusions for `facts`."""
        ...


class ExecutorUnavailable(RuntimeError):
    """The requested executor cannot run here (durable_rules cannot be imported)."""


def durable_available() -> bool:
    """Whether durable_rules can be imported on this Python."""
    try:
        import durable.engine  # noqa: F401
    except Exception:  # noqa: BLE001 - ImportError, or the undefined-symbol failure of its C module on 3.13
        return False
    return True


def default_executor_name() -> str:
    """The executor used when none is named: always `python`; `durable` is the reference, asked for by name."""
    return "python"


def make_executor(rulebook: Rulebook, name: str | None = None) -> Executor:
    """An executor for `rulebook`: `durable`, `python`, or None for the default."""
    name = name or default_executor_name()
    if name == "python":
        from .python_exec import PythonExecutor

        return PythonExecutor(rulebook)
    if name == "durable":
        if not durable_available():
            raise ExecutorUnavailable(
                "durable_rules cannot be loaded here: install bip-engine[durable] (Python 3.11 or 3.12), or use --engine python"
            )
        from .durable_exec import DurableExecutor

        return DurableExecutor(rulebook)
    raise ValueError(f"unknown executor '{name}' (choose durable or python)")
