"""The option space of copier.yml: the rows of combinations the template is tested over.

It is derived from copier.yml and the module registry alone, so that a new question or a
new module joins the matrix without a change to the tests:

- a boolean question that switches a registry module on is a *toggle*. The rows form a
  covering array of strength 3: every combination of values of any three toggles that
  valid answers can hold is in at least one row. All toggles off, all on and copier.yml's
  defaults are rows too. Greedy rows, then a search for fewer: 10 for five toggles,
  the fewest there can be. The row count grows with the logarithm of the number of
  modules, not with 2^n (tests/unit/test_matrix.py checks it for 5, 10 and 15);
- a question with `choices` (the Python version, say) is a *neutral* option: it changes
  no code path, so it is not multiplied out. Each row gets a value of it instead, chosen
  so that every pair of values of any two options appears together in some row.
"""

from __future__ import annotations

import importlib.util
import itertools
import random
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml
from registry import Module

REPO_ROOT = Path(__file__).resolve().parents[1]
STRENGTH = 3
# Candidates tried for each new row; the seed keeps the rows, and so their names, the same
# in every run.
CANDIDATES = 30
SEED = 17

Value = tuple[str, Any]  # (question, answer)
Pair = tuple[Value, Value]


@dataclass(frozen=True)
class Combination:
    """One set of answers: a toggle per module question, a value per neutral option."""

    answers: Mapping[str, Any]
    modules: tuple[str, ...]  # the modules answered yes, in registry order
    neutral: tuple[Any, ...] = ()  # the values of the neutral options

    @property
    def name(self) -> str:
        """`auth+cache@3.12`: the modules on (or `bare`), then the neutral values."""
        return ("+".join(self.modules) or "bare") + "".join(f"@{v}" for v in self.neutral)


@dataclass(frozen=True)
class Matrix:
    toggles: dict[str, str]  # question -> module
    neutral: dict[str, tuple[Any, ...]]  # question -> its choices
    rows: tuple[Combination, ...]
    strength: int
    wanted: frozenset[tuple[Value, ...]]  # every tuple of `strength` toggle values
    wanted_pairs: frozenset[Pair]  # every pair of values of two options

    def row(self, name: str) -> Combination:
        return next(r for r in self.rows if r.name == name)

    def uncovered(self) -> set[tuple[Value, ...]]:
        """Toggle tuples that no row holds."""
        order = {q: i for i, q in enumerate(self.toggles)}
        held = {t for row in self.rows for t in _tuples(row.answers, order, self.strength)}
        return set(self.wanted) - held

    def uncovered_pairs(self) -> set[Pair]:
        """Pairs of option values that no row holds."""
        return set(self.wanted_pairs) - {p for row in self.rows for p in _pairs(row.answers)}


def load(root: Path = REPO_ROOT) -> Matrix:
    """The matrix of the template at `root`, with the registry that template holds."""
    questions = yaml.safe_load((root / "copier.yml").read_text(encoding="utf-8"))
    registry = _load_registry(root / "extensions" / "registry.py")
    return build(questions, registry.MODULES)


def synthetic(toggles: int) -> tuple[dict[str, Any], dict[str, Module]]:
    """Questions and a registry of `toggles` modules, beside copier.yml's
    neutral options: what the matrix would be with that many modules."""
    names = [f"m{i}" for i in range(toggles)]
    modules = {n: Module(name=n, question=f"with_{n}", summary="") for n in names}
    questions: dict[str, Any] = {f"with_{n}": {"type": "bool", "default": False} for n in names}
    real = yaml.safe_load((REPO_ROOT / "copier.yml").read_text(encoding="utf-8"))
    questions |= {q: s for q, s in real.items() if isinstance(s, dict) and "choices" in s}
    return questions, modules


def build(
    questions: Mapping[str, Any], modules: Mapping[str, Module], strength: int = STRENGTH
) -> Matrix:
    by_question = {m.question: m.name for m in modules.values() if m.question}
    toggles = {
        name: by_question[name]
        for name, spec in questions.items()
        if isinstance(spec, dict) and spec.get("type") == "bool" and name in by_question
    }
    neutral = {
        name: tuple(_choices(spec["choices"]))
        for name, spec in questions.items()
        if isinstance(spec, dict) and "choices" in spec
    }
    strength = min(strength, len(toggles))
    defaults = {q: bool(spec.get("default")) for q, spec in questions.items() if q in toggles}
    seeds = [dict.fromkeys(toggles, False), defaults, dict.fromkeys(toggles, True)]
    covering = _cover_tuples(tuple(toggles), strength, seeds)
    wanted_pairs = _wanted_pairs(tuple(toggles), neutral)
    rows = _cover_pairs(covering, neutral, wanted_pairs)
    return Matrix(
        toggles,
        neutral,
        tuple(_combination(answers, modules, values) for answers, values in rows),
        strength,
        frozenset(_all_tuples(tuple(toggles), strength)),
        frozenset(wanted_pairs),
    )


def _all_tuples(toggles: Sequence[str], size: int) -> set[tuple[Value, ...]]:
    """Every `size` toggle values, in toggle order."""
    return {
        tuple(zip(questions, answers, strict=True))
        for questions in itertools.combinations(toggles, size)
        for answers in itertools.product((False, True), repeat=size)
    }


def _cover_tuples(
    toggles: Sequence[str], strength: int, seeds: list[dict[str, bool]]
) -> list[dict[str, bool]]:
    """Rows that hold every tuple of `strength` toggle values: the seeds, then rows
    built greedily (AETG): each candidate starts from a tuple not yet held and gives the
    other toggles, in a shuffled order, the value that completes the most such tuples;
    the candidate that brings the most is kept."""
    order = {q: i for i, q in enumerate(toggles)}
    missing = _all_tuples(toggles, strength)
    rows: list[dict[str, bool]] = []
    rng = random.Random(SEED)

    def held(answers: Mapping[str, bool]) -> set[tuple[Value, ...]]:
        return _tuples(answers, order, strength) & missing

    def candidate(start: tuple[Value, ...]) -> dict[str, bool]:
        answers = dict(start)
        rest = [q for q in toggles if q not in answers]
        rng.shuffle(rest)
        for question in rest:
            answers[question] = max(
                (False, True),
                key=lambda v: (_gain(answers, question, v, order, strength, missing), rng.random()),
            )
        return dict(sorted(answers.items(), key=lambda kv: order[kv[0]]))

    for seed in seeds:
        if seed not in rows:
            rows.append(seed)
            missing -= held(seed)
    while missing:
        ordered = sorted(missing)
        starts = [ordered[0], *rng.sample(ordered, min(CANDIDATES - 1, len(ordered)))]
        best = max((candidate(s) for s in starts), key=lambda a: len(held(a)))
        rows.append(best)
        missing -= held(best)
    return _shrink(rows, len(seeds), tuple(toggles), strength, rng)


def _shrink(
    rows: list[dict[str, bool]],
    fixed: int,
    toggles: tuple[str, ...],
    strength: int,
    rng: random.Random,
) -> list[dict[str, bool]]:
    """Fewer rows, while a search finds them: the greedy rows are rarely the fewest (12
    where 10 hold every three of five toggles). Drop the row that holds the fewest
    tuples alone, then repair: while a tuple is missing, write it into the row (not a
    seed) where that loses the fewest tuples held nowhere else."""
    cover = _Cover(len(toggles), strength)
    table = [[row[q] for q in toggles] for row in rows]
    while len(table) > fixed + 1:
        counts = cover.counts(table)
        alone = [sum(counts[k] == 1 for k in cover.keys(row)) for row in table[fixed:]]
        trial = [list(row) for row in table]
        del trial[fixed + alone.index(min(alone))]
        if not cover.repair(trial, fixed, rng):
            break
        table = trial
    unique = list(dict.fromkeys(tuple(row) for row in table))
    return [dict(zip(toggles, row, strict=True)) for row in unique]


# Moves the repair may take before it gives up on one row fewer.
REPAIR_STEPS = 100


class _Cover:
    """The tuples of `strength` toggle values as numbers: a combination of toggles (by
    index) times 2^strength, plus the values as bits."""

    def __init__(self, width: int, strength: int) -> None:
        self.combos = list(itertools.combinations(range(width), strength))
        self.size = 1 << strength
        self.touching = [
            [n for n, combo in enumerate(self.combos) if i in combo] for i in range(width)
        ]

    def key(self, n: int, row: Sequence[bool]) -> int:
        bits = 0
        for i in self.combos[n]:
            bits = bits << 1 | row[i]
        return n * self.size + bits

    def keys(self, row: Sequence[bool]) -> list[int]:
        return [self.key(n, row) for n in range(len(self.combos))]

    def counts(self, table: list[list[bool]]) -> list[int]:
        counts = [0] * (len(self.combos) * self.size)
        for row in table:
            for k in self.keys(row):
                counts[k] += 1
        return counts

    def repair(self, table: list[list[bool]], fixed: int, rng: random.Random) -> bool:
        """Change the rows after the first `fixed` until every tuple is held, or give up."""
        counts = self.counts(table)
        missing = {k for k, n in enumerate(counts) if n == 0}
        for _ in range(REPAIR_STEPS):
            if not missing:
                return True
            key = rng.choice(sorted(missing))
            combo, bits = self.combos[key // self.size], key % self.size
            width = len(combo)
            wanted = {i: bool(bits >> (width - 1 - j) & 1) for j, i in enumerate(combo)}

            def change(row: list[bool], wanted: dict[int, bool] = wanted) -> set[int]:
                return {n for i, v in wanted.items() if row[i] != v for n in self.touching[i]}

            def cost(row: list[bool], wanted: dict[int, bool] = wanted) -> tuple[int, float]:
                after = [wanted.get(i, v) for i, v in enumerate(row)]
                combos = change(row)
                lost = sum(counts[self.key(n, row)] == 1 for n in combos)
                gained = sum(counts[self.key(n, after)] == 0 for n in combos)
                return lost - gained, rng.random()

            row = min(table[fixed:], key=cost)
            combos = change(row)
            for n in combos:
                counts[k := self.key(n, row)] -= 1
                if counts[k] == 0:
                    missing.add(k)
            for i, v in wanted.items():
                row[i] = v
            for n in combos:
                counts[k := self.key(n, row)] += 1
                missing.discard(k)
        return not missing


def _gain(
    answers: Mapping[str, bool],
    question: str,
    value: bool,
    order: Mapping[str, int],
    strength: int,
    missing: set[tuple[Value, ...]],
) -> int:
    """How many missing tuples `question=value` completes with the toggles already set."""
    count = 0
    for others in itertools.combinations(answers.items(), strength - 1):
        values = tuple(sorted(((question, value), *others), key=lambda kv: order[kv[0]]))
        count += values in missing
    return count


def _tuples(
    answers: Mapping[str, Any], order: Mapping[str, int], size: int
) -> set[tuple[Value, ...]]:
    toggles = sorted(((q, answers[q]) for q in order), key=lambda kv: order[kv[0]])
    return set(itertools.combinations(toggles, size))


def _cover_pairs(
    covering: list[dict[str, bool]],
    neutral: Mapping[str, tuple[Any, ...]],
    wanted: set[Pair],
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Give each row neutral values, greedily covering new pairs first and spreading the
    values evenly after that; add rows while a pair is still never seen."""
    choices = _neutral_choices(neutral)
    covered: set[Pair] = set()
    rows: list[tuple[dict[str, Any], dict[str, Any]]] = []

    def gain(toggles: dict[str, bool], values: dict[str, Any]) -> tuple[int, int]:
        uses = sum(row[k] == v for row, _ in rows for k, v in values.items())
        return len((_pairs({**toggles, **values}) & wanted) - covered), -uses

    def add(toggles: dict[str, bool], values: dict[str, Any]) -> None:
        answers = {**toggles, **values}
        covered.update(_pairs(answers))
        rows.append((answers, values))

    for toggles in covering:
        add(toggles, max(choices, key=lambda values: gain(toggles, values)))
    rows = _repair_pairs(rows, choices, wanted)
    covered = {p for answers, _ in rows for p in _pairs(answers)}
    while wanted - covered:
        add(*max(itertools.product(covering, choices), key=lambda tv: gain(*tv)))
    return rows


def _repair_pairs(
    rows: list[tuple[dict[str, Any], dict[str, Any]]],
    choices: list[dict[str, Any]],
    wanted: set[Pair],
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Before a row is added for a pair still missing, other neutral values in the rows
    there are: one row at a time, the change that leaves the fewest pairs missing."""

    def missing(candidate: list[tuple[dict[str, Any], dict[str, Any]]]) -> int:
        return len(wanted - {p for answers, _ in candidate for p in _pairs(answers)})

    left = missing(rows)
    for _ in range(len(rows) * len(choices)):
        if not left:
            break
        options = [
            [*rows[:i], ({**answers, **values}, values), *rows[i + 1 :]]
            for i, (answers, _) in enumerate(rows)
            for values in choices
        ]
        best = min(options, key=missing)
        if missing(best) >= left:
            break
        rows, left = best, missing(best)
    return _search_pairs(rows, choices, wanted) if left else rows


# Moves the search for neutral values may make before a row is added instead.
PAIR_SEARCH_STEPS = 2000


def _search_pairs(
    rows: list[tuple[dict[str, Any], dict[str, Any]]],
    choices: list[dict[str, Any]],
    wanted: set[Pair],
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Where the greedy moves are stuck: min-conflicts. Take a pair still missing, and give
    a row that can hold it the neutral values that hold it with the fewest pairs missing
    overall, even when that is more than before; keep the best rows seen."""
    rng = random.Random(SEED)
    neutral_names = set(choices[0])
    values = [dict(values) for _, values in rows]
    toggles = [{k: v for k, v in answers.items() if k not in neutral_names} for answers, _ in rows]

    def missing_pairs(candidate: list[dict[str, Any]]) -> set[Pair]:
        held = {p for t, v in zip(toggles, candidate, strict=True) for p in _pairs({**t, **v})}
        return wanted - held

    left = missing_pairs(values)
    best = (len(left), [dict(v) for v in values])
    for _ in range(PAIR_SEARCH_STEPS):
        if not left:
            break
        pair = rng.choice(sorted(left, key=repr))
        moves = [
            (i, choice)
            for i, row in enumerate(toggles)
            for choice in choices
            if all({**row, **choice}[q] == v for q, v in pair)
        ]
        scored = []
        for i, choice in moves:
            trial = [*values[:i], choice, *values[i + 1 :]]
            scored.append((len(missing_pairs(trial)), rng.random(), i, choice))
        if not scored:
            break
        _, _, i, choice = min(scored, key=lambda score: score[:2])
        values[i] = choice
        left = missing_pairs(values)
        if len(left) < best[0]:
            best = (len(left), [dict(v) for v in values])
    return [({**t, **v}, v) for t, v in zip(toggles, best[1], strict=True)]


def _wanted_pairs(toggles: Sequence[str], neutral: Mapping[str, tuple[Any, ...]]) -> set[Pair]:
    """Every pair of values of two options."""
    values = [(q, v) for q in toggles for v in (False, True)]
    values += [(q, v) for q, choices in neutral.items() for v in choices]
    return {
        pair
        for pair in itertools.combinations(sorted(values, key=_key), 2)
        if pair[0][0] != pair[1][0]
    }


def _combination(
    answers: Mapping[str, Any],
    modules: Mapping[str, Module],
    neutral: Mapping[str, Any],
) -> Combination:
    on = tuple(m.name for m in modules.values() if m.question and answers.get(m.question))
    return Combination(dict(answers), on, tuple(neutral.values()))


def _neutral_choices(neutral: Mapping[str, tuple[Any, ...]]) -> list[dict[str, Any]]:
    return [dict(zip(neutral, v, strict=True)) for v in itertools.product(*neutral.values())]


def _key(value: Value) -> tuple[str, str]:
    return value[0], repr(value[1])


def _pairs(answers: Mapping[str, Any]) -> set[Pair]:
    return set(itertools.combinations(sorted(answers.items(), key=_key), 2))


def _choices(spec: list[Any] | dict[str, Any]) -> list[Any]:
    # Copier takes choices as a list of values or as a mapping of labels to values.
    return list(spec.values()) if isinstance(spec, dict) else list(spec)


def _load_registry(path: Path) -> ModuleType:
    """The registry module of a template, even of a copy of this one."""
    if path == REPO_ROOT / "extensions" / "registry.py":
        import registry

        return registry
    name = f"registry_{abs(hash(path))}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # Dataclasses look their module up by name while they are being created.
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
