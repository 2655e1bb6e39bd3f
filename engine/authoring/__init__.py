"""Rulebook authoring for policy staff: validate, analyse, describe, document, Gherkin scenarios, impact."""
