"""One vocabulary of quantities: every name the CLI, the netCDF files, the agreement table, the plots and the
captions use, with its long name, units, colour, label, marker, the theory quantity a simulated estimate is
compared with, and how a derived quantity is formed from others.

    from ridgerenorm.quantities import QUANTITIES, attrs, add_derived
    attrs("var_f_xf_se")   # {'long_name': 'Var_F + Var_XF (standard error)', 'units': '1'}

Names follow docs/theory.md (§3 linear ridge, §4-§5 random features, §7 estimators).  A name with the suffix
_se, _std or _per_draw is the standard error, seed-to-seed spread or per-draw values of its base quantity.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Quantity", "QUANTITIES", "attrs", "base_name", "value_of", "add_derived", "agreement_pairs", "theory_name"]


@dataclass(frozen=True)
class Quantity:
    name: str
    long_name: str
    units: str = "1"
    color: str | None = None  # matplotlib colour of its line and markers
    label: str | None = None  # legend label (matplotlib mathtext)
    marker: str = "o"  # simulation marker
    estimates: tuple = ()  # a simulated estimate: the theory quantities it is compared with, first present wins
    sum_of: tuple = ()  # derived: the sum of these quantities (standard errors added in quadrature)
    alias_of: str | None = None  # derived: the same values under another name


_Q = Quantity
_ALL = [
    # the quantities agreement.csv compares, in its row order
    _Q("eg", "generalization error E_g (excess population risk)", color="black", label=r"$E_g$", estimates=("eg",)),
    _Q("etr", "training error E_tr", color="tab:blue", label=r"$E_{tr}$", estimates=("etr",)),
    # real data (models/real_data.py): the held-out mean squared error, label noise included (theory E_g + sigma^2)
    _Q("test_error", "test error E_test (held-out mean squared error, label noise included)", color="navy",
       label=r"$E_{test}$", marker="D", estimates=("test_error",)),
    _Q("bias", "Bias^2", color="tab:green", label=r"Bias$^2$", estimates=("bias",)),
    _Q("var_x", "Var_X (variance over data draws)", color="tab:orange", label=r"Var$_X$", estimates=("var_x",)),
    _Q("var_xeps", "Var_Xeps (label-noise variance)", color="crimson", label=r"Var$_{X\epsilon}$",
       estimates=("var_xeps",)),
    _Q("df1_hat", "empirical df_1 from one training set", color="tab:blue", label=r"$\hat{\mathrm{df}}_1$",
       estimates=("df1",)),
    # kappa_hat estimates kappa of linear ridge and kappa_1 (the readout's ridge) of random features
    _Q("kappa_hat", "empirical kappa (GCV form) from one training set", color="tab:brown",
       label=r"$\hat\kappa_{GCV}$", marker="s", estimates=("kappa", "kappa1")),
    _Q("gcv", "GCV estimate of the excess risk", color="orchid", label="GCV", marker="^", estimates=("eg",)),
    _Q("var_f", "Var_F (variance over feature draws)", color="tab:purple", label=r"Var$_F$", estimates=("var_f",)),
    _Q("var_xf", "Var_XF (interaction of data and feature draws)", color="tab:pink", label=r"Var$_{XF}$",
       estimates=("var_xf",)),
    _Q("var_f_xf", "Var_F + Var_XF", color="darkorchid", label=r"Var$_F$+Var$_{XF}$", estimates=("var_f_xf",),
       sum_of=("var_f", "var_xf")),
    _Q("var_xfeps", "Var_XFeps (label noise through data and features)", color="coral", label=r"Var$_{XF\epsilon}$",
       estimates=("var_xfeps",)),
    # theory-only quantities
    _Q("df1", "df_1 (degrees of freedom)", color="tab:blue", label=r"$\mathrm{df}_1$"),
    _Q("df2", "df_2", color="tab:cyan", label=r"$\mathrm{df}_2$"),
    _Q("gamma", "gamma = q df_2", color="tab:olive", label=r"$\gamma$"),
    _Q("kappa", "renormalized ridge kappa", color="tab:red", label=r"$\kappa$"),
    _Q("S", "S-transform kappa/lambda (train-test gap)"),
    _Q("lam", "ridge lambda"),
    _Q("P", "number of training samples"),
    _Q("kappa1", "kappa_1 (renormalized ridge of the readout; kappa_hat estimates it)", color="tab:purple",
       label=r"$\kappa_1$"),
    _Q("kappa2", "kappa_2 (renormalized ridge seen by the data spectrum)", color="tab:red", label=r"$\kappa_2$"),
    _Q("gamma1", "gamma_1", color="tab:green", label=r"$\gamma_1$"),
    _Q("gamma2", "gamma_2 = q df_2(kappa_2)", color="tab:olive", label=r"$\gamma_2$"),
    _Q("df1_plain", "df_1(kappa_2) without the additive-noise term"),
    _Q("rho", "rho = d log kappa_2 / d log kappa_1"),
    _Q("kappa2_tf1", "kappa_2 tf_1(kappa_2)"),
    _Q("k2_tf1", "kappa_2 tf_1(kappa_2)", color="teal", label=r"$\kappa_2\,\mathrm{tf}_1$", alias_of="kappa2_tf1"),
    # kappa_2^2 tf_1'(kappa_2) is Bias^2 (docs/theory.md §4)
    _Q("k2sq_tf1p", "kappa_2^2 tf_1'(kappa_2)", color="goldenrod", label=r"$\kappa_2^2\,\mathrm{tf}_1'$",
       alias_of="bias"),
]
QUANTITIES: dict[str, Quantity] = {q.name: q for q in _ALL}

_SUFFIXES = {"_se": " (standard error)", "_std": " (seed-to-seed std)"}


def base_name(name: str) -> str:
    """The quantity a variable name refers to: eg_se, eg_std and eg_per_draw all refer to eg."""
    return name.split("_se")[0].split("_std")[0].replace("_per_draw", "")


def attrs(name: str, **override) -> dict:
    """CF-style long_name and units of a variable (unknown names describe themselves)."""
    q = QUANTITIES.get(base_name(name))
    long_name, units = (q.long_name, q.units) if q else (name, "1")
    suffix = next((text for end, text in _SUFFIXES.items() if name.endswith(end)), "")
    return {"long_name": long_name + suffix, "units": units} | override


def value_of(values, name: str):
    """values[name] if present, else the derived quantity formed from the parts in `values` (a dict or a
    Dataset); None when neither."""
    if name in values:
        return values[name]
    q = QUANTITIES.get(name)
    if q is not None and q.sum_of and all(p in values for p in q.sum_of):
        first, *rest = q.sum_of
        total = values[first]
        for p in rest:
            total = total + values[p]
        return total
    if q is not None and q.alias_of and q.alias_of in values:
        return values[q.alias_of]
    return None


def add_derived(values: dict, names) -> dict:
    """Add to `values` (name -> array) each derived quantity of `names` whose parts are present (sums get
    their standard errors in quadrature when the parts have them).  Returns `values`."""
    for name in names:
        value = value_of(values, name)
        if value is None:
            continue
        values[name] = value
        parts = QUANTITIES[name].sum_of
        if parts and all(p + "_se" in values for p in parts):
            values[name + "_se"] = np.hypot(*(values[p + "_se"] for p in parts))
    return values


def theory_name(name: str, theory_names) -> str | None:
    """The theory quantity a simulated estimate `name` is compared with, among `theory_names`."""
    q = QUANTITIES.get(name)
    return next((t for t in (q.estimates if q else ()) if t in theory_names), None)


def agreement_pairs(sim_names, theory_names) -> list[tuple[str, str]]:
    """(simulated, theory) name pairs the agreement table compares, in the vocabulary's order."""
    pairs = []
    for q in QUANTITIES.values():
        if q.estimates and q.name in sim_names:
            t = theory_name(q.name, theory_names)
            if t is not None:
                pairs.append((q.name, t))
    return pairs
