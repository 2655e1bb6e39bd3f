"""What the service's request handlers use, made once by `create_app` and read through one typed accessor.

`services(app)` gives the `Services` of a running application, so every use of the checker, the
decision log, the writer, the metrics, the reloader, the token cache or the settings is checked by
mypy (Starlette's own `app.state` holds untyped attributes).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from ..check import Checker
    from ..log.store import Store
    from .metrics import Metrics
    from .oidc import OidcConfig, Provider
    from .page_records import CaseloadIndex
    from .reload import Reloader
    from .settings import ServiceSettings
    from .token_cache import TokenCache
    from .writer import DecisionWriter


class Stopping:
    """Whether the worker was told to stop, and when (set from its signal handler: one assignment)."""

    def __init__(self) -> None:
        self.since: float | None = None

    def set(self) -> None:
        """The worker is told to stop now (the first time counts)."""
        if self.since is None:
            self.since = time.monotonic()

    def for_longer_than(self, seconds: float) -> bool:
        """Whether the worker was told to stop `seconds` ago or more."""
        return self.since is not None and time.monotonic() - self.since >= seconds


@dataclass(frozen=True)
class Services:
    """The service's parts: settings, the checker (reloaded in place), the decision log and its writer, and more."""

    settings: ServiceSettings
    checker: Checker
    store: Store
    writer: DecisionWriter
    metrics: Metrics
    reloader: Reloader
    token_cache: TokenCache
    caseload: CaseloadIndex  # the caseworker's page's list of citizens (`--caseload`)
    oidc: tuple[OidcConfig, Provider] | None = None  # sign-in through the identity provider (`--oidc`)
    stopping: Stopping = field(default_factory=lambda: Stopping())
    """Whether and when the worker was told to stop (SIGTERM): a long answer (the batch stream) ends within the grace."""


def services(app: Starlette) -> Services:
    """The `Services` of an application made by `create_app` (a Starlette or FastAPI app, or a scope's `app`)."""
    found = app.state.services
    if not isinstance(found, Services):
        raise TypeError(f"the application holds no Services: {found!r}")
    return found
