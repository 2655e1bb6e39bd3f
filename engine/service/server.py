"""Running the service: `serve(settings, host, port, workers)` is `bip serve`.

One worker: uvicorn serves the application (`bip_engine.service.app.create_app`) in this process.
More: this process becomes the supervisor of `bip_engine.service.workers`, which hands the connections
to the worker processes.
"""

from __future__ import annotations

from typing import Any

from .settings import ServiceSettings


def serve(
    settings: ServiceSettings, host: str = "127.0.0.1", port: int = 8080, workers: int = 1, access_log: bool = True
) -> None:
    """Run the service under uvicorn until it is stopped (SIGINT or SIGTERM)."""
    import uvicorn

    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "access_log": access_log,
        "server_header": False,
        "timeout_graceful_shutdown": 10,
    }
    if workers > 1:  # our own supervisor: SIGHUP reloads every worker in place (see bip_engine.service.workers)
        from .workers import run_workers

        del options["host"], options["port"]
        status = run_workers(settings, host, port, workers, options)
        if status:
            raise SystemExit(status)
    else:
        from .app import create_app  # only here: the supervisor of several workers never loads the web app

        uvicorn.run(create_app(settings), **options)
