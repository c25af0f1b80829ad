"""Figure notes: what a reader must know to read a figure, with every number computed from the figure's own
data files (the simulation and theory Datasets the figure job reads), so a quick-scale figure states
quick-scale numbers and a paper-scale figure paper-scale ones.

A figure's config `note` is a list of facts plus optional prose without numbers:

    note:
      facts:
        - {fact: departure, quantity: eg}             # where sim departs from theory, and from which P it agrees
        - {fact: share, quantities: [bias, var_x], of: eg, below: 0.01}
      text: This is a finite-P effect ...

Each fact is a module-level function in the FACTS registry with the JSON schema of its keys; `fact`,
`role` (the figure's experiment role, default its first) and the fact's own keys are checked at config time
(check_note).  The figure job computes the note once (note_text), draws it under the axes and stores it in the
PNG and PDF metadata; the report caption reads it from the PNG (captions.py), so both show the same text.

A figure may also name the authors' figure files it reproduces (`paper_files`: notebook, cell, savefig name;
paper_line gives the footnote's line).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .errors import config_error, suggestion
from .quantities import QUANTITIES, add_derived, theory_name, value_of

__all__ = ["FACTS", "Fact", "check_note", "note_text", "paper_line", "plain_label", "NOTE_KEY", "PAPER_KEY",
           "PAPER_SOURCE", "PAPER_PREFIX"]

# where the notebooks named in paper_files are (the commit their cell indices refer to)
PAPER_SOURCE = "the notebooks of github.com/Pehlevan-Group/S_transform at commit 803180d"
PAPER_PREFIX = "paper: "

# metadata keys of the saved figure that carry the note and the paper line (PNG tEXt/iTXt and PDF Info)
NOTE_KEY = {"png": "Description", "pdf": "Subject"}
PAPER_KEY = {"png": "Source", "pdf": "Keywords"}

FIGURE_ID = re.compile(r"\b[A-Z][0-9]\b")  # a figure named in a note's prose (B3), not a number

# simulated quantities a fact can speak of: those the agreement table compares with a theory quantity
SIMULATED = tuple(q.name for q in QUANTITIES.values() if q.estimates)


@dataclass(frozen=True)
class Fact:
    compute: Callable  # compute(fact, sim, theory) -> one or two sentences
    schema: dict  # JSON schema of the fact's own keys (besides fact and role)
    required: tuple = ()


def plain_label(name: str) -> str:
    """A quantity's legend label as plain text (no mathtext), for notes and captions: Var$_{X\\epsilon}$ ->
    Var_Xε."""
    q = QUANTITIES.get(name)
    label = (q.label if q and q.label else name).replace("$", "").replace("{", "").replace("}", "")
    for tex, text in ((r"\epsilon", "ε"), (r"\kappa", "κ"), (r"\gamma", "γ"), ("^2", "²"), (r"\mathrm", ""),
                      (r"\hat", "")):
        label = label.replace(tex, text)
    return label.replace("+", " + ")


def _g(x: float) -> str:
    """A number as a note states it: 3 significant digits, integers whole."""
    x = float(x)
    return str(int(round(x))) if x == round(x) and abs(x) < 1e6 else f"{x:.3g}"


def _span(values, fmt=_g, sep="–") -> str:
    lo, hi = float(np.min(values)), float(np.max(values))
    return fmt(lo) if fmt(lo) == fmt(hi) else f"{fmt(lo)}{sep}{fmt(hi)}"


def _pct(x: float) -> str:
    """A fraction in per cent: two significant digits, whole from 100 % up (700 %, not 7e+02 %)."""
    x = 100 * float(x)
    return f"{x:.0f} %" if x >= 99.5 else f"{x:.2g} %"


def _z(x: float) -> str:
    return f"{float(x):+.1f}".replace("-", "−")


def _series(sim, theory, name: str):
    """(P, simulated mean, its standard error, theory) of quantity `name` at the simulated P; points where
    either value is not finite or the theory is zero are dropped."""
    names = [n for n in sim.data_vars if sim[n].dims == ("P",)]
    if name not in sim and value_of(sim, name) is None:
        raise ValueError(f"note: the simulation has no quantity {name!r}")
    values = add_derived({n: sim[n].values for n in names}, [name])
    if name not in values:
        raise ValueError(f"note: quantity {name!r} is not a curve over P in this figure's simulation")
    s = np.asarray(values[name], dtype=float)
    se = np.asarray(values.get(name + "_se", np.full_like(s, np.nan)), dtype=float)
    tname = theory_name(name, theory.data_vars) or name
    t_da = theory[tname] if tname in theory else value_of(theory, tname)
    if t_da is None:
        raise ValueError(f"note: the theory has no quantity for {name!r}")
    P = sim["P"].values
    t = np.asarray(t_da.sel(P=P.astype(theory["P"].dtype)).values, dtype=float)
    ok = np.isfinite(s) & np.isfinite(t) & (t != 0)
    return P[ok].astype(float), s[ok], se[ok], t[ok]


def departure(fact: dict, sim, theory) -> str:
    """Where the simulated quantity departs from the theory by more than z standard errors: the P range, the
    range of sim/theory and of z there, the side (above/below), and where it agrees outside that range; with
    `within` (a fraction), also from which P on it stays within that relative distance of the theory."""
    name, zmax = fact["quantity"], float(fact.get("z", 2.0))
    P, s, se, t = _series(sim, theory, name)
    label = plain_label(name)
    if P.size == 0:
        return f"The simulation has no finite {label} to compare with the theory."
    ratio = s / t
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (s - t) / se
    off = np.isfinite(z) & (np.abs(z) > zmax)
    bars = f"{_g(zmax)} SE"
    if not off.any():
        return (f"The simulated {label} agrees with the theory within {_g(zmax)} standard errors at every "
                f"simulated P (P = {_span(P)}; deviations up to {_pct(np.max(np.abs(ratio - 1)))})."
                + _within(fact, P, ratio))
    lo, hi = P[off].min(), P[off].max()
    inside = (P >= lo) & (P <= hi)
    r, zz = ratio[off], z[off]
    side = "above" if np.all(r > 1) else "below" if np.all(r < 1) else "on both sides of"
    count = "" if off.sum() == inside.sum() else f" ({off.sum()} of the {inside.sum()} simulated P there)"
    where = f"P = {_g(lo)}" if lo == hi else f"P = {_g(lo)}–{_g(hi)}"
    text = (f"At {where}{count} the simulated {label} lies {side} the theory by more than {_g(zmax)} standard "
            f"errors (SE): {_span(r)} times the theory, z = {_span(zz, _z, ' to ')}.")
    agree = []
    before, after = P < lo, P > hi
    if before.any():
        agree.append(f"below P = {_g(lo)} (deviations up to {_pct(np.max(np.abs(ratio[before] - 1)))})")
    if after.any():
        agree.append(f"from P = {_g(P[after].min())} on (deviations up to "
                     f"{_pct(np.max(np.abs(ratio[after] - 1)))})")
    if agree:
        text += f" It agrees within {bars} " + " and ".join(agree) + "."
    if not after.any():
        text += " The departure reaches the largest simulated P."
    return text + _within(fact, P, ratio)


def _within(fact: dict, P, ratio) -> str:
    """' It is within X % of the theory from P = p on.' for the fact's optional `within` (a fraction)."""
    if "within" not in fact:
        return ""
    close = np.abs(ratio - 1) <= float(fact["within"])
    limit = _pct(fact["within"])
    if not close[-1]:
        return f" At the largest simulated P it is not within {limit} of the theory."
    start = close.size
    while start > 0 and close[start - 1]:
        start -= 1
    return f" It is within {limit} of the theory " + ("at every simulated P." if start == 0 else
                                                      f"from P = {_g(P[start])} on.")


def share(fact: dict, sim, theory) -> str:
    """From which simulated P on the theory of every listed quantity is under a fraction `below` of the
    theory of `of`, and at how many of those points their simulations lie within z standard errors."""
    names, of = fact["quantities"], fact["of"]
    below, zmax = float(fact.get("below", 0.01)), float(fact.get("z", 2.0))
    labels = " and ".join(plain_label(n) for n in names)
    P_of, _, _, t_of = _series(sim, theory, of)
    series = {n: _series(sim, theory, n) for n in names}
    theory_at = {n: dict(zip(P, t)) for n, (P, _, _, t) in series.items()}
    small = np.array([all(p in theory_at[n] and abs(theory_at[n][p]) <= below * abs(t0) for n in names)
                      for p, t0 in zip(P_of, t_of)], dtype=bool)
    verb = "are each" if len(names) > 1 else "is"
    limit = f"{_pct(below)} of {plain_label(of)} in the theory"
    if not small.size or not small[-1]:
        return f"At the largest simulated P, {labels} {verb} not under {limit}."
    start = small.size
    while start > 0 and small[start - 1]:  # the final run of points where all are small
        start -= 1
    P0 = P_of[start]
    within = total = 0
    for P, s, se, t in series.values():
        tail = P >= P0
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.abs(s[tail] - t[tail]) / se[tail]
        within += int(np.sum(np.isfinite(z) & (z <= zmax)))
        total += int(tail.sum())
    head = "At every simulated P" if start == 0 else f"From P = {_g(P0)} on"
    return (f"{head}, {labels} {verb} under {limit}; there the simulated values lie within {_g(zmax)} "
            f"standard errors of the theory at {within} of {total} points.")


_ROLE = {"type": "string"}
_Z = {"type": "number", "exclusiveMinimum": 0, "description": "standard errors that count as agreement"}
_QUANTITY = {"type": "string", "enum": list(SIMULATED)}
_FRACTION = {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1}

FACTS: dict[str, Fact] = {
    "departure": Fact(departure, {"quantity": _QUANTITY, "z": _Z, "within": _FRACTION}, required=("quantity",)),
    "share": Fact(share, {"quantities": {"type": "array", "minItems": 1, "items": _QUANTITY}, "of": _QUANTITY,
                          "below": _FRACTION, "z": _Z},
                  required=("quantities", "of")),
}


def fact_schema(name: str) -> dict:
    fact = FACTS[name]
    return {"type": "object", "additionalProperties": False, "required": ["fact", *fact.required],
            "properties": {"fact": {"type": "string"}, "role": _ROLE, **fact.schema}}


def check_note(path: tuple, note: dict, roles: tuple, schema_check) -> None:
    """Config checks of a figure's note (already of the note schema's shape): each fact is registered, has
    valid keys (schema_check(instance, schema, path)) and names one of the figure kind's experiment roles;
    the prose has no digits (a number in it would be right at one scale only) but in figure ids (B3)."""
    prose = FIGURE_ID.sub("", note.get("text", ""))
    digit = re.search(r"\d", prose)
    if digit:
        raise config_error(path + ("text",), prose[max(0, digit.start() - 20):digit.start() + 20],
                           "has a number; numbers in a note are computed (use a fact)")
    for i, fact in enumerate(note.get("facts", [])):
        where = path + ("facts", i)
        name = fact.get("fact")
        if name not in FACTS:
            raise config_error(where + ("fact",), name, "unknown fact" + suggestion(name, FACTS))
        schema_check(fact, fact_schema(name), where)
        if not roles:
            raise config_error(where + ("fact",), name, "this figure kind reads no experiment to compute it from")
        role = fact.get("role", roles[0])
        if role not in roles:
            raise config_error(where + ("role",), role, "not a role of this figure kind" + suggestion(role, roles))


def note_text(spec: dict, data: dict, roles: tuple) -> str:
    """The note of a figure: its facts computed from `data` (role -> [simulation, theory]), then its prose."""
    note = spec.get("note") or {}
    parts = []
    for fact in note.get("facts", []):
        role = fact.get("role", roles[0])
        sim, theory = data[role][:2]
        text = FACTS[fact["fact"]].compute(fact, sim, theory)
        parts.append(f"{role}: {text}" if len(roles) > 1 else text)  # which panel or curve it speaks of
    if note.get("text"):
        parts.append(" ".join(note["text"].split()))
    return " ".join(parts)


def paper_line(spec: dict) -> str:
    """'paper: <notebook>: <file> (cell <n>), ...': the authors' figure files this figure reproduces."""
    by_notebook: dict = {}
    for f in spec.get("paper_files") or []:
        cell = f"cell {f['cell']}" + (", savefig commented out" if f.get("commented_out") else "")
        by_notebook.setdefault(f["notebook"], []).append(f"{f['file']} ({cell})")
    if not by_notebook:
        return ""
    return PAPER_PREFIX + "; ".join(f"{nb}: {', '.join(files)}" for nb, files in by_notebook.items())
