"""The service wing: `bip serve` (HTTP API, access control, the writer that groups the log's commits) and the
caseworker's page. The decision log it serves is the log wing, `bip_engine.log`.

Nothing in the engine's core imports this package; it may use a web framework.
"""
