"""The web servers a project may run its app under: what differs between them, in one place.

`server` in copier.yml picks one; extensions/context.py adds its distributions to the
project's dependencies and gives the templates its entry as `web_server`. Each has its own
`app/serve.py` (template/app/, named `{% if server == '<name>' %}serve.py{% endif %}`), run
the same way by the image: `python -m app.serve --host 0.0.0.0 --port <port>`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class WebServer:
    name: str
    summary: str  # one sentence, for the docs
    dependencies: tuple[str, ...] = ()  # beyond uvicorn, which every project has
    # The workers when WEB_CONCURRENCY is not set.
    default_workers: str = "1"


UVICORN = WebServer(
    name="uvicorn",
    summary=(
        "One uvicorn process, or WEB_CONCURRENCY workers under uvicorn's supervisor; a single"
        " process answers not-ready for SHUTDOWN_DRAIN_SECONDS before it stops listening."
    ),
)
GUNICORN = WebServer(
    name="gunicorn",
    summary=(
        "Gunicorn's master with Uvicorn workers, as many as the CPUs of the container's quota;"
        " each is replaced after about 100 000 requests (jittered) and when it dies."
    ),
    dependencies=("gunicorn>=25.1,<28", "uvicorn-worker>=0.3,<1"),
    default_workers="one per CPU of the container's quota",
)
GRANIAN = WebServer(
    name="granian",
    summary=(
        "Granian (a Rust HTTP server) running the ASGI app in WEB_CONCURRENCY workers, each"
        " replaced when it dies."
    ),
    dependencies=("granian>=2.5,<3",),
)

SERVERS = {s.name: s for s in (UVICORN, GUNICORN, GRANIAN)}
DEFAULT = UVICORN.name
