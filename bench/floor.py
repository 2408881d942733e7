"""The floor: the least Python can do to answer the generated service's item requests.

Raw ASGI on an asyncpg pool: the same queries as the generated service (one for an item,
one with a window count for a page, an INSERT ... RETURNING for a create), the same JSON
fields, and nothing else: no routing library, validation, middleware, ORM, sessions or
authentication. Served by uvicorn as the generated `app/serve.py` runs it:

    DATABASE_URL=postgresql://... uvicorn --factory floor:create_app --app-dir bench
"""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs

import asyncpg

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

COLUMNS = "id, name, description, quantity, owner_id, created_at, updated_at"
SORTABLE = {"id", "name", "quantity", "created_at", "updated_at"}
GET_ONE = f"SELECT {COLUMNS} FROM items WHERE id = $1 AND deleted_at IS NULL"
CREATE = f"INSERT INTO items (name, description, quantity) VALUES ($1, $2, $3) RETURNING {COLUMNS}"


def _json(record: asyncpg.Record) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in record.items()}


def _order_by(sort: str) -> str:
    field = sort.removeprefix("-")
    if field not in SORTABLE:
        field = "id"
    return f"{field} {'DESC' if sort.startswith('-') else 'ASC'}, id"


def create_app() -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    dsn = os.environ["DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://")
    state: dict[str, asyncpg.Pool] = {}

    async def respond(send: Send, status: int, body: Any) -> None:
        payload = json.dumps(body).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", b"%d" % len(payload)),
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})

    async def lifespan(receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                # A pool of the generated service's size. Without `reset`, asyncpg would
                # send `RESET ALL` and the like on every release: a second round trip per
                # request that the services' pools do not make (their reads change no
                # session state, and neither do the floor's queries).
                state["pool"] = await asyncpg.create_pool(
                    dsn, min_size=20, max_size=20, reset=_keep_session
                )
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                # Connections a client dropped mid-request are not waited for.
                state["pool"].terminate()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await lifespan(receive, send)
            return
        pool, path, method = state["pool"], scope["path"], scope["method"]
        if path == "/health/live":
            await respond(send, 200, {"status": "ok"})
        elif path == "/api/v1/items" and method == "GET":
            query = parse_qs(scope["query_string"].decode())
            limit = min(int(query.get("limit", ["20"])[0]), 100)
            offset = int(query.get("offset", ["0"])[0])
            order = _order_by(query.get("sort", ["id"])[0])
            rows = await pool.fetch(
                f"SELECT {COLUMNS}, count(*) OVER () AS total FROM items "
                f"WHERE deleted_at IS NULL ORDER BY {order} LIMIT $1 OFFSET $2",
                limit,
                offset,
            )
            total = rows[0]["total"] if rows else 0
            items = [{k: v for k, v in _json(r).items() if k != "total"} for r in rows]
            await respond(
                send, 200, {"items": items, "total": total, "limit": limit, "offset": offset}
            )
        elif path == "/api/v1/items" and method == "POST":
            body = b""
            while True:
                message = await receive()
                body += message.get("body", b"")
                if not message.get("more_body"):
                    break
            data = json.loads(body)
            row = await pool.fetchrow(
                CREATE, data["name"], data.get("description"), data.get("quantity", 0)
            )
            await respond(send, 201, _json(row))
        elif path.startswith("/api/v1/items/") and method == "GET":
            row = await pool.fetchrow(GET_ONE, int(path.rsplit("/", 1)[1]))
            if row is None:
                await respond(send, 404, {"detail": "not found"})
            else:
                await respond(send, 200, _json(row))
        else:
            await respond(send, 404, {"detail": "not found"})

    return app


async def _keep_session(_: asyncpg.Connection) -> None:
    """Nothing to undo: the floor's queries leave no session state behind."""
