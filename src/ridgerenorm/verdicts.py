"""One agreement verdict per figure, and the count over all figures, from the rows of agreement.csv.

The report's agreement page and each figure's caption state the same verdict; both call `figure_verdict`
(on the entry `figure_entry` makes of the figure's config), so the rule lives here only.

A row of agreement.csv compares one simulated quantity of one experiment with its theory over all simulated
points: median |dev|/SE (z), chi-squared per point, median and maximum relative deviation.  The points of one
curve share their draws (docs/agreement.md), so one fluctuation of a few draws moves many points at once, and
standard errors from 6 draws are themselves noisy: chi-squared per point, which treats the points as
independent, only flags that some points lie far out; it never decides a departure on its own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["Z_BULK", "CHI2_FLAG", "REL_CLOSE", "REL_LOOSE", "STATUSES", "VERDICTS", "row_status", "figure_entry",
           "figure_verdict", "verdict_counts", "Verdict"]

Z_BULK = 3.0  # median |dev|/SE above this: most points lie more than 3 standard errors from the theory
CHI2_FLAG = 4.0  # chi-squared per point above this: some points lie far out (a flag only, see above)
REL_CLOSE = 0.02  # relative deviations this small agree whatever the standard error (the theory is the D -> oo limit)
REL_LOOSE = 0.5  # median relative deviation above this while within errors: the errors are too large to test

# row statuses, least to most severe
AGREES, LOOSE, SOME, DEPARTS = "agrees", "large errors", "points off", "departs"
STATUSES = (AGREES, LOOSE, SOME, DEPARTS)

# figure verdicts, in the order the report counts them
VERDICTS = (
    "agrees within errors",
    "agrees within large errors",
    "agrees except at some points (see note)",
    "agrees except at some points",
    "departs where its note says (see note)",
    "departs",
    "theory only (no simulation)",
    "not rated (sampled spectra: KS distance in the caption)",
    "not computed yet",
)
_BY_STATUS = {AGREES: VERDICTS[0], LOOSE: VERDICTS[1]}


def _num(row: dict, key: str) -> float:
    try:
        return float(row.get(key, "nan"))
    except (TypeError, ValueError):
        return math.nan


def row_status(row: dict) -> str:
    """The status of one agreement.csv row (strings or numbers):

    - "agrees": every point within REL_CLOSE of the theory, or the median point within Z_BULK standard errors
      (or within REL_CLOSE) and chi-squared per point at most CHI2_FLAG;
    - "large errors": as "agrees", but the median relative deviation exceeds REL_LOOSE: the simulation is too
      noisy to test the theory there;
    - "points off": the median point agrees, chi-squared per point exceeds CHI2_FLAG (a few points far out,
      or a shared fluctuation of the draws);
    - "departs": the median point lies more than Z_BULK standard errors and more than REL_CLOSE away.
    """
    z, chi2 = _num(row, "median_abs_dev_over_se"), _num(row, "chi2_per_point")
    rel, rel_max = _num(row, "median_rel_dev"), _num(row, "max_rel_dev")
    if rel_max <= REL_CLOSE:
        return AGREES
    if not (z <= Z_BULK or rel <= REL_CLOSE):  # NaN z (no standard error): judged on the deviation alone
        return DEPARTS
    if chi2 > CHI2_FLAG:
        return SOME
    return LOOSE if rel > REL_LOOSE else AGREES


def figure_entry(fig: dict, kind) -> dict:
    """What the verdict needs of a figure's config entry, as plain JSON values: name, experiments (role ->
    experiment), whether it samples spectra (`kind.builder`) and the (experiment, quantity) pairs its note
    explains (its `departure` facts; a fact without a role speaks of the kind's first role, `kind.roles`)."""
    experiments = dict(fig.get("experiments") or {})
    roles = tuple(kind.roles) or tuple(experiments)
    noted = []
    for fact in (fig.get("note") or {}).get("facts", []):
        role = fact.get("role", roles[0] if roles else None)
        if fact.get("fact") == "departure" and role in experiments:
            noted.append([experiments[role], fact["quantity"]])
    return {"name": fig.get("name", ""), "experiments": experiments, "spectra": bool(kind.builder),
            "noted": noted}


@dataclass(frozen=True)
class Verdict:
    text: str  # one of VERDICTS
    worst: dict | None = None  # the row that decided it (most severe status, then the number behind that status)

    def worst_words(self) -> str:
        """The deciding row in a few words: experiment, quantity (→ theory quantity when named differently) and
        the number behind its status (chi-squared per point for "points off", the median relative deviation
        for "large errors", else the median |dev|/SE)."""
        r = self.worst
        if r is None:
            return ""
        q = r["quantity"] if r["quantity"] == r["theory_quantity"] else f"{r['quantity']} → {r['theory_quantity']}"
        key = _DECIDING.get(row_status(r), "median_abs_dev_over_se")
        x = _num(r, key)
        number = f"{100 * x:.3g} %" if key == "median_rel_dev" else f"{x:.3g}"
        return f"{r['experiment']} {q} ({_WORDS[key]} {number})"


_DECIDING = {SOME: "chi2_per_point", LOOSE: "median_rel_dev"}
_WORDS = {"chi2_per_point": "χ²/point", "median_rel_dev": "median rel. dev.", "median_abs_dev_over_se": "median |dev|/SE"}


def figure_verdict(entry: dict, rows: list[dict] | None) -> Verdict:
    """The verdict of one figure (`figure_entry`) from the agreement.csv rows (None: no table yet).

    Its rows are those of its experiments; the most severe row status decides ("agrees within errors",
    "agrees within large errors", "agrees except at some points", "departs").  When every row of that status is
    one the figure's note explains, the verdict says "(see note)".  Every compared quantity counts, drawn in the
    figure or not.  A figure without experiments is "theory only", or, when it samples random matrices,
    rated by its Kolmogorov-Smirnov distances in the caption, not here."""
    experiments = set(entry["experiments"].values())
    if entry.get("spectra"):
        return Verdict(VERDICTS[7])
    if not experiments:
        return Verdict(VERDICTS[6])
    mine = [r for r in rows or () if r["experiment"] in experiments]
    if not mine:
        return Verdict(VERDICTS[8])

    def severity(r):
        # within a status, the number that gave it: chi-squared for "points off", the median relative
        # deviation for "large errors", else the median |dev|/SE
        status = row_status(r)
        x = _num(r, _DECIDING.get(status, "median_abs_dev_over_se"))
        return (STATUSES.index(status), x if math.isfinite(x) else -math.inf)

    worst = max(mine, key=severity)
    status = row_status(worst)
    if status in _BY_STATUS:
        return Verdict(_BY_STATUS[status], worst)
    noted = {tuple(p) for p in entry.get("noted", ())}
    explained = all((r["experiment"], r["quantity"]) in noted for r in mine if row_status(r) == status)
    if status == SOME:
        return Verdict(VERDICTS[2] if explained else VERDICTS[3], worst)
    return Verdict(VERDICTS[4] if explained else VERDICTS[5], worst)


def verdict_counts(verdicts) -> list[tuple[str, int]]:
    """(verdict, number of figures) for each verdict given at least once, in the order of VERDICTS."""
    texts = [v.text for v in verdicts]
    return [(t, texts.count(t)) for t in VERDICTS if t in texts]
