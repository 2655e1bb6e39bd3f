"""`--keepalive-requests`: a kept-alive connection is closed after N requests, so clients spread over the workers again.

On the real server (gunicorn, uvicorn workers) over TCP, one connection at a time, with
`http.client` (which keeps a connection open until the server says `Connection: close`).
"""

from __future__ import annotations

import http.client

import pytest

pytestmark = [pytest.mark.service, pytest.mark.slow]


def _closing_answers(server, requests: int) -> list[bool]:
    """For each of `requests` GET /healthz on one connection: whether its answer closes the connection."""
    host, port = server.base_url.removeprefix("http://").rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    closing = []
    try:
        for _ in range(requests):
            connection.request("GET", "/healthz")
            answer = connection.getresponse()
            answer.read()
            assert answer.status == 200
            closing.append(answer.will_close)
            if answer.will_close:
                break
    finally:
        connection.close()
    return closing


def test_a_connection_is_closed_by_the_answer_to_its_hundredth_request(bip_server):
    server = bip_server("--engine", "python")
    closing = _closing_answers(server, 150)
    assert closing == [False] * 99 + [True]


def test_the_number_of_requests_a_connection_serves_is_an_option_and_a_setting(bip_server):
    assert _closing_answers(bip_server("--engine", "python", "--keepalive-requests", "3"), 10) == [False, False, True]
    server = bip_server("--engine", "python", env={"BIP_KEEPALIVE_REQUESTS": "1"})
    assert _closing_answers(server, 10) == [True]
