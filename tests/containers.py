"""A container engine for the template's tests, and the base images the projects build on.

The engine is the one DOCKER_HOST (or the default socket) names; failing that, as root with
dockerd installed, one started for the session and stopped at its end. Each base image the
generated Dockerfiles and compose files name is pulled; where the registry cannot be reached,
a stand-in is built from Debian packages and tagged with the official name. A stand-in keeps
the contracts the generated files rely on (python at /usr/local/bin; the postgres image's
POSTGRES_PASSWORD, /docker-entrypoint-initdb.d and pg_isready; redis-server and redis-cli;
mailpit's SMTP and web ports and `/mailpit readyz`),
says so in a label, and trusts the host's CA bundle, so that a build behind a proxy that
re-signs TLS reaches PyPI without the project's Dockerfile changing.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests import pythons

CACHE = pythons.CACHE / "containers"
# Where a started engine leaves its process id, for the session's end to stop it.
STARTED = CACHE / "dockerd.pid"
STAND_IN_LABEL = "template-tests.stand-in"
DEBIAN = "template-tests/debian:bookworm"
DEBIAN_ROOTFS = CACHE / "debian-bookworm-rootfs.tar"
# What CPython and the stand-ins' packages link against, beyond debootstrap's minimal base.
DEBIAN_PACKAGES = (
    "ca-certificates,libssl3,libffi8,libsqlite3-0,libbz2-1.0,liblzma5,zlib1g,libreadline8,"
    "libncursesw6,libuuid1,libgdbm6,libexpat1"
)
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
# The Dockerfile frontend a `# syntax=` line names, pulled like any other image.
SYNTAX = re.compile(r"^# ?syntax=(\S+)\n", re.MULTILINE)


class Unavailable(Exception):
    """No engine, or no way to get a base image: the container tests are skipped."""


@dataclass
class Engine:
    docker: str
    env: dict[str, str]

    def run(
        self, *args: str, timeout: float = 600, check: bool = True, cwd: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [self.docker, *args],
            cwd=cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check:
            assert result.returncode == 0, (
                f"`docker {' '.join(args)}` exited {result.returncode}\n"
                f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
            )
        return result

    def answers(self) -> bool:
        with suppress(subprocess.TimeoutExpired):
            return (
                self.run(
                    "info", "--format", "{{.ServerVersion}}", timeout=20, check=False
                ).returncode
                == 0
            )
        return False

    def has_image(self, name: str) -> bool:
        return self.run("image", "inspect", name, check=False).returncode == 0

    def label(self, image: str, name: str) -> str | None:
        labels: dict[str, str] | None = json.loads(
            self.run("image", "inspect", "--format", "{{json .Config.Labels}}", image).stdout
        )
        return (labels or {}).get(name)

    def state(self, container: str) -> dict[str, Any]:
        state: dict[str, Any] = json.loads(
            self.run("inspect", "--format", "{{json .State}}", container).stdout
        )
        return state

    def wait_for_health(self, container: str, wanted: str, timeout: float = 120) -> float:
        """Poll the container's own healthcheck until it reports `wanted`; the seconds taken."""
        started = time.monotonic()
        deadline = started + timeout
        state = self.state(container)
        while time.monotonic() < deadline:
            state = self.state(container)
            if not state["Running"]:
                logs = self.run("logs", "--tail", "60", container, check=False)
                raise AssertionError(
                    f"{container} exited {state['ExitCode']}:\n{logs.stdout}{logs.stderr}"
                )
            if state.get("Health", {}).get("Status") == wanted:
                return time.monotonic() - started
            # Health changes at most once per healthcheck interval: no need to ask more often.
            time.sleep(0.5)
        log = state.get("Health", {}).get("Log", [])[-3:]
        raise AssertionError(f"{container} not {wanted} within {timeout}s; last checks: {log}")

    def build(self, context: Path, dockerfile: Path, tag: str) -> None:
        """Build as `docker build` does with BuildKit; when the frontend a `# syntax=` line
        names cannot be pulled, with the engine's own frontend instead (and say so)."""
        text = dockerfile.read_text(encoding="utf-8")
        match = SYNTAX.search(text)
        with tempfile.TemporaryDirectory() as scratch:
            if match and not self.pull_or_have(match.group(1)):
                print(
                    f"{match.group(1)}: cannot be pulled; {dockerfile.name} is built with "
                    "the engine's own Dockerfile frontend"
                )
                dockerfile = Path(scratch) / dockerfile.name
                dockerfile.write_text(SYNTAX.sub("", text, count=1), encoding="utf-8")
            self.run("build", "--quiet", "--file", str(dockerfile), "--tag", tag, str(context))

    def pull_or_have(self, image: str) -> bool:
        if self.has_image(image):
            return True
        return self.run("pull", "--quiet", image, timeout=300, check=False).returncode == 0


def docker_client() -> str | None:
    """A docker CLI that builds with BuildKit: with buildx, or from before buildx was needed."""
    for candidate in dict.fromkeys(filter(None, [shutil.which("docker"), "/usr/bin/docker"])):
        if not os.access(candidate, os.X_OK):
            continue
        probe = subprocess.run(
            [candidate, "buildx", "version"], capture_output=True, text=True, check=False
        )
        if probe.returncode == 0:
            return candidate
        version = subprocess.run(
            [candidate, "version", "--format", "{{.Client.Version}}"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        if version and int(version.split(".")[0]) < 23:
            return candidate
    return None


def find_engine() -> Engine:
    """The engine DOCKER_HOST names, or the default one; else one started here as root."""
    docker = docker_client()
    if docker is None:
        raise Unavailable("no docker CLI that builds with BuildKit (install docker.io)")
    env = dict(os.environ, DOCKER_BUILDKIT="1")
    engine = Engine(docker, env)
    if engine.answers():
        return engine
    dockerd = shutil.which("dockerd")
    if os.geteuid() != 0 or dockerd is None or "DOCKER_HOST" in os.environ:
        raise Unavailable("no container engine answers, and none can be started here")
    CACHE.mkdir(parents=True, exist_ok=True)
    # Test workers may all want one: the first starts it, the others find it answering.
    with locked("dockerd"):
        if engine.answers():
            return engine
        log = (CACHE / "dockerd.log").open("a")
        process = subprocess.Popen([dockerd], stdout=log, stderr=subprocess.STDOUT)
        STARTED.write_text(str(process.pid), encoding="utf-8")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            if engine.answers():
                print(f"started dockerd (pid {process.pid}, log {CACHE / 'dockerd.log'})")
                return engine
            time.sleep(0.5)
    raise Unavailable(f"dockerd did not answer within 60s: see {CACHE / 'dockerd.log'}")


def stop_started_engine() -> None:
    """Stop the engine this session started, if it did (and it is still that dockerd)."""
    with suppress(FileNotFoundError):
        pid = int(STARTED.read_text(encoding="utf-8"))
        STARTED.unlink()
        if Path(f"/proc/{pid}/comm").read_text(encoding="utf-8").strip() != "dockerd":
            return
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
            # dockerd is not this process's child when a test worker started it.
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                # Reaped here when it is this process's child; else gone once it exits.
                with suppress(ChildProcessError):
                    if os.waitpid(pid, os.WNOHANG)[0]:
                        return
                os.kill(pid, 0)
                time.sleep(0.2)


# The stand-ins, each a Dockerfile on the Debian base; files in a dict go beside it.
POSTGRES_ENTRYPOINT = r"""#!/bin/sh
# The official postgres image's entrypoint, as far as the projects rely on it: a superuser
# password from POSTGRES_PASSWORD, and /docker-entrypoint-initdb.d/*.sql run once, as the
# superuser, with the container's environment, when the data directory is new.
set -eu
if [ "$(id -u)" = 0 ]; then
    mkdir -p "$PGDATA" /var/run/postgresql
    chown postgres:postgres "$PGDATA" /var/run/postgresql
    chmod 700 "$PGDATA"
    exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    : "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD must be set}"
    password_file=$(mktemp)
    printf '%s\n' "$POSTGRES_PASSWORD" >"$password_file"
    initdb --username=postgres --pwfile="$password_file" --auth-local=trust \
        --auth-host=scram-sha-256 >/dev/null
    rm -f "$password_file"
    echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
    echo "listen_addresses = '*'" >>"$PGDATA/postgresql.conf"
    pg_ctl --silent --wait --options="-c listen_addresses=''" start
    for script in /docker-entrypoint-initdb.d/*.sql; do
        [ -e "$script" ] || continue
        echo "running $script"
        psql --no-psqlrc --set=ON_ERROR_STOP=1 --username=postgres --dbname=postgres \
            --file="$script"
    done
    pg_ctl --silent --wait --mode=fast stop
fi
exec "$@"
"""
POSTGRES = f"""FROM {DEBIAN}
LABEL {STAND_IN_LABEL}="postgres:16-alpine, from Debian bookworm's postgresql-15"
RUN mkdir -p /etc/postgresql-common/createcluster.d \\
    && echo 'create_main_cluster = false' >/etc/postgresql-common/createcluster.d/none.conf \\
    && apt-get update -qq \\
    && apt-get install -y -qq --no-install-recommends postgresql-15 >/dev/null \\
    && rm -rf /var/lib/apt/lists/* \\
    && mkdir -p /docker-entrypoint-initdb.d
ENV PATH=/usr/lib/postgresql/15/bin:$PATH PGDATA=/var/lib/postgresql/data
COPY docker-entrypoint.sh /usr/local/bin/
VOLUME /var/lib/postgresql/data
ENTRYPOINT ["docker-entrypoint.sh"]
STOPSIGNAL SIGINT
EXPOSE 5432
CMD ["postgres"]
"""
REDIS_ENTRYPOINT = r"""#!/bin/sh
# As the official redis image's entrypoint: without a configuration that says otherwise,
# other containers may connect (Debian's build keeps protected mode on).
set -eu
if [ "${1:-}" = redis-server ]; then
    shift
    set -- redis-server --protected-mode no "$@"
fi
exec "$@"
"""
REDIS = f"""FROM {DEBIAN}
LABEL {STAND_IN_LABEL}="redis:7-alpine, from Debian bookworm's redis-server"
RUN apt-get update -qq \\
    && apt-get install -y -qq --no-install-recommends redis-server redis-tools >/dev/null \\
    && rm -rf /var/lib/apt/lists/*
COPY docker-entrypoint.sh /usr/local/bin/
ENTRYPOINT ["docker-entrypoint.sh"]
EXPOSE 6379
CMD ["redis-server"]
"""
MAILPIT_SERVER = r"""#!/usr/bin/python3
# As axllent/mailpit, as far as the projects rely on it: SMTP on 1025 that accepts every
# message, the web API on 8025 (GET /api/v1/messages lists what arrived), and
# `/mailpit readyz`, which exits 0 once both answer.
import email
import json
import socket
import sys
import urllib.request
from email.policy import default
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller

MESSAGES = []


class Inbox:
    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=default)
        MESSAGES.append({
            "Subject": message["Subject"] or "",
            "To": [{"Address": address} for address in envelope.rcpt_tos],
        })
        return "250 OK"


class Api(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/readyz":
            body = b"ok"
        elif self.path.startswith("/api/v1/messages"):
            body = json.dumps({"total": len(MESSAGES), "messages": MESSAGES[::-1]}).encode()
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def ready():
    with socket.create_connection(("127.0.0.1", 1025), timeout=2) as smtp:
        if not smtp.recv(3) == b"220":
            return 1
    with urllib.request.urlopen("http://127.0.0.1:8025/readyz", timeout=2) as response:
        return 0 if response.status == 200 else 1


if sys.argv[1:] == ["readyz"]:
    try:
        sys.exit(ready())
    except OSError as error:
        sys.exit(f"not ready: {error}")
controller = Controller(Inbox(), hostname="0.0.0.0", port=1025)
controller.start()
ThreadingHTTPServer(("0.0.0.0", 8025), Api).serve_forever()
"""
MAILPIT = f"""FROM {DEBIAN}
LABEL {STAND_IN_LABEL}="axllent/mailpit:{{tag}}, from Debian bookworm's python3-aiosmtpd"
RUN apt-get update -qq \\
    && apt-get install -y -qq --no-install-recommends python3-aiosmtpd >/dev/null \\
    && rm -rf /var/lib/apt/lists/*
COPY mailpit /mailpit
EXPOSE 1025 8025
ENTRYPOINT ["/mailpit"]
"""
PYTHON = f"""FROM {DEBIAN}
LABEL {STAND_IN_LABEL}="python:{{version}}-slim, from this machine's CPython build {{build}}"
COPY python /usr/local
# Trusts the host's CA bundle, as a build behind a re-signing proxy needs; pip and every
# client of the ssl module read it from here.
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
ENV LANG=C.UTF-8 \\
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \\
    PIP_CERT=/etc/ssl/certs/ca-certificates.crt \\
    REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
RUN ldconfig \\
    && ln -sf python{{version}} /usr/local/bin/python \\
    && ln -sf python{{version}} /usr/local/bin/python3 \\
    && python -m ensurepip --default-pip >/dev/null \\
    && ln -sf pip3 /usr/local/bin/pip \\
    && python --version
CMD ["python3"]
"""
# What the slim image leaves out too; site-packages and pip's scripts come from ensurepip.
STDLIB_LEFT_OUT = shutil.ignore_patterns("test", "idlelib", "tkinter", "turtledemo", "*.a")
SCRIPTS_LEFT_OUT = shutil.ignore_patterns("pip*", "idle*", "pydoc*", "2to3*")


def base_images(python_version: str, compose_file: Path | None = None) -> list[str]:
    """What a project's images build on, and, given its compose file, the images that
    compose runs as they are."""
    names = [f"python:{python_version}-slim", "postgres:16-alpine", "redis:7-alpine"]
    if compose_file is not None:
        services = yaml.safe_load(compose_file.read_text(encoding="utf-8"))["services"]
        names += [s["image"] for s in services.values() if "image" in s and "build" not in s]
    return list(dict.fromkeys(names))


def ensure_image(engine: Engine, name: str) -> str:
    """`name`, pulled, or built as a stand-in where it cannot be: a line saying which."""
    with locked("images"):
        return _ensure_image(engine, name)


def _ensure_image(engine: Engine, name: str) -> str:
    present = engine.has_image(name)
    stand_in = engine.label(name, STAND_IN_LABEL) if present else None
    if present and stand_in is None:
        return f"{name}: the real image"
    # A stand-in is only for as long as the registry cannot be reached.
    if engine.run("pull", "--quiet", name, timeout=300, check=False).returncode == 0:
        return f"{name}: the real image (pulled)"
    if stand_in is None:
        build_stand_in(engine, name)
        stand_in = engine.label(name, STAND_IN_LABEL)
    return f"{name}: STAND-IN ({stand_in}); the registry cannot be reached"


def build_stand_in(engine: Engine, name: str) -> None:
    ensure_debian(engine)
    repository, tag = name.split(":")
    with tempfile.TemporaryDirectory() as scratch:
        context = Path(scratch)
        if repository == "python":
            version = tag.removesuffix("-slim")
            prefix = Path(pythons.find_python(version)).resolve().parents[1]
            if not (prefix / "lib" / f"libpython{version}.so.1.0").exists():
                raise Unavailable(f"{name}: no registry, and {prefix} is no shared CPython build")
            shutil.copytree(prefix, context / "python", ignore=python_ignore, symlinks=True)
            shutil.copy(HOST_CA_BUNDLE, context / "ca-certificates.crt")
            dockerfile = PYTHON.format(version=version, build=prefix.name)
        elif repository == "postgres":
            dockerfile = POSTGRES
            (context / "docker-entrypoint.sh").write_text(POSTGRES_ENTRYPOINT, encoding="utf-8")
        elif repository == "redis":
            dockerfile = REDIS
            (context / "docker-entrypoint.sh").write_text(REDIS_ENTRYPOINT, encoding="utf-8")
        elif repository == "axllent/mailpit":
            dockerfile = MAILPIT.format(tag=tag)
            (context / "mailpit").write_text(MAILPIT_SERVER, encoding="utf-8")
            (context / "mailpit").chmod(0o755)
        else:
            raise Unavailable(f"{name} cannot be pulled, and there is no stand-in for it")
        for script in context.glob("*.sh"):
            script.chmod(0o755)
        (context / "Dockerfile").write_text(dockerfile, encoding="utf-8")
        engine.run("build", "--quiet", "--tag", name, str(context), timeout=900)


def python_ignore(directory: str, names: list[str]) -> set[str]:
    path = Path(directory)
    if path.name == "site-packages":
        return set(names)
    left_out = SCRIPTS_LEFT_OUT if path.name == "bin" else STDLIB_LEFT_OUT
    return set(left_out(directory, names))


def ensure_debian(engine: Engine) -> None:
    """The Debian base of the stand-ins: debootstrapped once, the root filesystem kept in the
    cache so that later sessions only import it."""
    if engine.has_image(DEBIAN):
        return
    if not DEBIAN_ROOTFS.exists():
        debootstrap = shutil.which("debootstrap")
        if debootstrap is None or os.geteuid() != 0:
            raise Unavailable(
                "the registry cannot be reached, and building stand-ins for its "
                "images needs debootstrap, as root"
            )
        CACHE.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=CACHE) as scratch:
            rootfs = Path(scratch) / "rootfs"
            subprocess.run(
                [
                    debootstrap,
                    "--variant=minbase",
                    f"--include={DEBIAN_PACKAGES}",
                    "bookworm",
                    str(rootfs),
                    "http://deb.debian.org/debian",
                ],
                capture_output=True,
                check=True,
                timeout=900,
            )
            partial = DEBIAN_ROOTFS.with_suffix(".partial")
            subprocess.run(["tar", "-C", str(rootfs), "-cf", str(partial), "."], check=True)
            partial.rename(DEBIAN_ROOTFS)
    with DEBIAN_ROOTFS.open("rb") as tarball:
        subprocess.run(
            [engine.docker, "import", "-", DEBIAN],
            stdin=tarball,
            env=engine.env,
            capture_output=True,
            check=True,
        )


@contextmanager
def locked(name: str) -> Iterator[None]:
    """One test worker (or session) at a time starts the engine or builds the base images."""
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


@contextmanager
def cleaned_up(engine: Engine, label: str) -> Iterator[None]:
    """Remove whatever carries `label` when the block ends, however it ends."""
    try:
        yield
    finally:
        containers = engine.run(
            "ps", "--all", "--quiet", "--filter", f"label={label}", check=False
        ).stdout.split()
        if containers:
            engine.run("rm", "--force", "--volumes", *containers, check=False)
        for kind in ("network", "volume", "image"):
            names = engine.run(
                kind, "ls", "--quiet", "--filter", f"label={label}", check=False
            ).stdout.split()
            if names:
                force = ["--force"] if kind == "image" else []
                engine.run(kind, "rm", *force, *names, check=False)


if __name__ == "__main__":
    found = find_engine()
    for image in base_images(sys.argv[1] if len(sys.argv) > 1 else pythons.RUNNING):
        print(ensure_image(found, image))
