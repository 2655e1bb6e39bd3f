"""A real OpenID Connect provider for the sign-in tests: npm's `oidc-provider`, run by node.

`start_provider(folder, clients, users)` writes the provider's settings (its clients, its users and
their claims, a signing key made here) to a JSON file, starts `node tests/node/provider.mjs` on a
free port and waits until it answers its discovery document. The npm packages are in
tests/node/node_modules, installed by `.ci/run` with `npm ci` (or here, when node and npm are there
but the packages are not yet). Without node the tests are skipped locally and fail when CI is set.

`drive_sign_in` plays the browser's part without a browser: it follows the redirects from bip to the
provider, fills in the provider's login form (oidc-provider's development interaction: the login
name is the user's id, any password) and stops at the redirect back to bip's callback.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import httpx
import pytest
from joserfc.jwk import RSAKey

from tests.service_server import free_port

NODE_FOLDER = Path(__file__).resolve().parent / "node"
PACKAGE = NODE_FOLDER / "node_modules" / "oidc-provider" / "package.json"


def need_provider() -> None:
    """Skip (or under CI fail) when node or the npm packages cannot be had; install them if npm can."""
    problem = ""
    if shutil.which("node") is None:
        problem = "node is not installed"
    elif not PACKAGE.exists():
        if shutil.which("npm") is None:
            problem = "npm is not installed and tests/node/node_modules is missing"
        else:
            done = subprocess.run(
                ["npm", "ci", "--no-audit", "--no-fund"], cwd=NODE_FOLDER, capture_output=True, text=True, timeout=600
            )
            if done.returncode != 0 or not PACKAGE.exists():
                problem = f"npm ci in tests/node failed: {done.stderr[-500:]}"
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"the sign-in tests need the OpenID provider: {problem} (CI is set)", pytrace=False)
        pytest.skip(f"the sign-in tests need the OpenID provider: {problem}")


@dataclass
class RunningProvider:
    """One `oidc-provider` process."""

    issuer: str
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        """What the provider printed so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        """Stop the provider."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def start_provider(
    folder: Path, clients: list[dict], users: dict[str, dict], port: int | None = None, id_token_seconds: int = 3600
) -> RunningProvider:
    """Start the provider with `clients` and `users` (claims by login name) and wait until it answers."""
    need_provider()
    folder.mkdir(parents=True, exist_ok=True)
    key = RSAKey.generate_key(2048, parameters={"use": "sig", "alg": "RS256", "kid": "test-key"}, private=True)
    config = {
        "clients": clients,
        "users": users,
        "jwks": {"keys": [key.as_dict(private=True)]},
        "idTokenSeconds": id_token_seconds,
    }
    settings = folder / "provider.json"
    settings.write_text(json.dumps(config), encoding="utf-8")
    port = port or free_port()
    log_path = folder / "provider.log"
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(
            ["node", str(NODE_FOLDER / "provider.mjs"), str(settings), str(port)],
            cwd=NODE_FOLDER,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    provider = RunningProvider(f"http://127.0.0.1:{port}", process, log_path)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the OpenID provider exited with {process.returncode}:\n{provider.log()}")
        try:
            if httpx.get(f"{provider.issuer}/.well-known/openid-configuration", timeout=1).status_code == 200:
                return provider
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    provider.stop()
    raise RuntimeError(f"the OpenID provider did not answer within 30 s:\n{provider.log()}")


def drive_sign_in(client: httpx.Client, start_url: str, login: str, stop_at: str) -> httpx.Response:
    """Follow `start_url` through the provider's login form as `login`; the response whose redirect goes to `stop_at`.

    `client` keeps the cookies of both sides, as a browser does. The returned response is the
    provider's redirect (its `Location` starts with `stop_at`), not yet followed.
    """
    response = client.get(start_url)
    for _ in range(20):
        if response.is_redirect:
            target = urljoin(str(response.url), response.headers["location"])
            if target.startswith(stop_at):
                return response
            response = client.get(target)
            continue
        form = re.search(r'<form[^>]*action="([^"]+)"', response.text)
        if response.status_code != 200 or form is None:
            raise AssertionError(f"the provider answered {response.status_code}: {response.text[:500]}")
        fields = dict(re.findall(r'<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"', response.text))
        if 'name="login"' in response.text:
            fields.update(login=login, password="any")
        response = client.post(urljoin(str(response.url), form.group(1)), data=fields)
    raise AssertionError("the sign-in did not come back from the provider")
