"""`copier update` on projects with histories of their own, in temporary git repositories.

Every project here is generated and updated with the `copier` command from a repository of
the template that has a tag per release (tests/releases.py), as a team would.
"""

from __future__ import annotations

import difflib
import os
import re
import subprocess
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from package_managers import MANAGERS
from registry import CORE, MODULES

from tests import pythons
from tests.conftest import BIN, FOREIGN_PLUGINS, Inbox, Project, env_values
from tests.ports import free_port
from tests.postgres import Server
from tests.releases import REPO_ROOT, git, releases, template_repository
from tests.test_package_managers import make

EVERYTHING = {"with_rate_limit": True, "with_celery": True, "with_mail": True}
CONFLICT = re.compile(r"^(<{7}|={7}|>{7})( |$)", re.MULTILINE)


@pytest.fixture(scope="session")
def template_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return template_repository(tmp_path_factory.mktemp("template") / "repository")


def copier(*args: str, cwd: Path, status: int = 0) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(BIN / "copier"), *args], cwd=cwd, capture_output=True, text=True, check=False
    )
    assert result.returncode == status, f"copier {' '.join(args)}:\n{result.stdout}{result.stderr}"
    return result


def data(answers: dict[str, Any]) -> list[str]:
    return [
        f"--data={k}={str(v).lower() if isinstance(v, bool) else v}" for k, v in answers.items()
    ]


def generate(template: Path, destination: Path, ref: str, answers: dict[str, Any]) -> Path:
    """Render at `ref` and commit, as a team starts its service."""
    copier(
        "copy", "--trust", "--defaults", "--quiet", f"--vcs-ref={ref}", *data(answers),
        str(template), str(destination), cwd=destination.parent,
    )  # fmt: skip
    git("init", "--quiet", "--initial-branch=main", cwd=destination)
    commit(destination, "Generated from the template")
    return destination


def commit(path: Path, message: str) -> None:
    git("add", "--all", cwd=path)
    git("commit", "--quiet", "--allow-empty", "-m", message, cwd=path)


def update(path: Path, *args: str, status: int = 0) -> subprocess.CompletedProcess[str]:
    return copier("update", "--trust", "--defaults", "--quiet", *args, cwd=path, status=status)


def report(output: str) -> dict[str, list[str]]:
    """The lists the update report printed, by the start of their heading."""
    sections: dict[str, list[str]] = {}
    text = output[output.index("After the update ") :]
    for line in text.splitlines()[1:]:
        if line.startswith("- "):
            heading = sections.setdefault(re.split(r" \(|:", line[2:])[0], [])
        elif line.startswith("  "):
            heading.append(line.strip())
    return sections


def documented(project: Path, pattern: str) -> str:
    """The command line of the project's docs/updating.md that matches `pattern`."""
    guide = (project / "docs/updating.md").read_text(encoding="utf-8")
    (line,) = re.findall(rf"^{pattern}$", guide, re.MULTILINE)
    return line


def run_documented(project: Path, line: str, status: int = 0) -> subprocess.CompletedProcess[str]:
    """A command of docs/updating.md, with the Copier of this environment for `.venv/bin`'s."""
    result = subprocess.run(
        ["sh", "-c", line.replace(".venv/bin/", f"{BIN}/")],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == status, f"{line}:\n{result.stdout}{result.stderr}"
    return result


def tree(path: Path) -> dict[str, str]:
    """Every file a project's git tracks, by path: what the team would commit (a file an
    update deleted, still in the index, is not)."""
    files = git("ls-files", "--cached", "--others", "--exclude-standard", cwd=path).split()
    return {
        name: (path / name).read_text(encoding="utf-8") for name in files if (path / name).exists()
    }


def locked(path: Path, manager: str = "uv") -> dict[str, str]:
    lock_file = path / MANAGERS[manager].lock_file
    lock = tomllib.loads(lock_file.read_text(encoding="utf-8"))
    return {p["name"]: p["version"] for p in lock["package"]}


def without_commit(answers_file: str) -> dict[str, Any]:
    answers: dict[str, Any] = yaml.safe_load(answers_file)
    answers.pop("_commit")
    return answers


@pytest.fixture
def service(
    pg: Server, redis_url: str, smtp: tuple[int, Inbox]
) -> Iterator[Callable[[Path], Project]]:
    """`service(path)`: the project rendered at `path`; its databases go with the test."""
    projects: list[Project] = []

    def at(path: Path) -> Project:
        version = yaml.safe_load((path / ".copier-answers.yml").read_text())["python_version"]
        projects.append(Project(path, pg, redis_url, smtp[0], pythons.interpreter(version)))
        return projects[-1]

    yield at
    for project in projects:
        project.drop_databases()


def passes_its_checks(project: Project, *tests: str) -> None:
    """Lint-clean, type-checked, and its tests pass: all of them, or those of `tests`."""
    project.run("ruff", "check", ".")
    project.run("ruff", "format", "--check", ".")
    project.run("mypy")
    database_url = project.new_database()
    result = project.run("pytest", "-q", *FOREIGN_PLUGINS, *tests, database_url=database_url)
    assert " passed" in result.stdout.strip().splitlines()[-1]


# What a team does to its service in the months after generating it.
STATUS_ROUTER = '''"""Our own endpoint: how the service is doing, for the status page."""

from fastapi import APIRouter

router = APIRouter(tags=["status"])


@router.get("/status")
async def read_status() -> dict[str, str]:
    return {"status": "fine"}
'''
STATUS_TEST = """from httpx import AsyncClient


async def test_status_says_fine(client: AsyncClient) -> None:
    response = await client.get("/api/v1/status")

    assert response.status_code == 200
    assert response.json() == {"status": "fine"}
"""
OUR_SETTING = "db_pool_recycle: int = Field(default=900, ge=-1)"
OUR_COLUMN = "    sku: Mapped[str | None] = mapped_column(String(40))\n"


def make_our_edits(project: Project) -> set[str]:
    """A new endpoint with its test, a changed setting, a model column with its migration."""
    path = project.path
    (path / "app/api/v1/status.py").write_text(STATUS_ROUTER, encoding="utf-8")
    (path / "tests/test_status.py").write_text(STATUS_TEST, encoding="utf-8")
    router = path / "app/api/router.py"
    text = router.read_text(encoding="utf-8")
    text = text.replace(
        "from app.api.v1.items import router as items_router\n",
        "from app.api.v1.items import router as items_router\n"
        "from app.api.v1.status import router as status_router\n",
    )
    router.write_text(
        text + 'api_router.include_router(status_router, prefix="/api/v1")\n', encoding="utf-8"
    )
    settings = path / "app/core/settings.py"
    text = settings.read_text(encoding="utf-8")
    assert "db_pool_recycle: int = Field(default=1800, ge=-1)" in text
    settings.write_text(
        text.replace("db_pool_recycle: int = Field(default=1800, ge=-1)", OUR_SETTING),
        encoding="utf-8",
    )
    model = path / "app/models/item.py"
    text = model.read_text(encoding="utf-8")
    column_added = text.replace(
        "    quantity: Mapped[int]\n", "    quantity: Mapped[int]\n" + OUR_COLUMN
    )
    model.write_text(column_added, encoding="utf-8")
    project.run(
        "alembic", "revision", "--autogenerate", "--head", "heads", "-m", "add item sku",
        database_url=project.migrated_database(),
    )  # fmt: skip
    (revision,) = (path / "app/db/migrations/versions").glob("*_add_item_sku.py")
    assert 'sa.Column("sku"' in revision.read_text(encoding="utf-8")
    return {"app/api/v1/status.py", "tests/test_status.py", str(revision.relative_to(path))}


def follow_the_manual_steps(path: Path, fresh: dict[str, str]) -> None:
    """What the CHANGELOG asks of a team after the update: `api_router` is gone, so the
    router we added to it gets a line of its own in `include_routers`. The update shows
    `app/api/router.py` as a conflict; the team resolves it into the new file."""
    text = fresh["app/api/router.py"].replace(
        "from app.api.v1.items import router as items_router\n",
        "from app.api.v1.items import router as items_router\n"
        "from app.api.v1.status import router as status_router\n",
    )
    last = "    # Last, so that it sees only requests no other route takes"
    text = text.replace(last, f"{OUR_LINES['app/api/router.py']}\n{last}")
    (path / "app/api/router.py").write_text(text, encoding="utf-8")
    (path / "app/api/router.py.rej").unlink(missing_ok=True)


# The lines our edits put into files the template also writes (router.py's after the
# manual step).
OUR_LINES = {
    "app/api/router.py": '    include(app, status_router, prefix="/api/v1")',
    "app/core/settings.py": OUR_SETTING,
    "app/models/item.py": OUR_COLUMN.strip(),
}


# The template's files are as a fresh copy renders them, which the matrix tests: with
# every module on, our own tests and the migrations (ours on top of the template's) are
# what is left to run.
@pytest.mark.parametrize(
    ("answers", "tests"),
    [({}, ()), (EVERYTHING, ("tests/test_status.py", "tests/test_migrations.py"))],
    ids=["default", "everything"],
)
def test_an_edited_project_updates_from_the_first_release(
    template_repo: Path,
    tmp_path: Path,
    service: Callable[[Path], Project],
    answers: dict[str, Any],
    tests: tuple[str, ...],
) -> None:
    answers = {**answers, "http_port": free_port()}
    first = releases()[0].tag
    path = generate(template_repo, tmp_path / "service", first, answers)
    project = service(path)
    added = make_our_edits(project)
    commit(path, "Our own endpoint, setting and column")
    mine, our_env = tree(path), project.read(".env")

    # One conflict, which the CHANGELOG announces: our line in app/api/router.py.
    update(path, "--vcs-ref=HEAD", status=1)
    fresh = tree(generate(template_repo, tmp_path / "fresh", "HEAD", answers))
    follow_the_manual_steps(path, fresh)

    updated = tree(path)
    old = tree(generate(template_repo, tmp_path / "old", first, answers))
    assert [name for name, text in updated.items() if CONFLICT.search(text)] == []
    assert not [name for name in updated if name.endswith(".rej")]
    # Our files are kept to the letter, and our lines in the template's files.
    assert {name: updated[name] for name in added} == {name: mine[name] for name in added}
    assert all(line in updated[name] for name, line in OUR_LINES.items())
    # Everything else is what the template renders now.
    theirs = set(updated) - added - set(OUR_LINES) - {".copier-answers.yml"}
    assert theirs == set(fresh) - set(OUR_LINES) - {".copier-answers.yml"}
    assert {n: updated[n] for n in theirs} == {n: fresh[n] for n in theirs}
    assert {n for n in theirs if old.get(n) != fresh[n]}  # the template did change
    assert without_commit(updated[".copier-answers.yml"]) == without_commit(
        fresh[".copier-answers.yml"]
    )
    assert project.read(".env") == our_env  # never overwritten: it holds our secrets
    passes_its_checks(project, *tests)


@pytest.mark.parametrize(
    "answers",
    [{}, EVERYTHING, {"with_auth": False, "with_cache": False}],
    ids=["default", "everything", "bare"],
)
def test_updating_an_unedited_project_equals_a_fresh_copy(
    template_repo: Path, tmp_path: Path, answers: dict[str, Any]
) -> None:
    answers = {**answers, "http_port": free_port()}
    previous = releases()[-1].tag
    path = generate(template_repo, tmp_path / "service", previous, answers)

    update(path, "--vcs-ref=HEAD")

    updated, fresh = tree(path), tree(generate(template_repo, tmp_path / "fresh", "HEAD", answers))
    assert set(updated) == set(fresh)
    # The answers record another commit of the template; nothing else differs.
    assert {name for name in fresh if updated[name] != fresh[name]} <= {".copier-answers.yml"}
    assert without_commit(updated[".copier-answers.yml"]) == without_commit(
        fresh[".copier-answers.yml"]
    )
    # Every answer is kept for the next update, and no secret is among them.
    questions = yaml.safe_load((REPO_ROOT / "copier.yml").read_text(encoding="utf-8"))
    kept = yaml.safe_load(updated[".copier-answers.yml"])
    assert {q for q in questions if not q.startswith("_")} <= set(kept)
    names = {secret.upper() for module in (CORE, *MODULES.values()) for secret in module.secrets}
    local = env_values((path / ".env").read_text(encoding="utf-8"))
    env = {name: value for name, value in local.items() if name in names}
    assert env
    assert not [value for value in env.values() if value in updated[".copier-answers.yml"]]


def test_a_module_turned_on_then_off_by_update_leaves_a_working_project(
    template_repo: Path,
    tmp_path: Path,
    service: Callable[[Path], Project],
) -> None:
    """With the documented command, on a project rendered from the template's latest commit,
    which is past the newest release (so an update to that release would be a downgrade)."""
    answers = {"http_port": free_port()}
    path = generate(template_repo, tmp_path / "service", "HEAD", answers)
    project = service(path)
    before = tree(path)
    version = yaml.safe_load(before[".copier-answers.yml"])["_commit"]
    assert version.startswith(f"{releases()[-1].tag}-")
    # The usual update says why it cannot go on, as the guide quotes it, and changes nothing.
    usual = run_documented(
        path, documented(path, r"\.venv/bin/copier update --trust --defaults"), 1
    )
    downgrade = r"You are downgrading from \S+ to \S+\. Downgrades are not supported\."
    assert re.search(downgrade, usual.stderr), usual.stderr
    assert re.search(rf"^{downgrade}$", project.read("docs/updating.md"), re.MULTILINE)
    assert tree(path) == before
    switch_on = documented(path, r"\.venv/bin/copier update .*--data with_celery=true")

    run_documented(path, switch_on)
    commit(path, "Celery on")

    answers_file = yaml.safe_load(project.read(".copier-answers.yml"))
    assert answers_file["with_celery"] is True
    assert answers_file["_commit"] == version
    assert (path / "app/worker/celery_app.py").exists()
    locked_while_on = locked(path)

    run_documented(path, switch_on.replace("with_celery=true", "with_celery=false"))
    commit(path, "Celery off")

    after = tree(path)
    assert set(after) == set(before)
    # The lock drops Celery, but upgrades nothing: what Celery held back stays as it was.
    assert {n for n in after if after[n] != before[n]} <= {".copier-answers.yml", "uv.lock"}
    assert "celery" in locked_while_on
    assert "celery" not in locked(path)
    assert {n: v for n, v in locked(path).items() if locked_while_on.get(n) != v} == {}
    # So it works: every other file is as the template's latest commit renders the
    # defaults, which every run tests (and the newcomer's path below tests Celery turned on).


def env_names(text: str) -> set[str]:
    return set(re.findall(r"^#? ?([A-Z][A-Z0-9_]*)=", text, re.MULTILINE))


def test_a_conflicting_edit_gets_conflict_markers_and_fails_the_update_with_a_report(
    template_repo: Path, tmp_path: Path
) -> None:
    answers = {**EVERYTHING, "http_port": free_port()}
    first = releases()[0].tag
    old = tree(generate(template_repo, tmp_path / "old", first, answers))
    new = tree(generate(template_repo, tmp_path / "new", "HEAD", answers))
    # A line the template replaced since the first release, in a file it kept.
    name, line, new_line = next(
        (name, i1, new_lines[j1])
        for name in sorted(set(old) & set(new) - {".copier-answers.yml"})
        for old_lines, new_lines in [(old[name].splitlines(), new[name].splitlines())]
        for tag, i1, _, j1, _ in difflib.SequenceMatcher(None, old_lines, new_lines).get_opcodes()
        if tag == "replace" and old_lines[i1].strip() and new_lines[j1].strip()
    )
    path = generate(template_repo, tmp_path / "service", first, answers)
    edited = path / name
    ours = "# our own line, where the template changed its own"
    lines = old[name].splitlines(keepends=True)
    lines[line] = ours + "\n"
    edited.write_text("".join(lines), encoding="utf-8")
    commit(path, "Our change to a line the template changes too")
    committed_env = (path / ".env.example").read_text(encoding="utf-8")
    # The same project, for an update that leaves the change in a .rej file instead.
    rejecting = tmp_path / "rejecting"
    git("clone", "--quiet", str(path), str(rejecting), cwd=tmp_path)

    result = update(path, "--vcs-ref=HEAD", "--conflict=inline", status=1)

    text = edited.read_text(encoding="utf-8")
    conflict = re.search(r"^<{7} .*?\n(.*?)^={7}\n(.*?)^>{7} ", text, re.MULTILINE | re.DOTALL)
    assert conflict, text
    before, after = conflict.groups()
    assert ours in before
    assert new_line in after
    # The update is applied all the same; the report says what is left, and fails it.
    assert yaml.safe_load((path / ".copier-answers.yml").read_text())["_commit"] != first
    assert "returned non-zero exit status 1" in result.stderr.splitlines()[-1]
    listed = report(result.stdout)
    # The guide's indented example markers are not conflicts.
    assert listed["Conflicts to resolve"] == [name]
    added = env_names(new[".env.example"]) - env_names(committed_env)
    assert added
    assert set(" ".join(listed["New variables in .env.example"]).split()) == added
    steps = listed["Manual steps from the template's CHANGELOG"]
    headings = [s.removeprefix("## ") for s in steps if s.startswith("## ")]
    later = [r for r in releases() if r.version > releases()[0].version]
    assert headings == ["Unreleased"] + [f"{r.tag} ({r.date})" for r in reversed(later)]
    assert any(s.startswith("Manual steps") for s in steps)

    result = update(rejecting, "--vcs-ref=HEAD", "--conflict=rej", status=1)

    assert (rejecting / f"{name}.rej").exists()
    listed = report(result.stdout)
    assert listed["Changes Copier could not place"] == [f"{name}.rej"]
    assert "Conflicts to resolve" not in listed


def test_an_update_without_conflicts_reports_what_is_left_and_succeeds(
    template_repo: Path, tmp_path: Path
) -> None:
    path = generate(template_repo, tmp_path / "service", "HEAD", {"http_port": free_port()})

    result = update(path, "--vcs-ref=:current:", "--data=with_mail=true")

    listed = report(result.stdout)
    assert "Conflicts to resolve" not in listed
    assert "SMTP_HOST" in " ".join(listed["New variables in .env.example"]).split()
    # Nothing newer than the version the project is at.
    assert "Manual steps from the template's CHANGELOG" not in listed


def test_an_update_locks_what_pyproject_gained_and_keeps_the_pins(
    template_repo: Path, tmp_path: Path
) -> None:
    path = generate(template_repo, tmp_path / "service", releases()[-1].tag, {})
    assert not (path / "uv.lock").exists()
    uv_lock = [str(BIN / "python"), "-m", "uv", "lock"]
    # The CHANGELOG's manual step, `uv lock`, at a time structlog 25.1.0 was the newest.
    pyproject = path / "pyproject.toml"
    declared = pyproject.read_text(encoding="utf-8")
    pyproject.write_text(declared.replace('"structlog>=25.1"', '"structlog==25.1.0"'))
    subprocess.run(uv_lock, cwd=path, check=True, capture_output=True)
    pyproject.write_text(declared)
    commit(path, "Lock")
    # A dependency of the team's own, not locked yet.
    pyproject.write_text(
        declared.replace("dependencies = [\n", 'dependencies = [\n    "orjson>=3.10",\n')
    )
    commit(path, "Add orjson")

    result = update(path, "--vcs-ref=HEAD")

    assert "Conflicts to resolve" not in report(result.stdout)
    packages = locked(path)
    assert packages["structlog"] == "25.1.0"
    assert "orjson" in packages
    # Dependencies the template added since that release are locked too.
    assert "uv" in packages
    subprocess.run([*uv_lock, "--check"], cwd=path, check=True, capture_output=True)


# How each tool says its lock matches pyproject.toml.
LOCK_CHECK = {"uv": ("uv", "lock", "--check"), "poetry": ("poetry", "check", "--lock")}


@pytest.mark.parametrize("manager", list(MANAGERS))
def test_a_release_that_adds_a_dependency_is_locked_with_the_teams_own_and_keeps_the_pins(
    manager: str, template_repo: Path, tmp_path: Path
) -> None:
    template = tmp_path / "template"
    git("clone", "--quiet", str(template_repo), str(template), cwd=tmp_path)
    path = generate(template, tmp_path / "service", "HEAD", {"package_manager": manager})
    lock_file = MANAGERS[manager].lock_file
    assert git("ls-files", lock_file, cwd=path).strip() == lock_file
    # A lock made when structlog 25.1.0 was the newest, then a dependency of the team's
    # own that is not locked yet.
    pyproject = path / "pyproject.toml"
    declared = pyproject.read_text(encoding="utf-8")
    pyproject.write_text(declared.replace('"structlog>=25.1"', '"structlog==25.1.0"'))
    assert make("lock", path).returncode == 0
    pyproject.write_text(
        declared.replace("dependencies = [\n", 'dependencies = [\n    "orjson>=3.10",\n')
    )
    commit(path, "Pin structlog; add orjson")
    # The template's next commit adds a dependency of its own.
    registry = template / "extensions" / "registry.py"
    registry.write_text(
        registry.read_text(encoding="utf-8").replace(
            '"structlog>=25.1",\n', '"structlog>=25.1",\n        "humanize>=4.9",\n'
        )
    )
    git("commit", "--quiet", "--all", "-m", "Depend on humanize", cwd=template)

    result = update(path, "--vcs-ref=HEAD")

    assert "Conflicts to resolve" not in report(result.stdout)
    packages = locked(path, manager)
    assert packages["structlog"] == "25.1.0"
    assert {"orjson", "humanize"} <= set(packages)
    tool, *check = LOCK_CHECK[manager]
    subprocess.run([str(BIN / "python"), "-m", tool, *check], cwd=path, check=True)


# The README's render command starts by building the environment this one already is.
README_SETUP = (
    "python3 -m venv .venv",
    '.venv/bin/pip install -q --upgrade "pip>=25.1"',
    ".venv/bin/pip install -q --group render",
)


def readme_render_command() -> str:
    """The README's render command, after the environment it builds: with this one's tools."""
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    command = re.findall(r"```sh\n(.*?)\n```", readme, re.DOTALL)[0]
    steps = command.split(" && ")
    assert tuple(steps[: len(README_SETUP)]) == README_SETUP
    return " && ".join(steps[len(README_SETUP) :]).replace(".venv/bin/", f"{BIN}/")


def shell(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    # The shell sets $PWD from the directory it starts in, as in a terminal.
    env = {k: v for k, v in os.environ.items() if k != "PWD"}
    result = subprocess.run(
        ["sh", "-c", command], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"{command}:\n{result.stdout}{result.stderr}"
    return result


def tags(repository: Path) -> dict[str, str]:
    listed = git("tag", "--list", "--format=%(refname:short) %(objectname)", cwd=repository)
    return dict(line.split() for line in listed.splitlines())


def test_the_newcomers_path_render_a_release_later_update_then_turn_a_module_on(
    tmp_path: Path, service: Callable[[Path], Project]
) -> None:
    """The README's render in a clone without tags, then the generated guide to the letter."""
    template = template_repository(tmp_path / "template")
    recorded = {r.tag: r.commit for r in releases()}
    git("tag", "--delete", *recorded, cwd=template)

    shell(readme_render_command(), cwd=template)

    assert tags(template) == recorded
    path = tmp_path / "my-service"
    answers = yaml.safe_load((path / ".copier-answers.yml").read_text(encoding="utf-8"))
    assert answers["_src_path"] == str(template)
    assert answers["_commit"].startswith(f"{releases()[-1].tag}-")
    git("init", "--quiet", "--initial-branch=main", cwd=path)
    commit(path, "Start from the template")
    project = service(path)

    # A release later: a change, its CHANGELOG section, a tag. This clone lost its tags
    # again; the guide's steps before an update restore them.
    last = releases()[-1].version
    release = f"{last.major}.{last.minor + 1}.0"
    readme = template / "template/README.md.jinja"
    readme.write_text(readme.read_text(encoding="utf-8") + "\nReleased later.\n")
    changelog = template / "CHANGELOG.md"
    step = "Manual steps: read the release notes of the later release."
    changelog.write_text(
        changelog.read_text(encoding="utf-8").replace(
            "## Unreleased\n", f"## Unreleased\n\n## {release} (2026-12-01)\n\n{step}\n", 1
        )
    )
    commit(template, "A release later")
    git("tag", release, cwd=template)
    git("tag", "--delete", *recorded, cwd=template)
    guide = project.read("docs/updating.md")
    before = re.search(r"^TEMPLATE=.*\n.*\n(python3 .*release_tags\.py.*)$", guide, re.MULTILINE)
    assert before, guide
    shell(f"{before.group(0).splitlines()[0]} && {before.group(1)}", cwd=path)
    assert tags(template) == {**recorded, release: git("rev-parse", release, cwd=template).strip()}

    result = run_documented(path, documented(path, r"\.venv/bin/copier update --trust --defaults"))

    assert yaml.safe_load(project.read(".copier-answers.yml"))["_commit"] == release
    assert project.read("README.md").endswith("\nReleased later.\n")
    steps = report(result.stdout)["Manual steps from the template's CHANGELOG"]
    # Rendered from a commit after the last release: the report says some may be done.
    after = releases()[-1].tag
    note = f"(The project was at a commit after {after}: it may have some of these already.)"
    assert steps == [f"## {release} (2026-12-01)", step, note]
    commit(path, "Update from the template")

    switch_on = documented(path, r"\.venv/bin/copier update .*--data with_celery=true")
    result = run_documented(path, switch_on)

    answers = yaml.safe_load(project.read(".copier-answers.yml"))
    assert (answers["_commit"], answers["with_celery"]) == (release, True)
    assert (path / "app/worker/celery_app.py").exists()
    assert "CELERY_BROKER_URL" in " ".join(report(result.stdout)["New variables in .env.example"])
    commit(path, "Celery on")
    # The project is the template's at that release, whose every combination the matrix
    # tests: here the checks, and the tests that turning Celery on brought.
    celery_tests = sorted(str(p.relative_to(path)) for p in path.glob("tests/test_worker*.py"))
    assert celery_tests
    passes_its_checks(project, *celery_tests)


def test_release_tags_restores_missing_tags_and_refuses_a_wrong_one(tmp_path: Path) -> None:
    template = template_repository(tmp_path / "template")
    recorded = {r.tag: r.commit for r in releases()}
    git("tag", "--delete", *recorded, cwd=template)
    script = ["python3", "extensions/release_tags.py"]

    first = subprocess.run(script, cwd=template, capture_output=True, text=True, check=False)
    again = subprocess.run(script, cwd=template, capture_output=True, text=True, check=False)

    assert (first.returncode, again.returncode) == (0, 0)
    assert tags(template) == recorded
    assert first.stdout == f"Tagged the releases {', '.join(recorded)}.\n"
    assert again.stdout == "Every release in releases.toml has its tag.\n"

    tag = releases()[0].tag
    git("tag", "--force", tag, "HEAD", cwd=template)
    wrong = subprocess.run(script, cwd=template, capture_output=True, text=True, check=False)

    assert wrong.returncode == 1
    assert wrong.stderr.startswith(f"error: tag {tag} is on ")
    assert len(wrong.stderr.splitlines()) == 1
