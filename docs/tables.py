"""The tables of the docs that the registry (extensions/registry.py) decides.

Each table sits between `<!-- generated:NAME -->` and `<!-- end generated -->` in a page of
docs/, and is rewritten from the registry by

    python docs/tables.py            # rewrite every generated table
    python docs/tables.py --check    # exit 1, naming each stale table, if one is stale

NAME is one of TABLES: `modules` (the optional modules), `settings` (every environment
variable), `files` (the files each module owns), `touches` (the shared files a module
changes, from its `touches`) and `servers` (the web servers, extensions/servers.py). The
site (mkdocs.yml) leaves this script out.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from tests.footprint import owns  # noqa: E402  (also puts extensions/ on the path)

from registry import CORE, MODULES, Module, Setting  # noqa: E402  # isort: skip
from servers import SERVERS  # noqa: E402  # isort: skip

DOCS = REPO_ROOT / "docs"
BLOCK = re.compile(
    r"(?P<start><!-- generated:(?P<name>[\w-]+) -->\n)(?P<body>.*?)(?P<end><!-- end generated -->)",
    re.DOTALL,
)


def code(text: str) -> str:
    """`text` as a code span, with as many backticks around it as it needs."""
    ticks = "`"
    while ticks in text:
        ticks += "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def alternatives(items: Sequence[str]) -> str:
    """`a`, `b` or `c`."""
    return " or ".join([", ".join(items[:-1]), items[-1]] if len(items) > 1 else items)


def codes(items: Iterable[str], empty: str = "") -> str:
    return ", ".join(code(item) for item in items) or empty


def table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        lines.append("| " + " | ".join(cell.replace("|", r"\|") for cell in row) + " |")
    return "\n".join(lines) + "\n"


def everything() -> list[Module]:
    return [CORE, *MODULES.values()]


def modules_table() -> str:
    implied_by = {name: [m.name for m in MODULES.values() if name in m.implies] for name in MODULES}

    def question(module: Module) -> str:
        if module.question:
            return code(module.question)
        if module is CORE:
            return "(always on)"
        return f"(on when {alternatives([code(n) for n in implied_by[module.name]])} is)"

    def relations(module: Module) -> str:
        return f"implies {codes(module.implies)}" if module.implies else ""

    return table(
        ("module", "question", "summary", "implies", "dependencies"),
        (
            (
                code(m.name),
                question(m),
                m.summary,
                relations(m),
                codes(m.dependencies),
            )
            for m in everything()
        ),
    )


def default_text(setting: Setting) -> str:
    if not setting.app:
        return "(infrastructure only)"
    if setting.required:
        return "required"
    value = setting.default
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return code(str(value).lower())
    return code(str(value))


BOUNDS = {"ge": "≥", "gt": ">", "le": "≤"}


def values_text(setting: Setting) -> str:
    if setting.choices:
        return alternatives([code(choice) for choice in setting.choices])
    bounds = [
        f"{sign} {getattr(setting, name)}"
        for name, sign in BOUNDS.items()
        if getattr(setting, name) is not None
    ]
    text = {"SecretStr": "secret", "list[str]": "JSON list of strings"}.get(setting.type)
    return ", ".join([text or setting.type, *bounds])


def settings_table() -> str:
    return table(
        ("variable", "default", "values", "per project", "module", "meaning"),
        (
            (
                code(s.env),
                default_text(s),
                values_text(s),
                "yes" if s.local is not None else "no",
                code(m.name),
                s.doc,
            )
            for m in everything()
            for s in m.settings
        ),
    )


def files_table() -> str:
    return table(
        ("module", "files it owns (excluded when it is off)"),
        (
            (
                code(m.name),
                codes(m.files)
                + "".join(f"; with {code(o)}: {codes(ps)}" for o, ps in m.files_with.items()),
            )
            for m in MODULES.values()
        ),
    )


def touches_table() -> str:
    def owner(path: str) -> str:
        owners = [m.name for m in MODULES.values() if owns(m, path)]
        return " (owned by " + " and ".join(code(n) for n in owners) + ")" if owners else ""

    return table(
        ("module", "shared file", "what it adds there"),
        (
            (code(m.name), code(path) + owner(path), what)
            for m in MODULES.values()
            for path, what in m.touches.items()
        ),
    )


def servers_table() -> str:
    return table(
        ("`server`", "what runs the app", "workers by default", "dependencies"),
        (
            (code(s.name), s.summary, s.default_workers, codes(s.dependencies, "(none more)"))
            for s in SERVERS.values()
        ),
    )


TABLES: dict[str, Callable[[], str]] = {
    "modules": modules_table,
    "settings": settings_table,
    "files": files_table,
    "touches": touches_table,
    "servers": servers_table,
}


def regenerate(text: str, where: str) -> tuple[str, list[str]]:
    """The page with every generated table rebuilt, and the names of those that changed."""
    stale: list[str] = []

    def replace(match: re.Match[str]) -> str:
        name = match["name"]
        if name not in TABLES:
            raise SystemExit(f"{where}: unknown generated table {name!r} (known: {list(TABLES)})")
        body = TABLES[name]()
        if match["body"] != body:
            stale.append(name)
        return match["start"] + body + match["end"]

    return BLOCK.sub(replace, text), stale


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only report stale tables")
    parser.add_argument("--docs", type=Path, default=DOCS, help="the docs directory")
    args = parser.parse_args(argv)
    failed = False
    seen: set[str] = set()
    for page in sorted(args.docs.glob("*.md")):
        text = page.read_text(encoding="utf-8")
        seen.update(match["name"] for match in BLOCK.finditer(text))
        new, stale = regenerate(text, page.name)
        for name in stale:
            if args.check:
                print(
                    f"{page.name}: the generated table {name!r} is stale; run python docs/tables.py"
                )
                failed = True
            else:
                print(f"{page.name}: rewrote the generated table {name!r}")
        if stale and not args.check:
            page.write_text(new, encoding="utf-8")
    for name in TABLES:
        if name not in seen:
            print(f"the generated table {name!r} is in no page of {args.docs}")
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
