"""HEAD, OPTIONS and 405 for every path, from one route placed after all the others.

A router tries its routes in order and stops at the first full match, so a request that
reaches this route, the last one, matched no other one for its method: GET, POST and the
rest never get here and pay nothing for it. For a path some route serves, it answers
- HEAD, where the path has a GET: the GET, run as it is, with the body left out;
- OPTIONS: 204 with `Allow`, every method of every route on the path (a CORS preflight
  never gets here: the CORS middleware answers it first);
- any other method: 405 in the error schema with that same `Allow`, where Starlette would
  list only the methods of the first route that matched the path.
"""

from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import BaseRoute, Match
from starlette.types import Message, Receive, Scope, Send

# The order `Allow` lists them in.
_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
_PROBED = ("GET", "POST", "PUT", "PATCH", "DELETE")


class MethodFallback(BaseRoute):
    def __init__(self, routes: list[BaseRoute]) -> None:
        # The router's own list, so routes added later are seen too.
        self.routes = routes

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http" or self._serves(scope, scope["method"]):
            return Match.NONE, {}  # a route added after this one takes it
        if self._serves(scope, *_PROBED):
            return Match.FULL, {}
        return Match.NONE, {}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] == "HEAD" and self._serves(scope, "GET"):
            await scope["router"].app({**scope, "method": "GET"}, receive, _without_body(send))
            return
        allowed = {method for method in _PROBED if self._serves(scope, method)}
        if "GET" in allowed:
            allowed.add("HEAD")
        allowed.add("OPTIONS")
        allow = ", ".join(method for method in _METHODS if method in allowed)
        if scope["method"] == "OPTIONS":
            await Response(status_code=204, headers={"Allow": allow})(scope, receive, send)
            return
        raise HTTPException(status_code=405, headers={"Allow": allow})

    def _serves(self, scope: Scope, *methods: str) -> bool:
        """Whether another route fully matches this path for one of `methods`."""
        for method in methods:
            probe = {**scope, "method": method}
            for route in self.routes:
                if route is not self and route.matches(probe)[0] is Match.FULL:
                    return True
        return False


def _without_body(send: Send) -> Send:
    async def send_headers_only(message: Message) -> None:
        if message["type"] == "http.response.body":
            message = {**message, "body": b""}
        await send(message)

    return send_headers_only
