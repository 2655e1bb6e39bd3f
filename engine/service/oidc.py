"""Sign-in through the municipality's OpenID Connect provider (`bip serve --oidc FILE`).

The authorization code flow with PKCE, built from Authlib's parts: the authorization request
(`prepare_grant_uri`), the PKCE challenge (`create_s256_code_challenge`) and the token request
(`prepare_token_request`) are Authlib's; the ID token is checked with joserfc, Authlib's JOSE
library (signature against the provider's published keys, issuer, audience, nonce, expiry).

1. `start` makes a fresh state, nonce and PKCE verifier and the provider's authorization URL. The
   three are kept in a short-lived signed cookie (`PENDING_COOKIE`, SameSite=Lax so that it comes
   back with the provider's redirect), which binds the sign-in to this browser.
2. `finish` takes the provider's redirect: the state must be the cookie's, the code is exchanged
   (with the verifier and the client secret) for tokens, the ID token is validated
   (`validate_id_token`), the provider's userinfo is merged in when it has an endpoint, and the
   claims become an `Identity` (`identity_from_claims`): the caseworker id, the bip role mapped from
   the role claim's values, and the team.

The provider's metadata comes from its discovery document (`/.well-known/openid-configuration`)
and its keys from `jwks_uri`; both are fetched on first use and kept (the keys are fetched again
once when a token names a key that is not known, as after the provider rotates its keys).

Every failure is a `SignInError` carrying a message key (`page.oidc_*`), which the page shows in
Danish or English: the provider cannot be reached, the state does not match, the token is not
valid, a claim is missing, no role value maps to a bip role.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import httpx
import yaml
from authlib.common.security import generate_token
from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.errors import ExpiredTokenError, InvalidClaimError, JoseError, MissingClaimError
from joserfc.jwk import KeySet
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import KeyedError

PENDING_COOKIE = "bip_oidc"
PENDING_SECONDS = 10 * 60
ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"]
BipRole = Literal["caseworker", "team_lead", "policy", "auditor", "system"]
ROLE_PREFERENCE: tuple[str, ...] = ("team_lead", "caseworker", "auditor", "policy", "system")
"""When the role claim maps to several bip roles, the first of these is taken."""


class OidcConfig(BaseModel):
    """The provider settings (a YAML file named by `bip serve --oidc`; docs/guide/sign-in.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    issuer: str = Field(pattern=r"^https?://\S+$")
    client_id: str = Field(min_length=1)
    client_secret_file: Path
    redirect_url: str = Field(pattern=r"^https?://\S+/auth/callback$")
    scopes: list[str] = Field(default_factory=lambda: ["openid", "profile"])
    user_claim: str = "preferred_username"
    team_claim: str | None = None
    role_claim: str = "roles"
    roles: dict[str, BipRole] = Field(min_length=1)
    post_logout_url: str | None = None
    timeout_seconds: float = Field(default=10.0, gt=0)
    leeway_seconds: int = Field(default=60, ge=0, le=600)

    def client_secret(self) -> str:
        """The client secret, read from its file (surrounding white space left out)."""
        return self.client_secret_file.read_text(encoding="utf-8").strip()


def load_config(path: Path | str) -> OidcConfig:
    """The provider settings in the YAML file at `path`; a `KeyedError` naming the file and field when unusable."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise KeyedError("cli.oidc_config", path=str(path), field="-", reason=str(error).splitlines()[0]) from None
    try:
        config = OidcConfig.model_validate(data if data is not None else {})
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "-"
        raise KeyedError("cli.oidc_config", path=str(path), field=field, reason=first["msg"]) from None
    secret = config.client_secret_file
    if not secret.is_absolute():
        config = config.model_copy(update={"client_secret_file": path.parent / secret})
    try:
        if not config.client_secret():
            raise OSError("empty")
    except (OSError, UnicodeDecodeError) as error:
        raise KeyedError(
            "cli.oidc_config",
            path=str(path),
            field="client_secret_file",
            reason=f"{config.client_secret_file}: {error}",
        ) from None
    return config


class SignInError(Exception):
    """A sign-in that cannot go on; `key` is the `page.` message that says why (with `values`)."""

    def __init__(self, key: str, status: int = 400, **values: Any):
        super().__init__(key)
        self.key, self.status, self.values = key, status, values


@dataclass(frozen=True)
class Identity:
    """Who signed in: the caseworker id, the bip role and the team (empty when the provider gives none)."""

    user: str
    role: str
    team: str = ""


@dataclass(frozen=True)
class Pending:
    """A sign-in under way: what the provider's redirect must match, kept in the browser's cookie."""

    state: str
    nonce: str
    verifier: str
    expires: int


# --- The provider's metadata and keys ----------------------------------------------------------


class Provider:
    """The provider's discovery document and keys, fetched on first use and kept."""

    def __init__(self, config: OidcConfig):
        self.config = config
        self._lock = threading.Lock()
        self._metadata: dict[str, Any] | None = None
        self._keys: KeySet | None = None

    def _get(self, url: str) -> dict[str, Any]:
        try:
            response = httpx.get(url, timeout=self.config.timeout_seconds, follow_redirects=False)
            response.raise_for_status()
            data = response.json()
        except (httpx.HTTPError, ValueError):
            raise SignInError("oidc_unreachable", 502) from None
        if not isinstance(data, dict):
            raise SignInError("oidc_unreachable", 502)
        return data

    def metadata(self) -> dict[str, Any]:
        """The discovery document; its issuer must be the configured one."""
        with self._lock:
            if self._metadata is None:
                data = self._get(self.config.issuer.rstrip("/") + "/.well-known/openid-configuration")
                needed = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")
                if data.get("issuer") != self.config.issuer or any(not isinstance(data.get(k), str) for k in needed):
                    raise SignInError("oidc_unreachable", 502)
                self._metadata = data
            return self._metadata

    def keys(self, refresh: bool = False) -> KeySet:
        """The provider's signing keys (fetched again when `refresh`)."""
        jwks_uri = self.metadata()["jwks_uri"]
        with self._lock:
            if self._keys is None or refresh:
                try:
                    self._keys = KeySet.import_key_set(self._get(jwks_uri))  # type: ignore[arg-type]
                except (JoseError, ValueError, TypeError, KeyError):
                    raise SignInError("oidc_unreachable", 502) from None
            return self._keys


# --- The flow ---------------------------------------------------------------------------------


def start(config: OidcConfig, provider: Provider) -> tuple[str, Pending]:
    """The provider's authorization URL for a new sign-in, and what the browser must keep for it."""
    pending = Pending(generate_token(43), generate_token(32), generate_token(64), int(time.time()) + PENDING_SECONDS)
    url = prepare_grant_uri(
        provider.metadata()["authorization_endpoint"],
        config.client_id,
        "code",
        redirect_uri=config.redirect_url,
        scope=" ".join(config.scopes),
        state=pending.state,
        nonce=pending.nonce,
        code_challenge=create_s256_code_challenge(pending.verifier),
        code_challenge_method="S256",
    )
    return url, pending


def finish(config: OidcConfig, provider: Provider, pending: Pending | None, params: dict[str, str]) -> Identity:
    """The identity behind the provider's redirect (`params`: its query), or a `SignInError`."""
    if pending is None or not params.get("state") or not hmac.compare_digest(params["state"], pending.state):
        raise SignInError("oidc_bad_state")
    if params.get("error"):
        raise SignInError("oidc_provider_refused", 403, reason=params["error"][:100])
    metadata = provider.metadata()
    if "iss" in params and params["iss"] != metadata["issuer"]:  # RFC 9207: the answer is from our provider
        raise SignInError("oidc_bad_state")
    if not params.get("code"):
        raise SignInError("oidc_bad_state")
    tokens = _exchange(config, metadata, params["code"], pending.verifier)
    id_token = tokens.get("id_token")
    if not isinstance(id_token, str):
        raise SignInError("oidc_token_invalid")
    claims = validate_id_token(
        id_token,
        provider,
        issuer=metadata["issuer"],
        client_id=config.client_id,
        nonce=pending.nonce,
        leeway=config.leeway_seconds,
    )
    access_token = tokens.get("access_token")
    if metadata.get("userinfo_endpoint") and isinstance(access_token, str):
        claims = {**_userinfo(config, metadata["userinfo_endpoint"], access_token, claims["sub"]), **claims}
    return identity_from_claims(config, claims)


def _exchange(config: OidcConfig, metadata: dict[str, Any], code: str, verifier: str) -> dict[str, Any]:
    body = prepare_token_request(
        "authorization_code", code=code, redirect_uri=config.redirect_url, code_verifier=verifier
    )
    try:
        response = httpx.post(
            metadata["token_endpoint"],
            content=body,
            headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
            auth=(config.client_id, config.client_secret()),
            timeout=config.timeout_seconds,
        )
    except httpx.HTTPError:
        raise SignInError("oidc_unreachable", 502) from None
    if response.status_code != 200:
        raise SignInError("oidc_code_refused", 403)
    try:
        data = response.json()
    except ValueError:
        raise SignInError("oidc_unreachable", 502) from None
    return data if isinstance(data, dict) else {}


def _userinfo(config: OidcConfig, url: str, access_token: str, subject: str) -> dict[str, Any]:
    try:
        response = httpx.get(url, headers={"Authorization": f"Bearer {access_token}"}, timeout=config.timeout_seconds)
        data = response.json() if response.status_code == 200 else {}
    except (httpx.HTTPError, ValueError):
        raise SignInError("oidc_unreachable", 502) from None
    if not isinstance(data, dict) or data.get("sub") != subject:  # OIDC Core 5.3.2: the same subject
        return {}
    return data


def validate_id_token(
    token: str,
    provider: Provider | KeySet,
    *,
    issuer: str,
    client_id: str,
    nonce: str,
    now: int | None = None,
    leeway: int = 60,
) -> dict[str, Any]:
    """The ID token's claims once its signature, issuer, audience, nonce and expiry are checked.

    `provider` is the `Provider` (its keys, fetched again once for an unknown key id) or a key set.
    Raises `SignInError` with `oidc_token_expired`, `oidc_wrong_audience` or `oidc_token_invalid`.
    """
    try:
        decoded = _decode(token, provider)
    except JoseError:
        raise SignInError("oidc_token_invalid", 403) from None
    registry = jwt.JWTClaimsRegistry(
        now=now,
        leeway=leeway,
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "value": client_id},
        sub={"essential": True},
        exp={"essential": True},
        iat={"essential": True},
        nonce={"essential": True, "value": nonce},
    )
    claims = dict(decoded.claims)
    try:
        registry.validate(claims)
    except ExpiredTokenError:
        raise SignInError("oidc_token_expired", 403) from None
    except (InvalidClaimError, MissingClaimError) as error:
        key = "oidc_wrong_audience" if getattr(error, "claim", "") == "aud" else "oidc_token_invalid"
        raise SignInError(key, 403) from None
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != client_id:  # OIDC Core 3.1.3.7, points 4 and 5
        raise SignInError("oidc_wrong_audience", 403)
    return claims


def _decode(token: str, provider: Provider | KeySet) -> jwt.Token:
    if isinstance(provider, KeySet):
        return jwt.decode(token, provider, algorithms=ALGORITHMS)
    try:
        return jwt.decode(token, provider.keys(), algorithms=ALGORITHMS)
    except JoseError:  # perhaps a key the provider added since: fetch its keys once more
        return jwt.decode(token, provider.keys(refresh=True), algorithms=ALGORITHMS)


def claim(claims: dict[str, Any], name: str) -> Any:
    """A claim by name; a dotted name reaches into objects (Keycloak's `realm_access.roles`)."""
    if name in claims:
        return claims[name]
    value: Any = claims
    for part in name.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _values(value: Any, split: bool = False) -> list[str]:
    """A claim's values: a list's strings, or one string (split at spaces when `split`, as role lists may be)."""
    if isinstance(value, str):
        return value.split() if split else ([value.strip()] if value.strip() else [])
    if isinstance(value, list):
        return [str(item).strip() for item in value if isinstance(item, str | int) and str(item).strip()]
    return []


def identity_from_claims(config: OidcConfig, claims: dict[str, Any]) -> Identity:
    """The caseworker id, bip role and team in a signed-in user's claims, by the configured claim names."""
    users = _values(claim(claims, config.user_claim))
    if not users:
        raise SignInError("oidc_missing_claim", 403, claim=config.user_claim)
    values = _values(claim(claims, config.role_claim), split=True)
    mapped = {config.roles[value] for value in values if value in config.roles}
    if not mapped:
        raise SignInError("oidc_unknown_role", 403, claim=config.role_claim, values=", ".join(values) or "-")
    role = next(item for item in ROLE_PREFERENCE if item in mapped)
    teams = _values(claim(claims, config.team_claim)) if config.team_claim else []
    if role == "team_lead" and not teams:
        raise SignInError("oidc_missing_claim", 403, claim=config.team_claim or "team_claim")
    return Identity(user=users[0][:100], role=role, team=teams[0][:100] if teams else "")


def logout_url(config: OidcConfig, provider: Provider, fallback: str) -> str:
    """Where signing out sends the browser: the provider's end-session endpoint when it has one."""
    try:
        endpoint = provider.metadata().get("end_session_endpoint")
    except SignInError:
        return fallback
    if not isinstance(endpoint, str):
        return fallback
    back = config.post_logout_url or fallback
    return add_params_to_uri(endpoint, [("client_id", config.client_id), ("post_logout_redirect_uri", back)])


# --- The pending sign-in's cookie --------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def encode_pending(pending: Pending, key: bytes) -> str:
    """The cookie value: the pending sign-in as JSON, base64url, and its HMAC-SHA256 signature."""
    body = _b64(json.dumps(asdict(pending), separators=(",", ":")).encode())
    return f"{body}.{_b64(hmac.new(key, b'oidc.' + body.encode(), hashlib.sha256).digest())}"


def decode_pending(value: str | None, key: bytes) -> Pending | None:
    """The pending sign-in in a cookie value, or None when missing, forged or expired."""
    if not value or value.count(".") != 1 or len(value) > 1024:
        return None
    body, signature = value.split(".")
    expected = _b64(hmac.new(key, b"oidc." + body.encode(), hashlib.sha256).digest())
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        pending = Pending(str(data["state"]), str(data["nonce"]), str(data["verifier"]), int(data["expires"]))
    except (ValueError, KeyError, TypeError):
        return None
    return pending if pending.expires >= time.time() else None
