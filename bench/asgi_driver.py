"""Calls an ASGI app in process, one request after another: what bench/instructions.py
counts under callgrind. Run with the app's own interpreter, from the app's directory:

    python asgi_driver.py FACTORY REQUEST REQUESTS WARMUP [APP_DIR]
    python asgi_driver.py FACTORY member [APP_DIR]

FACTORY is "module:callable" returning the app. REQUEST is a path, for a GET, or "POST
path", for a create: the body is an item with a name of its own for every request and
every run. A GET path may hold "{n}", an item id: 1 to WARMUP during the warm-up, then the
same ids again, so that what the warm-up cached is read from the cache. Every request
carries the Authorization header in BENCH_AUTHORIZATION, if set, as under wrk. The app's
lifespan runs first and last, as under uvicorn. Every answer must be a 2xx: a count of
error responses would measure the wrong thing.

`member` signs a new member up and logs them in, and prints the Authorization header
that carries their token (nothing where the app has no accounts): run it once, outside
callgrind, and pass what it prints to the counted runs. (Inside, the password hashing
in a worker thread made the counts wander by a few hundred thousand per request.)
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import secrets
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlencode

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[MutableMapping[str, Any], Receive, Send], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]
JSON = (b"content-type", b"application/json")


@asynccontextmanager
async def lifespan(app: App) -> AsyncIterator[None]:
    to_app: asyncio.Queue[Message] = asyncio.Queue()
    from_app: asyncio.Queue[Message] = asyncio.Queue()
    running = asyncio.create_task(
        app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, to_app.get, from_app.put)
    )
    await to_app.put({"type": "lifespan.startup"})
    started = await from_app.get()
    assert started["type"] == "lifespan.startup.complete", started
    yield
    await to_app.put({"type": "lifespan.shutdown"})
    await running


async def drive(app: App, target: str, requests: int, warmup: int) -> None:
    async with lifespan(app):
        await requests_in_turn(app, target, requests, warmup)


async def requests_in_turn(app: App, target: str, requests: int, warmup: int) -> None:
    method, _, path = target.rpartition(" ")
    authorization = os.environ.get("BENCH_AUTHORIZATION")
    headers = [(b"authorization", authorization.encode())] if authorization else []
    # The same length in every run, so that runs differ only in how many requests they make.
    run = secrets.token_hex(4)
    statuses: set[int] = set()
    for n in range(warmup + requests):
        if method == "POST":
            body = json.dumps({"name": f"bench-{run}-{n:06d}", "quantity": 1}).encode()
            status, _ = await request(app, "POST", path, [*headers, JSON], body)
        else:
            item_path = path.replace("{n}", str(n % max(warmup, 1) + 1))
            status, _ = await request(app, "GET", item_path, headers)
        statuses.add(status)
    assert all(200 <= s < 300 for s in statuses), f"answers other than 2xx: {sorted(statuses)}"


async def member(app: App) -> None:
    """Print the Authorization header of a new member, where the app has accounts."""
    async with lifespan(app):
        email = f"bench-{secrets.token_hex(4)}@example.com"
        password = "a long enough passphrase"
        signup = json.dumps({"email": email, "password": password}).encode()
        status, _ = await request(app, "POST", "/api/v1/auth/signup", [JSON], signup)
        if status == 404:
            return
        assert status == 201, f"signup answered {status}"
        form = urlencode({"username": email, "password": password}).encode()
        form_type = (b"content-type", b"application/x-www-form-urlencoded")
        status, body = await request(app, "POST", "/api/v1/auth/token", [form_type], form)
        assert status == 200, f"login answered {status}"
        print(f"Bearer {json.loads(body)['access_token']}")


async def request(
    app: App, method: str, target: str, headers: Headers, body: bytes = b""
) -> tuple[int, bytes]:
    path, _, query = target.partition("?")
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "",
        "query_string": query.encode(), "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000), "state": {},
        "headers": [(b"host", b"127.0.0.1"), (b"content-length", b"%d" % len(body)), *headers],
    }  # fmt: skip
    status = 0
    answer = bytearray()

    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            answer.extend(message.get("body", b""))

    await app(scope, receive, send)
    return status, bytes(answer)


def main() -> None:
    factory, target, *rest = sys.argv[1:]
    counts, app_dir = (rest[:2], rest[2:]) if target != "member" else ([], rest)
    sys.path.insert(0, app_dir[0] if app_dir else ".")
    module, _, name = factory.partition(":")
    app = getattr(importlib.import_module(module), name)()
    import uvloop  # the loop uvicorn runs the services on

    if target == "member":
        uvloop.run(member(app))
    else:
        requests, warmup = map(int, counts)
        uvloop.run(drive(app, target, requests, warmup))


if __name__ == "__main__":
    main()
