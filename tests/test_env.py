"""The generated `.env`: per-project values only, read alike by a shell, the service and
compose; and the README's way to set a project up without Docker, run for real."""

from __future__ import annotations

import json
import os
import re
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from context import enabled_modules
from registry import MODULES
from sqlalchemy.engine import make_url

from tests import pythons
from tests.conftest import FOREIGN_PLUGINS, env_values, render
from tests.ports import free_port
from tests.postgres import CREATED, Server
from tests.test_rendered_project import COMPOSE

EVERYTHING = {
    "with_auth": True,
    "with_cache": True,
    "with_rate_limit": True,
    "with_celery": True,
    "with_mail": True,
}
# Every character a shell, python-dotenv or compose could take for syntax; the name is in
# .env's heading, and the e-mail address (which may hold a quote) is a value.
TRICKY = {
    "project_name": 'Bob\'s "Café" $HOME \\ `x` # ${PATH}',
    "author_email": "o'brien@example.com",
}
DUMP = "import json, os, sys; json.dump(dict(os.environ), sys.stdout)"


def clean_env() -> dict[str, str]:
    """What a newcomer's shell holds: nothing of the harness's own settings."""
    return {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), "LANG": "C.UTF-8"}


def run(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        argv, cwd=cwd, env=env or clean_env(), capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"{argv}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def everything(copier_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    destination = tmp_path_factory.mktemp("env") / "service"
    return render(copier_template, destination, http_port=free_port(), **EVERYTHING, **TRICKY)


def python_of(project: Path) -> str:
    """The Python the project declares, with every module's packages."""
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))
    return pythons.interpreter(answers["python_version"])


def names_in(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.split("=", 1)[0] for line in lines if line and line[0] != "#"]


def shell_reads(project: Path, filename: str) -> dict[str, str]:
    script = f'set -a; . ./{filename}; set +a; exec "$0" -c "$1"'
    env = {"PATH": "/usr/bin:/bin"}
    return json.loads(run(["sh", "-c", script, python_of(project), DUMP], project, env))


def dotenv_reads(project: Path, filename: str) -> dict[str, str | None]:
    code = (
        "import json, sys; from dotenv import dotenv_values; "
        f"json.dump(dotenv_values({filename!r}), sys.stdout)"
    )
    return json.loads(run([python_of(project), "-c", code], project))


SETTINGS_READ = """
import json, sys
from pydantic import SecretStr
from app.core.settings import Settings
values = Settings().model_dump()
json.dump({
    name.upper(): value.get_secret_value() if isinstance(value, SecretStr) else str(value)
    for name, value in values.items()
}, sys.stdout)
"""


def compose_reads(
    project: Path, filename: str, names: list[str], scratch: Path
) -> dict[str, dict[str, str]]:
    """What compose makes of the file: as an `env_file`, and through `${NAME}` interpolation
    (from the file `--env-file` names; the project's .env when none is named)."""
    probe = {
        "services": {
            "probe": {
                "image": "busybox",
                "env_file": [str(project / filename)],
                "labels": {name: f"${{{name}}}" for name in names},
            }
        }
    }
    scratch.mkdir(exist_ok=True)
    (scratch / "probe.yml").write_text(yaml.safe_dump(probe), encoding="utf-8")
    argv = [
        str(COMPOSE), "--project-directory", str(project), "--env-file", str(project / filename),
        "-f", str(scratch / "probe.yml"), "config", "--format", "json",
    ]  # fmt: skip
    service = json.loads(run(argv, project))["services"]["probe"]
    return {"env_file": service["environment"], "interpolated": service["labels"]}


@pytest.mark.parametrize("filename", [".env", ".env.example"])
def test_a_shell_the_service_and_compose_read_the_same_values(
    everything: Path, filename: str, tmp_path: Path
) -> None:
    names = names_in(everything / filename)
    shell = {k: v for k, v in shell_reads(everything, filename).items() if k in names}
    assert set(shell) == set(names)
    if filename == ".env":
        assert shell["FIRST_SUPERUSER_EMAIL"] == TRICKY["author_email"]

    assert dotenv_reads(everything, filename) == shell
    compose = compose_reads(everything, filename, names, tmp_path)
    assert compose["env_file"] == shell
    assert compose["interpolated"] == shell
    if filename == ".env":
        # The service's own settings, as pydantic-settings reads them from .env.
        settings = json.loads(run([python_of(everything), "-c", SETTINGS_READ], everything))
        assert {k: v for k, v in settings.items() if k in shell} == {
            k: v for k, v in shell.items() if k in settings
        }
        # And compose passes .env's values on to the containers that read them.
        result = run([str(COMPOSE), "config", "--format", "json"], everything)
        migrate = json.loads(result)["services"]["migrate"]["environment"]
        assert migrate["FIRST_SUPERUSER_EMAIL"] == TRICKY["author_email"]
        assert migrate["LOG_FORMAT"] == shell["LOG_FORMAT"]


def test_env_sets_only_what_is_per_project(everything: Path) -> None:
    settings = [s for m in enabled_modules(EVERYTHING, MODULES) for s in m.settings]
    per_project = [s.env for s in settings if s.local is not None]

    assert names_in(everything / ".env") == per_project
    assert names_in(everything / ".env.example") == per_project
    # .env.example documents the others too, commented out.
    example = (everything / ".env.example").read_text(encoding="utf-8")
    for setting in settings:
        assert re.search(rf"^(# )?{setting.env}=", example, re.MULTILINE), setting.env


def test_a_default_changed_in_code_takes_effect_with_the_generated_env(
    everything: Path, tmp_path: Path
) -> None:
    read = (
        "from app.core.settings import Settings as S; s = S(); print(s.db_pool_size, s.log_level)"
    )
    python = python_of(everything)
    assert run([python, "-c", read], everything).split() == ["20", "INFO"]
    settings_py = everything / "app" / "core" / "settings.py"
    original = settings_py.read_text(encoding="utf-8")
    changed = original.replace("Field(default=20, ge=1)", "Field(default=7, ge=1)").replace(
        '= "INFO"', '= "WARNING"'
    )
    assert changed.count("default=7") == 1
    settings_py.write_text(changed, encoding="utf-8")
    try:
        assert run([python, "-c", read], everything).split() == ["7", "WARNING"]
    finally:
        settings_py.write_text(original, encoding="utf-8")


def test_a_bad_character_for_env_is_refused(copier_template: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"author_email must not contain \$"):
        render(copier_template, tmp_path / "service", author_email="a$b@example.com")
    assert not (tmp_path / "service" / ".env").exists()


# ---- Without Docker: the generated README's commands, against the local servers ----


def readme_commands(project: Path) -> list[str]:
    readme = (project / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Without Docker", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert block
    return [line.split("#", 1)[0].strip() for line in block.group(1).splitlines()]


def point_at(env_text: str, server: Server, redis_url: str) -> str:
    """.env as the README tells a developer to adjust it, for the servers the harness uses
    (on a developer's machine and here: postgres on localhost:5432, Redis on 6379)."""
    url = make_url(server.database_url("postgres"))
    env_text = env_text.replace("@localhost:5432/", f"@{url.host}:{url.port}/")
    if url.username != "postgres" or url.password:
        secret = env_values(env_text)["POSTGRES_PASSWORD"]
        login = f"{url.username}:{url.password or ''}@"
        env_text = env_text.replace(f"postgres:{secret}@", login)
    redis = make_url(redis_url)
    return env_text.replace("redis://localhost:6379/", f"redis://{redis.host}:{redis.port}/")


@pytest.fixture
def local_service(
    copier_template: Path, tmp_path: Path, pg: Server, redis_url: str
) -> Iterator[Path]:
    """An all-modules project with a database name of its own; its databases and role are
    dropped afterwards, and the session fails if they are not."""
    name = f"tpl_{uuid.uuid4().hex[:12]}"
    path = render(
        copier_template, tmp_path / "service", http_port=free_port(), database_name=name,
        **EVERYTHING,
    )  # fmt: skip
    env_path = path / ".env"
    env_path.write_text(point_at(env_path.read_text(encoding="utf-8"), pg, redis_url))
    CREATED.update({name, f"{name}_test"})
    try:
        yield path
    finally:
        pg.drop_database(name)
        pg.drop_database(f"{name}_test")
        pg.admin(f'DROP ROLE IF EXISTS "{name}_app"')


def test_the_readme_sets_a_project_up_without_docker(local_service: Path, pg: Server) -> None:
    commands = readme_commands(local_service)
    assert commands == ["make install", "make db", "make migrate", "make test"]
    python = python_of(local_service)
    url = make_url(pg.database_url("postgres"))
    # `make install` builds .venv with pip; the harness's environment for that Python holds
    # the same packages, so the other commands use it instead.
    # -rp lists the tests that passed: the one that proves the tests ran as the app role.
    tools = [f"BIN={Path(python).parent}", f"ARGS=-q -rp {' '.join(FOREIGN_PLUGINS)}"]
    # As a newcomer who exported .env into the shell: every variable of it in the
    # environment, which wins over .env for the service and is all Celery reads.
    shell = 'set -a; . ./.env; set +a; exec "$@"'
    env = clean_env() | {
        "PGHOST": url.host or "localhost",
        "PGPORT": str(url.port or 5432),
        "PGUSER": url.username or "postgres",
        **({"PGPASSWORD": url.password} if url.password else {}),
    }

    outputs = {}
    for command in commands[1:]:
        argv = ["sh", "-c", shell, "sh", *command.split(), *tools]
        outputs[command] = run(argv, local_service, env)
    again = run(["sh", "-c", shell, "sh", "make", "db"], local_service, env)

    assert "created" in outputs["make migrate"]  # the first admin, from .env
    summary = outputs["make test"].strip().splitlines()[-1]
    assert re.search(r"\d+ passed", summary)
    assert not re.search(r"failed|error", summary), outputs["make test"][-3000:]
    # .env's TEST_DATABASE_URL is the least-privilege role, not the superuser that migrates.
    answers = yaml.safe_load((local_service / ".copier-answers.yml").read_text(encoding="utf-8"))
    env_file = env_values((local_service / ".env").read_text(encoding="utf-8"))
    assert make_url(env_file["TEST_DATABASE_URL"]).username == f"{answers['database_name']}_app"
    proof = "PASSED tests/test_privileges.py::test_the_tests_run_as_the_application_role"
    assert proof in outputs["make test"]
    assert "exists already" in again
