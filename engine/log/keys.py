"""The decision log's secrets, kept outside the log: the pseudonym keys and the page's session key.

Two separate secrets, neither stored in the database, so a copy of the log (a backup, a stolen
file, a database dump) cannot re-identify a citizen or forge a session:

- the pseudonym keys: HMAC-SHA256 keys that turn a citizen id into the pseudonym the log stores.
  Read from the file named by `BIP_PSEUDONYM_KEY_FILE`, else from `BIP_PSEUDONYM_KEY`, else (a
  SQLite log only) from the file beside the database, `<database>.pseudonym-key`, made when
  missing. One key a line (64 hex digits), oldest first; the last is the one new entries use.
  `rotate_pseudonym_key` appends a new one; the older ones stay, so entries written under them
  are still found (a lookup computes the citizen's pseudonym under every key). Each entry records
  the id of the key it used (`key_id`: the first 16 hex digits of a SHA-256 of the key).
- the session key: signs the page's session cookies. `BIP_SESSION_KEY_FILE`, else
  `BIP_SESSION_KEY`, else `<database>.session-key` beside a SQLite log.

A PostgreSQL log has no folder of its own: its keys must be given by a file or the environment.
A key file that anyone may read is refused (it must be private to its owner, like an ssh key).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from .errors import StoreError

PSEUDONYM_KEY_FILE_ENV, PSEUDONYM_KEY_ENV = "BIP_PSEUDONYM_KEY_FILE", "BIP_PSEUDONYM_KEY"
SESSION_KEY_FILE_ENV, SESSION_KEY_ENV = "BIP_SESSION_KEY_FILE", "BIP_SESSION_KEY"
PSEUDONYM_SUFFIX, SESSION_SUFFIX = ".pseudonym-key", ".session-key"


def key_id(key: bytes) -> str:
    """The public id of a key: the first 16 hex digits of a SHA-256 of it (never the key itself)."""
    return hashlib.sha256(b"bip-key-id:" + key).hexdigest()[:16]


def new_key() -> bytes:
    """A fresh 32-byte random key."""
    return secrets.token_bytes(32)


@dataclass(frozen=True)
class PseudonymKeys:
    """The pseudonym keys, oldest first; the last is the one new entries use."""

    keys: tuple[bytes, ...]
    source: str

    @property
    def current_id(self) -> str:
        """The id of the key new entries use."""
        return key_id(self.keys[-1])

    def pseudonym(self, citizen_id: str) -> str:
        """The citizen's pseudonym under the current key."""
        return _hmac(self.keys[-1], citizen_id)

    def all_pseudonyms(self, citizen_id: str) -> list[str]:
        """The citizen's pseudonym under every key (to find entries written before a rotation)."""
        return [_hmac(key, citizen_id) for key in self.keys]


def _hmac(key: bytes, citizen_id: str) -> str:
    return hmac.new(key, citizen_id.encode("utf-8"), hashlib.sha256).hexdigest()


def parse_keys(text: str, source: str) -> tuple[bytes, ...]:
    """The keys written in `text`: one a line, 64 hex digits, `#` comments and blank lines ignored."""
    keys = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            key = bytes.fromhex(line)
        except ValueError:
            key = b""
        if len(key) < 32:
            raise StoreError("bad_key", source=f"{source}:{number}")
        keys.append(key)
    if not keys:
        raise StoreError("bad_key", source=source)
    return tuple(keys)


def read_key_file(path: Path) -> tuple[bytes, ...]:
    """The keys in a key file; refused when the file is missing or anyone but its owner may read it."""
    try:
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise StoreError("key_file_open", path=str(path))
        return parse_keys(path.read_text(encoding="utf-8"), str(path))
    except OSError as error:
        raise StoreError("key_file", path=str(path), reason=error.strerror or str(error)) from None


def write_key_file(path: Path, keys: tuple[bytes, ...]) -> None:
    """Write `keys` (one a line, hex) to `path`, readable by its owner only, replacing it atomically."""
    temporary = path.with_name(path.name + f".tmp{os.getpid()}")
    descriptor = os.open(temporary, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write("# bip decision-log key: one key a line, oldest first; the last is in use. Keep it secret.\n")
        out.writelines(key.hex() + "\n" for key in keys)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, path)


def _configured(file_env: str, value_env: str, default: Path | None, create: bool) -> tuple[tuple[bytes, ...], str]:
    """The keys from the file named by `file_env`, else `value_env`, else the default file (made if `create`)."""
    named = os.environ.get(file_env, "").strip()
    if named:
        return read_key_file(Path(named)), named
    value = os.environ.get(value_env, "").strip()
    if value:
        return parse_keys(value.replace(",", "\n"), value_env), value_env
    if default is None:
        raise StoreError("no_key", file_env=file_env, value_env=value_env)
    if not default.exists() and create:
        # Written whole under another name, then linked into place: a process that starts at the same
        # moment finds either no file or a complete one, never the empty file of an O_EXCL create.
        made = default.with_name(default.name + f".new{os.getpid()}")
        write_key_file(made, (new_key(),))
        try:
            os.link(made, default)
        except FileExistsError:  # another process made it meanwhile: read theirs
            pass
        finally:
            made.unlink(missing_ok=True)
    return read_key_file(default), str(default)


def key_file_for(file_env: str, default: Path | None) -> Path:
    """The key file a rotation writes: the one named by `file_env`, else the default beside the log."""
    named = os.environ.get(file_env, "").strip()
    if named:
        return Path(named)
    value_env = file_env.removesuffix("_FILE")
    if default is None or os.environ.get(value_env, "").strip():  # a key given as a value cannot be added to
        raise StoreError("no_key_file", file_env=file_env)
    return default


def load_pseudonym_keys(default: Path | None, create: bool = True) -> PseudonymKeys:
    """The pseudonym keys as configured (see the module's text)."""
    keys, source = _configured(PSEUDONYM_KEY_FILE_ENV, PSEUDONYM_KEY_ENV, default, create)
    return PseudonymKeys(keys, source)


def load_session_key(default: Path | None, create: bool = True) -> bytes:
    """The session key as configured (the last one, if the file holds several)."""
    keys, _ = _configured(SESSION_KEY_FILE_ENV, SESSION_KEY_ENV, default, create)
    return keys[-1]


def rotate_key_file(path: Path) -> str:
    """Append a new key to the key file at `path` (made if missing); return the new key's id."""
    keys = read_key_file(path) if path.exists() else ()
    key = new_key()
    write_key_file(path, (*keys, key))
    return key_id(key)
