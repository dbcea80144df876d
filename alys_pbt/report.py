"""One self-contained HTML report of a run (`--report PATH`), and the coverage gate.

The report works offline: no script, style sheet or font from anywhere else; every plot is
matplotlib's own SVG, inline. Its sections (each a `<section id=...>`, which the browser test
checks, tests/test_report_browser.py):

- `summary`: per area, tests passed, failed, expected failures (xfailed), skipped;
- `findings`: each quirk and library deviation, its verdict, the shrunk counterexample of each
  property that caught it and the rule's origin (alys_pbt/plugin.py findings());
- `killmatrix`: the kill matrix as a heat map (deviation x property, kills over seeds), from
  `killmatrix.json` beside the report (`python -m alys_pbt.report killmatrix`), else the declared pairs;
- `properties`: per-property statistics from Hypothesis's observations (alys_pbt/metrics.py), with
  plots: time per example, examples to the first failure, event distributions;
- `coverage`: branch coverage per folder and module (pytest-cov), the HTML coverage report linked;
- `benchmarks`: figures (ratios to the calibration workload) against benchmarks/baseline.json, from
  `benchmarks.json` beside the report (pytest-benchmark's `--benchmark-json`);
- `trends`: from the SQLite history (`--history`).

    python -m alys_pbt.report build --data DIR/report-data.json --out DIR/report.html [--history H]
    python -m alys_pbt.report gate COVERAGE_DATA --min 90     # per folder: fails below
    python -m alys_pbt.report killmatrix --seeds 2 --only TEXT --out DIR/killmatrix.json
"""

from __future__ import annotations

import argparse
import html
import io
import json
import math
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from alys_pbt import bench, history, metrics
from alys_pbt.strategies.invalid import AREAS

SECTIONS = ("summary", "findings", "killmatrix", "properties", "coverage", "benchmarks", "trends")
FOLDERS = ("alys", "models")  # coverage is gated per folder
DATA = "report-data.json"
_outcomes: dict[str, dict[str, str]] = {}  # nodeid -> {"outcome", "area"} (the controller's)
_stamp = pytest.StashKey[str]()


# --- collecting, in the pytest run -------------------------------------------------------------


def _area(report: pytest.TestReport) -> str:
    for name in AREAS:
        if name in report.keywords:
            return name
    return report.nodeid.split("/", 1)[0] if "/" in report.nodeid else "other"


def pytest_configure(config: pytest.Config) -> None:
    _outcomes.clear()
    config.stash[_stamp] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    outcome = ""
    xfail = hasattr(report, "wasxfail")
    if report.when == "setup" and report.skipped:
        outcome = "xfailed" if xfail else "skipped"
    elif report.when == "call":
        outcome = ("xfailed" if report.skipped else "xpassed") if xfail else report.outcome
    elif report.failed:  # an error in setup or teardown
        outcome = "error"
    if outcome:
        _outcomes[report.nodeid] = {"outcome": outcome, "area": _area(report)}


def _findings_data() -> list[dict[str, Any]]:
    from alys_pbt import plugin

    rows = []
    for deviation, verdict, results in plugin.findings():
        if verdict == "not run" and deviation.kind not in ("quirk", "foreign"):
            continue
        rows.append(
            {
                "id": deviation.id,
                "kind": deviation.kind,
                "area": getattr(deviation, "component", ""),
                "summary": deviation.summary,
                "source": deviation.source,
                "verdict": verdict,
                "results": [
                    {
                        "property": nodeid,
                        "caught": bool(r.get("caught")),
                        "may": bool(r.get("may")),
                        "example": r.get("example", ""),
                        "error": r.get("error", ""),
                    }
                    for nodeid, r in results
                ],
            }
        )
    return rows


def _coverage_plugin_data(config: pytest.Config) -> str | None:
    """The data file pytest-cov wrote this run (combined across xdist workers), if it ran."""
    plugin = config.pluginmanager.getplugin("_cov")
    controller = getattr(plugin, "cov_controller", None)
    cov = getattr(controller, "cov", None)
    if cov is None:
        return None
    return str(cov.config.data_file)


def coverage_figures(data_file: str, *, html_dir: Path | None = None) -> dict[str, Any]:
    """Per folder and per module: statements, branches, their coverage (coverage.py's JSON report);
    the HTML coverage report written to `html_dir` if given."""
    import coverage as coverage_py

    cov = coverage_py.Coverage(data_file=data_file)
    cov.load()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "coverage.json"
        cov.json_report(outfile=str(out))
        raw = json.loads(out.read_text())
    if html_dir is not None:
        cov.html_report(directory=str(html_dir), title="alys-pbt coverage")
    modules: dict[str, dict[str, float]] = {}
    folders: dict[str, dict[str, float]] = {}
    for path, entry in raw["files"].items():
        s = entry["summary"]
        rel = _relative(path)
        folder = rel.split("/", 1)[0]
        row = {
            "statements": s["num_statements"],
            "covered_lines": s["covered_lines"],
            "branches": s.get("num_branches", 0),
            "covered_branches": s.get("covered_branches", 0),
        }
        modules[rel] = _percents(row)
        total = folders.setdefault(folder, dict.fromkeys(row, 0))
        for key, value in row.items():
            total[key] += value
    return {
        "modules": dict(sorted(modules.items())),
        "folders": {k: _percents(v) for k, v in sorted(folders.items())},
    }


def _relative(path: str) -> str:
    parts = Path(path).parts
    for i, part in enumerate(parts):
        if part in FOLDERS:
            return "/".join(parts[i:])
    return path


def _percents(row: Mapping[str, float]) -> dict[str, float]:
    out = dict(row)
    units = row["statements"] + row["branches"]
    out["percent"] = 100.0 * (row["covered_lines"] + row["covered_branches"]) / units if units else 100.0
    out["branch_percent"] = 100.0 * row["covered_branches"] / row["branches"] if row["branches"] else 100.0
    return out


def gate(figures: Mapping[str, Any], minimum: float) -> list[str]:
    """One line per gated folder under `minimum` percent (coverage.py's branch-mode figure:
    statements and branches together, as `coverage report` prints it); a folder not measured too."""
    problems = []
    for folder in FOLDERS:
        row = figures["folders"].get(folder)
        if row is None:
            problems.append(f"{folder}/: not measured")
        elif row["percent"] < minimum:
            problems.append(f"{folder}/: {row['percent']:.1f}% < {minimum:g}%")
    return problems


def _benchmarks_beside(directory: Path) -> dict[str, Any] | None:
    path = directory / "benchmarks.json"
    return json.loads(path.read_text()) if path.exists() else None


def collect(config: pytest.Config, directory: Path) -> dict[str, Any]:
    """Everything the report shows, as JSON (written beside the report as report-data.json)."""
    data_file = _coverage_plugin_data(config)
    cov = coverage_figures(data_file, html_dir=directory / "coverage") if data_file else None
    killmatrix = directory / "killmatrix.json"
    return {
        "run": config.stash[_stamp],
        "target": _target_name(),
        "outcomes": dict(sorted(_outcomes.items())),
        "findings": _findings_data(),
        "metrics": list(metrics.merged().values()),
        "coverage": cov,
        "killmatrix": with_declared(json.loads(killmatrix.read_text()))
        if killmatrix.exists()
        else declared_matrix(),
        "benchmarks": _benchmarks_beside(directory),
    }


def _target_name() -> str:
    from alys_pbt import plugin

    target = plugin._state.get("target")
    return str(getattr(target, "name", ""))


def history_figures(data: Mapping[str, Any]) -> list[history.Figure]:
    figures = history.metric_figures(data.get("metrics") or [])
    counts: dict[str, int] = {}
    for entry in data.get("outcomes", {}).values():
        counts[entry["outcome"]] = counts.get(entry["outcome"], 0) + 1
    figures += [("tests", "all", outcome, n) for outcome, n in counts.items()]
    cov = data.get("coverage")
    if cov:
        for scope in ("folders", "modules"):
            for name, row in cov[scope].items():
                figures += [("coverage", name, "percent", row["percent"])]
                figures += [("coverage", name, "branch_percent", row["branch_percent"])]
    if data.get("benchmarks"):
        for name, row in bench.figures(data["benchmarks"]).items():
            figures += [("bench", name, key, value) for key, value in row.items()]
    return figures


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    if hasattr(config, "workerinput"):
        return
    report_path = config.getoption("report", None)
    history_path = config.getoption("history", None)
    if not report_path and not history_path:
        return
    directory = Path(report_path).parent if report_path else Path(tempfile.mkdtemp())
    directory.mkdir(parents=True, exist_ok=True)
    data = collect(config, directory)
    if not data["benchmarks"]:
        bench_json = getattr(config.getoption("benchmark_json", None), "name", None)
        if bench_json and Path(bench_json).exists():
            data["benchmarks"] = json.loads(Path(bench_json).read_text())
    if history_path:
        history.append(Path(history_path), history_figures(data), run=data["run"], label=data["target"])
    if report_path:
        (directory / DATA).write_text(json.dumps(data, indent=1, default=str))
        Path(report_path).write_text(render(data, history_path=Path(history_path) if history_path else None))
        config.stash[_WRITTEN] = report_path


_WRITTEN = pytest.StashKey[str]()


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    written = config.stash.get(_WRITTEN, None)
    if written:
        terminalreporter.write_line(f"alys-pbt report written to {written}")


# --- the kill matrix -----------------------------------------------------------------------------


def declared_matrix() -> dict[str, Any]:
    """The declared (deviation, property) pairs, no seeds run: the heat map's frame."""
    from alys_pbt.killmatrix_plugin import selected

    pairs = [{"deviation": p.deviation, "property": p.function, "kills": 0, "seeds": 0} for p in selected()]
    return {"seeds": 0, "pairs": pairs}


def with_declared(matrix: Mapping[str, Any]) -> dict[str, Any]:
    """`matrix` (a run of some pairs) with every other declared pair added as not run (grey)."""
    seen = {(p["deviation"], p["property"]) for p in matrix["pairs"]}
    rest = [p for p in declared_matrix()["pairs"] if (p["deviation"], p["property"]) not in seen]
    return {**matrix, "pairs": [*matrix["pairs"], *rest]}


def run_killmatrix(*, seeds: int, only: str, workers: str) -> dict[str, Any]:
    """Run the kill matrix (alys_pbt/killmatrix.py) and keep its table as JSON."""
    from alys_pbt import killmatrix
    from alys_pbt.killmatrix_plugin import selected

    code, results = killmatrix.run_items(killmatrix.pytest_args(seeds=seeds, only=only, workers=workers))
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        raise SystemExit(f"pytest stopped before the kill matrix ran (exit code {code})")
    pairs = []
    for pair, row in killmatrix.rows(selected(only=only), results):
        pairs.append(
            {
                "deviation": "+".join((*pair.jointly, pair.deviation)),
                "property": pair.function,
                "kills": row["kills"],
                "seeds": row["seeds"],
                "examples": None if math.isnan(row["examples"]) else row["examples"],
                "seconds": None if math.isnan(row["seconds"]) else row["seconds"],
                "shrunk": row["shrunk"],
                "errors": list(row["errors"]),
            }
        )
    return {"seeds": seeds, "only": only, "pairs": pairs}


# --- plots (matplotlib, inline SVG) --------------------------------------------------------------


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams["svg.fonttype"] = "none"  # text stays text: small, searchable
    matplotlib.rcParams["svg.hashsalt"] = "alys-pbt"  # the same ids on every run
    import matplotlib.pyplot as plt

    return plt


def _svg(fig: Any) -> str:
    plt = _pyplot()
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    plt.close(fig)
    text = buf.getvalue()
    return '<div class="plot">' + text[text.index("<svg") :] + "</div>"


def _short(name: str, width: int = 60) -> str:
    name = name.split("::", 1)[-1] if "::" in name else name
    return name if len(name) <= width else name[: width - 1] + "…"


def plot_outcomes(by_area: Mapping[str, Mapping[str, int]]) -> str:
    plt = _pyplot()
    kinds = ("passed", "xfailed", "skipped", "failed", "xpassed", "error")
    colours = ("#2e7d32", "#f9a825", "#9e9e9e", "#c62828", "#6a1b9a", "#000000")
    areas = list(by_area)
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(areas) + 1.2))
    left = [0] * len(areas)
    for kind, colour in zip(kinds, colours, strict=True):
        counts = [by_area[a].get(kind, 0) for a in areas]
        ax.barh(areas, counts, left=left, color=colour, label=kind)
        left = [x + c for x, c in zip(left, counts, strict=True)]
    ax.set_xlabel("tests")
    ax.invert_yaxis()
    ax.legend(loc="lower right", fontsize=8)
    return _svg(fig)


def plot_time_per_example(records: Sequence[Mapping[str, Any]], top: int = 20) -> str:
    plt = _pyplot()
    chosen = sorted(
        (r for r in records if r["per_example_seconds"]),
        key=lambda r: -sum(r["per_example_seconds"]),
    )[:top]
    fig, ax = plt.subplots(figsize=(8, 0.3 * len(chosen) + 1.2))
    if chosen:
        data = [[max(s * 1000, 1e-3) for s in r["per_example_seconds"]] for r in chosen]
        ax.boxplot(data, orientation="horizontal", showfliers=False)
        ax.set_yticks(range(1, len(chosen) + 1), [_short(r["property"]) for r in chosen], fontsize=7)
        ax.set_xscale("log")
        ax.invert_yaxis()
    ax.set_xlabel("milliseconds per example (Hypothesis's timings: generate + execute + gc)")
    ax.set_title(f"time per example, the {len(chosen)} most expensive properties", fontsize=9)
    return _svg(fig)


def plot_examples_to_failure(records: Sequence[Mapping[str, Any]]) -> str:
    plt = _pyplot()
    failing = [r for r in records if r.get("first_failure")]
    failing.sort(key=lambda r: -r["first_failure"]["examples"])
    failing = failing[:30]
    fig, ax = plt.subplots(figsize=(8, 0.3 * len(failing) + 1.2))
    if failing:
        ax.barh(
            [_short(r["property"]) for r in failing],
            [r["first_failure"]["examples"] for r in failing],
            color="#c62828",
        )
        ax.tick_params(axis="y", labelsize=7)
        ax.invert_yaxis()
    ax.set_xlabel("examples to the first failure")
    ax.set_title(f"{len(failing)} properties that failed (expected failures included)", fontsize=9)
    return _svg(fig)


def plot_events(record: Mapping[str, Any], top: int = 12) -> str:
    plt = _pyplot()
    events = sorted(record["events"].items(), key=lambda kv: -kv[1])[:top]
    fig, ax = plt.subplots(figsize=(6, 0.28 * len(events) + 1.0))
    ax.barh([_short(k, 50) for k, _ in events], [v for _, v in events], color="#1565c0")
    ax.tick_params(axis="y", labelsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("examples")
    ax.set_title(_short(record["property"], 70), fontsize=8)
    return _svg(fig)


def plot_killmatrix(matrix: Mapping[str, Any]) -> str:
    plt = _pyplot()
    pairs = matrix["pairs"]
    devs = sorted({p["deviation"] for p in pairs})
    props = sorted({p["property"] for p in pairs})
    grid = [[math.nan] * len(props) for _ in devs]
    for p in pairs:
        value = p["kills"] / p["seeds"] if p["seeds"] else -0.0001  # declared, not run
        grid[devs.index(p["deviation"])][props.index(p["property"])] = value
    import numpy as np

    arr = np.ma.masked_invalid(np.array(grid, dtype=float))
    fig, ax = plt.subplots(figsize=(max(6, 0.16 * len(props) + 3), max(3, 0.16 * len(devs) + 2)))
    cmap = plt.get_cmap("RdYlGn").with_extremes(under="#bdbdbd", bad="white")
    image = ax.imshow(arr, aspect="auto", cmap=cmap, vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.set_yticks(range(len(devs)), devs, fontsize=5)
    ax.set_xticks(range(len(props)), [_short(p, 40) for p in props], fontsize=4, rotation=90)
    fig.colorbar(image, ax=ax, label="kills / seeds (grey: declared, not run)", fraction=0.03)
    ax.set_title(f"kill matrix: {len(devs)} deviations x {len(props)} properties", fontsize=9)
    return _svg(fig)


def plot_coverage(modules: Mapping[str, Mapping[str, float]]) -> str:
    plt = _pyplot()
    names = list(modules)
    fig, ax = plt.subplots(figsize=(8, 0.22 * len(names) + 1.2))
    ax.barh(names, [modules[n]["percent"] for n in names], color="#2e7d32", label="statements + branches")
    ax.barh(
        names, [modules[n]["branch_percent"] for n in names], color="#81c784", height=0.4, label="branches"
    )
    ax.tick_params(axis="y", labelsize=6)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.axvline(90, color="#c62828", linestyle="--", linewidth=1)
    ax.set_xlabel("% covered")
    ax.legend(loc="lower left", fontsize=7)
    return _svg(fig)


def plot_benchmarks(rows: Mapping[str, Mapping[str, float]], baseline: Mapping[str, float]) -> str:
    plt = _pyplot()
    names = sorted(rows)
    change = [100.0 * (rows[n]["ratio"] / baseline[n] - 1.0) if n in baseline else 0.0 for n in names]
    fig, ax = plt.subplots(figsize=(8, 0.3 * len(names) + 1.2))
    colours = ["#c62828" if c < -100 * bench.TOLERANCE else "#2e7d32" for c in change]
    ax.barh([_short(n, 50) for n in names], change, color=colours)
    ax.axvline(-100 * bench.TOLERANCE, color="#c62828", linestyle="--", linewidth=1)
    ax.axvline(0, color="black", linewidth=0.8)
    ax.tick_params(axis="y", labelsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("% change of the ratio to calibration vs the committed baseline")
    return _svg(fig)


def plot_trends(series: Mapping[str, Sequence[tuple[str, float]]], ylabel: str) -> str:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 3.2))
    for name, points in sorted(series.items())[:12]:
        ax.plot(range(len(points)), [v for _, v in points], marker="o", label=_short(name, 40))
    ax.set_xlabel("run (oldest first)")
    ax.set_ylabel(ylabel)
    if series:
        ax.legend(fontsize=6, loc="best")
    return _svg(fig)


# --- the page ------------------------------------------------------------------------------------

CSS = " ".join(
    [
        "body{font-family:system-ui,sans-serif;margin:0 auto;max-width:1200px;padding:1em 2em;color:#212121}",
        "h1{font-size:1.6em}h2{border-bottom:2px solid #1565c0;padding-bottom:.2em;margin-top:2em}",
        "table{border-collapse:collapse;font-size:.85em;margin:.5em 0}",
        "th,td{border:1px solid #ddd;padding:.2em .5em;text-align:right}th{background:#f5f5f5}",
        "td.l,th.l{text-align:left}.plot svg{max-width:100%;height:auto}",
        "pre{background:#fafafa;border:1px solid #eee;padding:.5em;overflow-x:auto;font-size:.8em;",
        "max-height:24em}",
        ".caught{color:#2e7d32;font-weight:bold}.missed{color:#c62828;font-weight:bold}",
        "nav a{margin-right:1em}details{margin:.3em 0}.note{color:#616161;font-size:.9em}.bad{color:#c62828}",
    ]
)


def _e(value: Any) -> str:
    return html.escape(str(value))


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]], left: int = 1) -> str:
    head = "".join(f'<th class="{"l" if i < left else ""}">{_e(h)}</th>' for i, h in enumerate(header))
    body = "".join(
        "<tr>"
        + "".join(f'<td class="{"l" if i < left else ""}">{_e(c)}</td>' for i, c in enumerate(r))
        + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _summary(data: Mapping[str, Any]) -> str:
    by_area: dict[str, dict[str, int]] = {}
    for entry in data.get("outcomes", {}).values():
        counts = by_area.setdefault(entry["area"], {})
        counts[entry["outcome"]] = counts.get(entry["outcome"], 0) + 1
    kinds = ("passed", "failed", "xfailed", "xpassed", "skipped", "error")
    counts_of = [[c.get(k, 0) for k in kinds] + [sum(c.values())] for _, c in sorted(by_area.items())]
    totals = [sum(column) for column in zip(*counts_of, strict=True)] if counts_of else []
    rows: list[list[Any]] = [[area, *n] for area, n in zip(sorted(by_area), counts_of, strict=True)]
    out = _table(["area", *kinds, "total"], [*rows, ["all", *totals]])
    return out + (plot_outcomes(dict(sorted(by_area.items()))) if by_area else "<p>No test ran.</p>")


def _findings(data: Mapping[str, Any]) -> str:
    rows = data.get("findings") or []
    if not rows:
        return "<p>No known deviation was exercised on this run.</p>"
    out = [
        _table(
            ["deviation", "kind", "area", "verdict", "properties"],
            [[r["id"], r["kind"], r["area"], r["verdict"], len(r["results"])] for r in rows],
            left=3,
        )
    ]
    for r in rows:
        css = "caught" if r["verdict"] == "caught" else "missed" if r["verdict"] == "NOT caught" else ""
        out.append(
            f'<details class="finding"><summary><code>{_e(r["id"])}</code> '
            f'<span class="{css}">{_e(r["verdict"])}</span>: {_e(r["summary"])}</summary>'
        )
        out.append(f'<p class="note">Origin: {_e(r["source"])}</p>')
        for res in r["results"]:
            what = "error in" if res["error"] else "caught by" if res["caught"] else "missed by"
            out.append(f"<p>{_e(what)} <code>{_e(res['property'])}</code></p>")
            text = res["error"] or res["example"]
            if text:
                out.append(f'<pre class="counterexample">{_e(text)}</pre>')
        out.append("</details>")
    return "\n".join(out)


def _killmatrix(data: Mapping[str, Any]) -> str:
    matrix = data.get("killmatrix")
    if not matrix or not matrix.get("pairs"):
        return "<p>No kill matrix pairs.</p>"
    ran = sum(1 for p in matrix["pairs"] if p["seeds"])
    note = f"{len(matrix['pairs'])} declared pairs, {ran} run here" + (
        f" ({matrix['seeds']} seeds each, pairs matching {matrix.get('only') or 'anything'!r})" if ran else ""
    )
    if ran < len(matrix["pairs"]):
        note += (
            "; grey: not run here (`python -m alys_pbt.report killmatrix --seeds N --out "
            "DIR/killmatrix.json` beside the report runs them)"
        )
    rows = [
        [
            p["deviation"],
            _short(p["property"], 80),
            f"{p['kills']}/{p['seeds']}",
            "" if p.get("examples") is None else f"{p['examples']:.1f}",
            p.get("shrunk", ""),
        ]
        for p in matrix["pairs"]
        if p["seeds"]
    ]
    table = _table(["deviation", "property", "killed", "median examples", "shrunk lines"], rows, left=2)
    return f'<p class="note">{_e(note)}</p>' + plot_killmatrix(matrix) + (table if rows else "")


def _properties(data: Mapping[str, Any]) -> str:
    records = data.get("metrics") or []
    if not records:
        return "<p>No Hypothesis observations (run with --metrics, --report or --history).</p>"
    rows = []
    for r in records:
        s = r["seconds"]
        ff = r.get("first_failure")
        ce = r.get("counterexample")
        rows.append(
            [
                r["property"],
                r.get("outcome", ""),
                r["examples"],
                r["status"].get("valid", 0),
                r["status"].get("invalid", 0),
                r["status"].get("overrun", 0),
                r["status"].get("interesting", 0),
                f"{s['generating']:.3f}",
                f"{s['executing']:.3f}",
                f"{s['shrinking']:.3f}",
                "" if not ff else f"{ff['examples']} / {ff['seconds']:.3f}s",
                r["shrink"]["steps"],
                "" if not ce else ce["chars"],
                len(r["events"]),
            ]
        )
    total = sum(r["examples"] for r in records)
    out = [f"<p>{len(records)} properties, {total} examples observed.</p>"]
    out.append(plot_time_per_example(records))
    out.append(plot_examples_to_failure(records))
    with_events = sorted((r for r in records if r["events"]), key=lambda r: -sum(r["events"].values()))[:6]
    if with_events:
        out.append("<h3>Event distributions (event())</h3>")
        out += [plot_events(r) for r in with_events]
    shrunk = [r for r in records if r.get("counterexample")]
    if shrunk:
        out.append(f"<h3>Shrunk counterexamples ({len(shrunk)})</h3>")
        for r in shrunk:
            ce = r["counterexample"]
            out.append(
                f"<details><summary><code>{_e(r['property'])}</code>: {ce['chars']} characters, "
                f"{r['shrink']['steps']} shrink steps</summary>"
                f'<pre class="counterexample">{_e(ce["representation"])}</pre></details>'
            )
    out.append("<details open><summary>All properties</summary>")
    out.append(
        _table(
            [
                "property",
                "outcome",
                "examples",
                "valid",
                "invalid",
                "overrun",
                "interesting",
                "generating s",
                "executing s",
                "shrinking s",
                "first failure (examples / s)",
                "shrink steps",
                "counterexample chars",
                "features",
            ],
            rows,
            left=2,
        )
    )
    out.append("</details>")
    return "\n".join(out)


def _coverage(data: Mapping[str, Any]) -> str:
    cov = data.get("coverage")
    if not cov:
        return "<p>Coverage was not measured on this run (pytest-cov: --cov).</p>"
    folders = [
        [f + "/", f"{r['percent']:.1f}", f"{r['branch_percent']:.1f}", r["statements"], r["branches"]]
        for f, r in cov["folders"].items()
    ]
    modules = [
        [m, f"{r['percent']:.1f}", f"{r['branch_percent']:.1f}", r["statements"], r["branches"]]
        for m, r in cov["modules"].items()
    ]
    header = ["", "% statements+branches", "% branches", "statements", "branches"]
    return (
        _table(header, folders)
        + '<p><a href="coverage/index.html">HTML coverage report</a></p>'
        + plot_coverage(cov["modules"])
        + "<details><summary>Per module</summary>"
        + _table(header, modules)
        + "</details>"
    )


def _benchmarks(data: Mapping[str, Any]) -> str:
    results = data.get("benchmarks")
    if not results:
        return (
            "<p>No benchmark figures on this run (`pytest benchmarks/ --benchmark-json "
            "DIR/benchmarks.json` beside the report).</p>"
        )
    rows = bench.figures(results)
    baseline = bench.load_baseline(bench.BASELINE) if bench.BASELINE.exists() else {}
    problems = bench.compare(
        {k: v["ratio"] for k, v in rows.items()}, {k: v for k, v in baseline.items() if k in rows}
    )
    table = _table(
        ["benchmark", "ops/s", "ratio to calibration", "baseline ratio", "change"],
        [
            [
                n,
                f"{r['ops_per_second']:.1f}",
                f"{r['ratio']:.4g}",
                f"{baseline[n]:.4g}" if n in baseline else "",
                f"{r['ratio'] / baseline[n] - 1:+.1%}" if n in baseline else "",
            ]
            for n, r in sorted(rows.items())
        ],
    )
    verdict = (
        "".join(f'<p class="bad">{_e(p)}</p>' for p in problems)
        if problems
        else f"<p>Within {bench.TOLERANCE:.0%} of the baseline.</p>"
    )
    return verdict + table + plot_benchmarks(rows, baseline)


def _trends(history_path: Path | None) -> str:
    if history_path is None or not history_path.exists():
        return "<p>No history (--history PATH).</p>"
    runs = history.runs(history_path)
    out = [f"<p>{len(runs)} runs in {_e(history_path.name)}.</p>"]
    cov = {k: v for k, v in history.series(history_path, "coverage", "percent").items() if "/" not in k}
    out.append("<h3>Coverage per folder</h3>" + plot_trends(cov, "% covered"))
    out.append(
        "<h3>Benchmark ratios</h3>" + plot_trends(history.series(history_path, "bench", "ratio"), "ratio")
    )
    tests = history.series(history_path, "tests", "passed")
    out.append("<h3>Tests passed</h3>" + plot_trends(tests, "tests"))
    return "\n".join(out)


def render(data: Mapping[str, Any], *, history_path: Path | None = None) -> str:
    """The report, one HTML document with everything inline."""
    parts = {
        "summary": ("Summary per area", _summary(data)),
        "findings": ("Quirks and library deviations", _findings(data)),
        "killmatrix": ("Kill matrix", _killmatrix(data)),
        "properties": ("Per-property statistics", _properties(data)),
        "coverage": ("Coverage", _coverage(data)),
        "benchmarks": ("Benchmarks against the baseline", _benchmarks(data)),
        "trends": ("Trends", _trends(history_path)),
    }
    nav = "".join(f'<a href="#{k}">{_e(title)}</a>' for k, (title, _) in parts.items())
    body = "\n".join(
        f'<section id="{k}"><h2>{_e(title)}</h2>\n{content}\n</section>'
        for k, (title, content) in parts.items()
    )
    title = f"alys-pbt report: target {data.get('target', '')}, {data.get('run', '')}"
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{_e(title)}</title>'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{CSS}</style></head>'
        f"<body><h1>{_e(title)}</h1><nav>{nav}</nav>\n{body}\n</body></html>\n"
    )


# --- command line --------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m alys_pbt.report")
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="render a report from a run's report-data.json")
    b.add_argument("--data", type=Path, required=True)
    b.add_argument("--out", type=Path, required=True)
    b.add_argument("--history", type=Path, default=None)
    b.add_argument("--benchmarks", type=Path, default=None, help="pytest-benchmark JSON to show")
    b.add_argument("--killmatrix", type=Path, default=None, help="killmatrix.json to show")
    g = sub.add_parser("gate", help="fail when alys/ or models/ is covered below --min percent")
    g.add_argument("data_file", help="coverage.py data file (pytest-cov's .coverage)")
    g.add_argument("--min", type=float, required=True)
    k = sub.add_parser("killmatrix", help="run the kill matrix and keep it as JSON for the report")
    k.add_argument("--seeds", type=int, default=2)
    k.add_argument("--only", default="")
    k.add_argument("-n", dest="workers", default="0")
    k.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.command == "gate":
        figures = coverage_figures(args.data_file)
        for folder, row in figures["folders"].items():
            print(
                f"{folder}/: {row['percent']:.1f}% (statements and branches), "
                f"{row['branch_percent']:.1f}% of branches"
            )
        problems = gate(figures, args.min)
        for line in problems:
            print(f"coverage gate: {line}", file=sys.stderr)
        return 1 if problems else 0
    if args.command == "killmatrix":
        matrix = run_killmatrix(seeds=args.seeds, only=args.only, workers=args.workers)
        args.out.write_text(json.dumps(matrix, indent=1))
        print(f"{len(matrix['pairs'])} pairs written to {args.out}")
        return 0
    data = json.loads(args.data.read_text())
    if args.benchmarks:
        data["benchmarks"] = json.loads(args.benchmarks.read_text())
    if args.killmatrix:
        data["killmatrix"] = json.loads(args.killmatrix.read_text())
    args.out.write_text(render(data, history_path=args.history))
    print(f"report written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
