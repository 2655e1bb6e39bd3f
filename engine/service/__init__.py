"""The service wing: `bip serve` (HTTP API, access control), the decision log and the caseworker's page.

Nothing in the engine's core imports this package; it may use a web framework and a database.
"""
