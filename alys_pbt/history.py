"""The run history: every run appends its figures to one SQLite file (`--history PATH`), no server.

One table of figures, one row per (run, kind, name, metric): kind is `metrics` (per property:
examples, seconds, examples to first failure, ...), `coverage` (per folder and module: percent,
branch percent), `bench` (per benchmark: ops/s and ratio to the calibration workload) or `tests`
(outcome counts). Trends are a query away (`series`).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run TEXT PRIMARY KEY,
    started REAL NOT NULL,
    label TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS figures (
    run TEXT NOT NULL REFERENCES runs(run),
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    metric TEXT NOT NULL,
    value REAL NOT NULL,
    PRIMARY KEY (run, kind, name, metric)
);
"""
Figure = tuple[str, str, str, float]  # kind, name, metric, value


def connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path)
    db.executescript(SCHEMA)
    return db


def append(path: Path, figures: Iterable[Figure], *, run: str = "", label: str = "") -> str:
    """Store one run's figures; the run's id (its UTC time unless given)."""
    run = run or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    with connect(path) as db:
        db.execute("INSERT OR REPLACE INTO runs VALUES (?, ?, ?)", (run, time.time(), label))
        db.executemany(
            "INSERT OR REPLACE INTO figures VALUES (?, ?, ?, ?, ?)",
            [(run, kind, name, metric, float(value)) for kind, name, metric, value in figures],
        )
    db.close()
    return run


def series(path: Path, kind: str, metric: str) -> dict[str, list[tuple[str, float]]]:
    """name -> [(run, value), ...] in run order, for one kind and metric."""
    out: dict[str, list[tuple[str, float]]] = {}
    if not path.exists():
        return out
    db = connect(path)
    try:
        rows = db.execute(
            "SELECT f.name, f.run, f.value FROM figures f JOIN runs r ON r.run = f.run "
            "WHERE f.kind = ? AND f.metric = ? ORDER BY r.started, f.run",
            (kind, metric),
        ).fetchall()
    finally:
        db.close()
    for name, run, value in rows:
        out.setdefault(name, []).append((run, value))
    return out


def runs(path: Path) -> list[str]:
    if not path.exists():
        return []
    db = connect(path)
    try:
        return [r for (r,) in db.execute("SELECT run FROM runs ORDER BY started, run")]
    finally:
        db.close()


def metric_figures(records: Iterable[Mapping[str, Any]]) -> list[Figure]:
    """The history's figures of per-property metrics."""
    out: list[Figure] = []
    for r in records:
        name = r["property"]
        out.append(("metrics", name, "examples", r["examples"]))
        for key, value in r["seconds"].items():
            out.append(("metrics", name, f"seconds_{key}", value))
        if r["examples"]:
            total = r["seconds"]["generating"] + r["seconds"]["executing"] + r["seconds"]["gc"]
            out.append(("metrics", name, "examples_per_second", r["examples"] / total if total else 0.0))
        if r.get("first_failure"):
            out.append(("metrics", name, "examples_to_failure", r["first_failure"]["examples"]))
        out.append(("metrics", name, "shrink_steps", r["shrink"]["steps"]))
    return out
