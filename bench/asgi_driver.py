"""Calls an ASGI app in process, one request after another: what bench/instructions.py
counts under callgrind. Run with the app's own interpreter, from the app's directory:

    python asgi_driver.py FACTORY PATH REQUESTS WARMUP [APP_DIR]

FACTORY is "module:callable" returning the app; PATH may hold "{n}", an item id: 1 to
WARMUP during the warm-up, then the same ids again, so that what the warm-up cached is
read from the cache. The app's lifespan runs first and last, as under uvicorn. Every answer
must be a 200: a count of error responses would measure the wrong thing.
"""

from __future__ import annotations

import asyncio
import importlib
import sys
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[MutableMapping[str, Any], Receive, Send], Awaitable[None]]


async def drive(app: App, path: str, requests: int, warmup: int) -> None:
    to_app: asyncio.Queue[Message] = asyncio.Queue()
    from_app: asyncio.Queue[Message] = asyncio.Queue()
    lifespan = asyncio.create_task(
        app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, to_app.get, from_app.put)
    )
    await to_app.put({"type": "lifespan.startup"})
    started = await from_app.get()
    assert started["type"] == "lifespan.startup.complete", started
    statuses: set[int] = set()
    for n in range(warmup + requests):
        statuses.add(await request(app, path.replace("{n}", str(n % max(warmup, 1) + 1))))
    await to_app.put({"type": "lifespan.shutdown"})
    await lifespan
    assert statuses <= {200}, f"answers other than 200: {sorted(statuses)}"


async def request(app: App, target: str) -> int:
    path, _, query = target.partition("?")
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "",
        "query_string": query.encode(), "headers": [(b"host", b"127.0.0.1")],
        "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000), "state": {},
    }  # fmt: skip
    status = 0

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


def main() -> None:
    factory, path, requests, warmup, *app_dir = sys.argv[1:]
    sys.path.insert(0, app_dir[0] if app_dir else ".")
    module, _, name = factory.partition(":")
    app = getattr(importlib.import_module(module), name)()
    import uvloop  # the loop uvicorn runs the services on

    uvloop.run(drive(app, path, int(requests), int(warmup)))


if __name__ == "__main__":
    main()
