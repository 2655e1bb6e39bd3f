"""Runs every Danish scenario in features/ against the bundled rulebook.

The step vocabulary lives in `bip_engine.authoring.gherkin_steps`. Importing it here makes the steps visible to
this module; loading it as a plugin (``-p bip_engine.authoring.gherkin_steps`` or ``pytest_plugins`` in
conftest.py) adds the ``--bip-rules``, ``--bip-engine`` and ``--bip-coverage`` options and the
Danish message for an unknown step.
"""

from pytest_bdd import scenarios

from bip_engine.authoring.gherkin_steps import *  # noqa: F403  (step definitions and fixtures)

scenarios(".")
