"""agreement.csv, the table of the `agreement` step: the simulation-vs-theory rows of every experiment
(estimators.agreement_rows) and, in the E_g row of a power-law experiment, the fitted scaling exponent beside
the predicted one (exponents.exponent_columns).

A pipeline module of its own: the exponent columns read the spectrum kinds' guide facts (plotting/guides.py),
which the numeric kernels (estimators.py among them) do not import."""

from __future__ import annotations

import csv

from .estimators import AGREEMENT_COLUMNS, agreement_rows
from .exponents import EXPONENT_COLUMNS, exponent_columns
from .io import atomic_path

__all__ = ["write_agreement_csv"]


def write_agreement_csv(pairs: dict, path) -> list[dict]:
    """Rows for every experiment in `pairs` (name -> (simulation, theory)), written as CSV; the E_g row of a
    power-law experiment also holds the columns of exponents.exponent_columns (empty in the other rows)."""
    rows = []
    for name in sorted(pairs):
        exp_rows = agreement_rows(name, *pairs[name])
        # the E_g row of a power-law experiment also gets the fitted scaling exponent beside the predicted one
        extra = exponent_columns(*pairs[name])
        for r in exp_rows:
            if extra is not None and r["quantity"] == r["theory_quantity"] == "eg":
                r.update(extra)
        rows += exp_rows
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=AGREEMENT_COLUMNS + EXPONENT_COLUMNS, restval="")
        writer.writeheader()
        for r in rows:
            writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in r.items()})
    return rows
