"""The settings of one `bip serve`: plain data, one field per `bip serve` option.

Every option can also be set in the environment as `BIP_` and the option's name in capitals, with
`_` for `-` (`BIP_PORT`, `BIP_WORKERS`, `BIP_LOG_FORMAT`...; docs/operations.md lists them). The
gunicorn master keeps the settings and forks the workers, so they reach the workers in memory,
never through the environment (which would carry the database URL into every worker's).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

OPTION_ALIASES = {
    "rules_dir": "rules",
    "guidance_dirs": "guidance",
    "cors_origin": "cors_origins",
    "release_ref": "release",
}
PATH_FIELDS = ("rules", "caseload", "store_path", "oidc")


@dataclass
class ServiceSettings:
    """Everything the app needs to start; the defaults are those of `bip serve`."""

    rules: Path | None = None
    guidance: list[Path] = field(default_factory=list)
    database: str | None = None
    engine: str | None = None
    max_body: int = 1_000_000
    max_batch_body: int = 100_000_000
    trust_proxy: str | None = None
    cors_origins: list[str] = field(default_factory=list)
    caseload: Path | None = None
    watch: bool = False
    watch_interval: float = 1.0
    release: str | None = None
    store_path: Path | None = None
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 1
    access_log: bool = True
    graceful_timeout: float = 30.0
    """Seconds SIGTERM (or a reload) gives open requests, a long batch included, before they are cut."""
    keepalive: float = 5.0
    """Seconds an idle kept-alive connection stays open."""
    keepalive_requests: int = 100
    """Requests a kept-alive connection serves before its answer closes it (the client connects again)."""
    request_timeout: float = 30.0
    """Seconds a client has to send a request's head, and at most between two parts of its body."""
    max_header_size: int = 65_536
    """Largest request head (request line and header lines together), in bytes."""
    max_headers: int = 100
    """Most header lines in one request."""
    log_level: str = "info"
    log_format: str = "text"
    timezone: str | None = None
    """The zone whose date is "today" (default Europe/Copenhagen; `BIP_TIMEZONE`)."""
    openapi: bool = True
    """Whether /openapi.json is served to anyone (on by default)."""
    oidc: Path | None = None  # the identity provider's settings (`--oidc FILE`, bip_engine.service.oidc)

    def __post_init__(self) -> None:
        for name in PATH_FIELDS:
            value = getattr(self, name)
            if value is not None and not isinstance(value, Path):
                setattr(self, name, Path(value))
        self.guidance = [Path(folder) for folder in self.guidance]
        self.cors_origins = list(self.cors_origins)

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> ServiceSettings:
        """Settings from the `bip serve` options: option names are field names (or their known aliases).

        Options left at None keep the field's default, so a new `bip serve` option needs only its
        `click.option` line and a field of the same name here.
        """
        known = {item.name for item in fields(cls)}
        values: dict[str, Any] = {}
        for name, value in options.items():
            name = OPTION_ALIASES.get(name, name)
            if name not in known:
                raise TypeError(f"bip serve option {name!r} has no ServiceSettings field")
            if value is not None:
                values[name] = list(value) if isinstance(value, tuple) else value
        return cls(**values)


def password_in_url(url: str | None) -> bool:
    """Whether a database URL carries a password (`user:secret@host` or `?password=`).

    `bip serve` refuses such a URL: it would stand on the supervisor's command line (`ps`) or in
    the environment every worker inherits. The password belongs in a libpq passfile (`PGPASSFILE`,
    or `?passfile=` in the URL), which libpq reads itself when it connects."""
    if not url or "://" not in url:
        return False
    from urllib.parse import parse_qs, urlsplit

    parts = urlsplit(url)
    return bool(parts.password) or "password" in parse_qs(parts.query)
