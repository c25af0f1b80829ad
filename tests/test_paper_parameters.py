"""Every paper-scale parameter traced to the authors' notebooks (docs/paper_parameters.yaml), and docs/figures.md's
"Parameter trace" section generated from that file and config/config.yaml, so neither the config nor the docs can
drift from the trace unnoticed.

    python tests/test_paper_parameters.py --write     # regenerate the section of docs/figures.md
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
import yaml

from ridgerenorm import config as cfg

ROOT = Path(__file__).resolve().parents[1]
TRACE_FILE = ROOT / "docs" / "paper_parameters.yaml"
DOCS_FILE = ROOT / "docs" / "figures.md"
BEGIN = "<!-- parameter-trace:begin (generated: python tests/test_paper_parameters.py --write) -->"
END = "<!-- parameter-trace:end -->"

NOTEBOOKS = {
    "random_matrices.ipynb", "linear_regression.ipynb", "unstructured_linear_random_features.ipynb",
    "structured_linear_random_features.ipynb", "LRF_phase_plot.ipynb", "nonlinear_random_features.ipynb",
    "venn_diagrams.ipynb", "linear_random_features.ipynb",
}
# The authors' commits that touch the figure notebooks (803180d, the latest, changes none of them).
COMMITS = {"db90612", "2970305", "130b194", "c770d63", "7a6223c", "236325c", "525f4cc"}
# Keys of an experiment that are not parameters of the paper: how the work is split, labels, and the kind
# names that select the model / spectrum / teacher (their parameters are traced instead).
NOT_PARAMETERS = {"description", "model", "block", "spectrum.kind", "teacher.kind"}


def load_trace() -> dict:
    with open(TRACE_FILE) as f:
        return yaml.safe_load(f)


def load_paper() -> dict:
    return cfg.load_config(ROOT / "config" / "config.yaml")


def lookup(node: dict, path: str):
    """The value at a dotted key path (a dot descends into a nested mapping); KeyError names the path."""
    for key in path.split("."):
        if not isinstance(node, dict) or key not in node:
            raise KeyError(path)
        node = node[key]
    return node


def traced(trace: dict, config: dict):
    """(figure id, label, entry, our value) for every traced parameter, in file order."""
    for key, entry in trace["global"].items():
        yield "global", key, entry, lookup(config, key)
    for fid, fig in trace["figures"].items():
        for exp, keys in (fig.get("experiments") or {}).items():
            # the key as the config writes it, else as resolved (a default filled in: theory_samples)
            written, resolved = config["experiments"][exp], cfg.experiment_spec(config, exp)
            for key, entry in keys.items():
                try:
                    ours = lookup(written, key)
                except KeyError:
                    ours = lookup(resolved, key)
                yield fid, f"{exp}.{key}", entry, ours
        for key, entry in (fig.get("params") or {}).items():
            yield fid, f"params.{key}", entry, lookup(config["figures"][fid].get("params") or {}, key)


def leaves(exp: dict) -> set[str]:
    """The parameter keys of one experiment as written in the config: top-level keys, and the keys of its
    spectrum and teacher (grids and ridge schedules count as one value each)."""
    out = set()
    for key, value in exp.items():
        if key in ("spectrum", "teacher"):
            out |= {f"{key}.{k}" for k in value}
        else:
            out.add(key)
    return out - NOT_PARAMETERS


def numeric(value) -> bool:
    """A figure parameter that is a number, a list of numbers or a grid (not a list of curve names)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return True
    if isinstance(value, list):
        return bool(value) and all(numeric(v) for v in value)
    if isinstance(value, dict):
        grids = [k for k in value if k != "drop_first"]
        return len(grids) == 1 and grids[0] in ("logspace", "inverse_linspace")
    return False


# ---- rendering of the docs section ------------------------------------------------------------------------

def fmt(value) -> str:
    """A parameter value in the docs' words."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e5:
        return f"{value:.1f}"
    if isinstance(value, float):
        return re.sub(r"e([+-])0*(\d)", lambda m: "e" + m.group(1).replace("+", "") + m.group(2), f"{value:g}")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(fmt(v) for v in value) + "]"
    if isinstance(value, dict):
        if "power" in value:
            return f"P^-{fmt(value['power'])}"
        (kind, args), *rest = [(k, v) for k, v in value.items() if k != "drop_first"]
        args = [int(a) if isinstance(a, float) and a.is_integer() else a for a in args]
        text = {"logspace": "logspace", "inverse_linspace": "1/linspace"}[kind] + "(" + ", ".join(map(fmt, args)) + ")"
        return text + (" without its first point" if value.get("drop_first") else "")
    return str(value)


def _cells(*items) -> str:
    return "| " + " | ".join(items) + " |"


def _where(e: dict) -> str:
    return f"{e['notebook']}, cell {e['cell']}, {e['commit']}"


def render(trace: dict, config: dict) -> str:
    """The generated part of docs/figures.md's "Parameter trace" section."""
    rows: dict[str, list] = {}
    for fid, label, entry, ours in traced(trace, config):
        rows.setdefault(fid, []).append((label, entry, ours))
    head = [_cells("parameter", "ours", "authors", "notebook", "cell", "commit"), _cells(*["---"] * 6)]
    out, every = [BEGIN, ""], []

    def table(fid):
        lines = list(head)
        for label, e, ours in rows.get(fid, []):
            mark = f"**{fmt(ours)}**" if e["differs"] else fmt(ours)
            lines.append(_cells(label, mark, fmt(e["authors"]), e["notebook"], str(e["cell"]), e["commit"]))
            if e["differs"]:
                why = e["differs"][0].upper() + e["differs"][1:]
                every.append(f"- {fid} `{label}`: ours {fmt(ours)}, authors {fmt(e['authors'])}. {why}.")
        history = [f"- `{label}`: {e['history']}." for label, e, _ in rows.get(fid, []) if e.get("history")]
        return lines + ([""] + ["History:"] + history if history else [])

    out += ["#### Global", ""] + table("global") + [""]
    for fid, fig in trace["figures"].items():
        name = config["figures"][fid]["name"]
        out += [f"#### {fid} {name}", ""]
        if "beyond_paper" in fig:
            out += [f"Beyond the paper: {fig['beyond_paper']}.", ""]
            continue
        files = "; ".join(f"`{s['file']}` ({_where(s)})" for s in fig["savefig"])
        out += [f"Authors' files: {files}.", ""]
        if "no_parameters" in fig:
            out += [f"No parameters: {fig['no_parameters']}.", ""]
            continue
        out += table(fid) + [""]
        if fig.get("notes"):
            out += ["Notes:"] + [f"- {n}" for n in fig["notes"]] + [""]
    out += ["#### Every difference", ""] + every + ["", END]
    return "\n".join(out)


def docs_section(text: str) -> str:
    start, stop = text.find(BEGIN), text.find(END)
    assert 0 <= start < stop, f"docs/figures.md has no generated parameter trace ({BEGIN} ... {END})"
    return text[start:stop + len(END)]


def write_docs() -> None:
    text = DOCS_FILE.read_text()
    DOCS_FILE.write_text(text.replace(docs_section(text), render(load_trace(), load_paper())))


# ---- tests --------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def trace():
    return load_trace()


@pytest.fixture(scope="module")
def paper():
    return load_paper()


def test_every_figure_is_traced(trace, paper):
    """Each figure of config.yaml has a trace entry (and nothing else does); ours alone say they are ours."""
    assert list(trace["figures"]) == list(paper["figures"])
    for fid, fig in trace["figures"].items():
        if fid.startswith(("E", "R")):  # sections E and R are ours
            assert set(fig) == {"beyond_paper"}, fid
            continue
        assert fig.get("savefig"), f"{fid}: no file of the authors named"
        assert ("no_parameters" in fig) != bool(fig.get("experiments") or fig.get("params")), fid


def test_every_experiment_and_figure_parameter_is_traced(trace, paper):
    """No parameter untraced: every experiment a paper figure plots, every parameter key of it, and every
    numeric parameter of the figure itself has an entry."""
    for fid, fig in paper["figures"].items():
        if fid.startswith(("E", "R")):  # sections E and R are ours
            continue
        entry = trace["figures"][fid]
        exps = entry.get("experiments") or {}
        assert set(exps) == set((fig.get("experiments") or {}).values()), fid
        for exp, keys in exps.items():
            missing = leaves(paper["experiments"][exp]) - set(keys)
            assert not missing, f"{fid} {exp}: untraced {sorted(missing)}"
        wanted = {k for k, v in (fig.get("params") or {}).items() if numeric(v)}
        assert wanted == set(entry.get("params") or {}), fid
    assert set(trace["global"]) == {"seed"}


def test_traced_values_are_the_config_values(trace, paper):
    """Where the trace says we follow the authors, config.yaml holds their value; where it says we differ,
    config.yaml holds the documented value and it really differs."""
    n_same = n_diff = 0
    for fid, label, e, ours in traced(trace, paper):
        if e["differs"] is None:
            assert "ours" not in e, (fid, label)
            assert ours == e["authors"], f"{fid} {label}: config {ours!r}, authors {e['authors']!r}, no reason given"
            n_same += 1
        else:
            assert ours == e["ours"], f"{fid} {label}: config {ours!r}, documented deviation {e['ours']!r}"
            assert ours != e["authors"], f"{fid} {label}: marked as differing but equal to the authors' value"
            n_diff += 1
    assert n_same > 150 and n_diff > 10, (n_same, n_diff)


def test_trace_names_real_places(trace):
    """Each entry names a notebook of the authors, a cell index and one of their commits."""
    def check(e, what):
        assert e["notebook"] in NOTEBOOKS, what
        assert isinstance(e["cell"], int) and 0 <= e["cell"] < 40, what
        assert e["commit"] in COMMITS, what

    for key, e in trace["global"].items():
        check(e, key)
    for fid, fig in trace["figures"].items():
        for s in fig.get("savefig", []):
            check(s, (fid, s["file"]))
            assert s["file"].endswith(".pdf"), (fid, s)
        for keys in list((fig.get("experiments") or {}).values()) + [fig.get("params") or {}]:
            for key, e in keys.items():
                check(e, (fid, key))
                assert set(e) <= {"authors", "ours", "notebook", "cell", "commit", "differs", "history"}, (fid, key)


def test_docs_table_is_generated_from_the_trace(trace, paper):
    """docs/figures.md's parameter trace is exactly what the trace and the config give."""
    section = docs_section(DOCS_FILE.read_text())
    assert section == render(trace, paper), "docs/figures.md is stale: run python tests/test_paper_parameters.py --write"


def test_docs_rows_carry_the_traced_values(trace, paper):
    """Independently of the renderer: each traced value appears in its figure's table row."""
    section = docs_section(DOCS_FILE.read_text())
    blocks = {b.split(None, 1)[0]: b for b in section.split("\n#### ")[1:]}
    for fid, label, e, ours in traced(trace, paper):
        block = blocks["Global" if fid == "global" else fid]
        row = next((r for r in block.splitlines() if r.startswith(f"| {label} |")), None)
        assert row is not None, (fid, label)
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert cells[1].strip("*") == fmt(ours) and cells[2] == fmt(e["authors"]), (fid, label, cells)
        assert cells[3:] == [e["notebook"], str(e["cell"]), e["commit"]], (fid, label, cells)


def test_preprint_overlay_changes_only_b3(paper):
    """config/preprint-v1.yaml: B3 at the preprint's alpha = 1.1 (r as in the paper), at its own scale;
    every other experiment and figure as at paper scale."""
    pre = cfg.load_config(ROOT / "config" / "config.yaml", ROOT / "config" / "preprint-v1.yaml")
    assert pre["scale"] not in ("paper", "quick")
    for exp in paper["experiments"]:
        a, b = cfg.experiment_spec(paper, exp), cfg.experiment_spec(pre, exp)
        if exp in ("b3_capacity", "b3_source"):
            assert b["spectrum"]["alpha"] == 1.1 and a["spectrum"]["alpha"] == 2.0, exp
            b = {**b, "spectrum": {**b["spectrum"], "alpha": 2.0}}
        assert a == b, exp
    assert cfg.experiment_spec(pre, "b3_capacity")["teacher"]["r"] == 1.8
    assert cfg.experiment_spec(pre, "b3_source")["teacher"]["r"] == 0.5
    assert {k: v for k, v in pre["figures"].items() if k != "B3"} == {k: v for k, v in paper["figures"].items() if k != "B3"}


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python tests/test_paper_parameters.py --write")
    write_docs()
