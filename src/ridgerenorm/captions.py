"""Report captions: the theory each figure draws (THEORY.md, specialized to its experiments) and the measured
agreement numbers for that figure (its rows of agreement.csv, or the Kolmogorov-Smirnov distances of a spectra
figure).

The report's caption template calls `FigureFacts(...).rst()`.  The object is handed to the template through a
rule parameter; Snakemake does not track parameters that are not plain Python values, so the figure rule does
not rerun when agreement.csv changes, and the files are only read when the report is built.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

from . import config as rr_config
from .plotting import FIGURE_KINDS


def _is_spectra_figure(fig: dict) -> bool:
    """A spectra figure builds its own data (densities.build_*) instead of reading experiments."""
    return FIGURE_KINDS[fig["kind"]].builder is not None


def _experiments(fig: dict) -> list[str]:
    """The figure's experiments, each once, in config order."""
    return list(dict.fromkeys(fig.get("experiments", {}).values()))

_SPECTRA_EQUATIONS = {
    "wigner": ["Semicircle law: ρ(x) = √(4 − x²)/(2π) on [−2, 2]."],
    "white_wishart": [
        "Marchenko-Pastur law of Σ̂ = XᵀX/P for white data, q = D/P: ρ(λ) = √((λ₊ − λ)(λ − λ₋))/(2π q λ) "
        "on [λ₋, λ₊], λ± = (1 ± √q)², plus a mass 1 − 1/q at 0 when q > 1.",
    ],
    "structured_wishart": [
        "Silverstein's equation for the resolvent trace g(z) = (1/D) tr(Σ̂ − z)⁻¹: "
        "g(z) = (1/D) Σ_k 1/(η_k(1 − q − q z g(z)) − z); density Im g(x + i0⁺)/π (dashed: the population "
        "spectrum η_k = k^(−α)).",
        "Deterministic equivalence: λ(Σ̂ + λ)⁻¹ ≃ κ(Σ + κ)⁻¹ with λ = κ(1 − q·df₁(κ)).",
    ],
    "deep_wishart": [
        "Product Wishart: the S-transforms of the white Wishart factors multiply, S(t) = Π_l 1/(1 + q_l t), "
        "which gives the cubic of FIGURES.md A4 for the resolvent; the density is its physical root.",
    ],
}

_FUNCTIONALS = ("df₁(κ) = (1/D) Σ_k η_k/(η_k + κ), df₂(κ) = (1/D) Σ_k η_k²/(η_k + κ)², "
                "tf₁′(κ) = Σ_k w_k² η_k/(η_k + κ)², tf₂(κ) = Σ_k w_k² η_k²/(η_k + κ)²; q = D/P.")

_LINEAR_RIDGE = [
    _FUNCTIONALS,
    "Renormalized ridge: λ = κ(1 − q·df₁(κ)); γ = q·df₂(κ).",
    "Bias² = κ² tf₁′(κ); Var_X = Bias²·γ/(1 − γ); Var_Xε = σ_ε² γ/(1 − γ); E_g = (κ² tf₁′ + σ_ε² γ)/(1 − γ); "
    "E_tr = (λ/κ)² (E_g + σ_ε²).",
    "Markers for κ: κ̂ = λ/(1 − (1/P) tr Σ̂(Σ̂ + λ)⁻¹); GCV = (κ̂/λ)² E_tr − σ_ε².",
]

_RF_COMMON = [
    "∂ = Σ_l df₁/(N_l/D − df₁); ρ = 1/(1 + ((df₁ − df₂)/df₁)·∂); γ₂ = q·df₂; "
    "γ₁ = q·df₁·(1 − ((df₁ − df₂)/df₁)·ρ).",
    "Bias² = κ₂² tf₁′; Var_X = Bias²·γ₂/(1 − γ₂); Var_F = (1 − ρ)·κ₂·tf₂; "
    "Signal = (κ₂² tf₁′ ρ + κ₂ tf₁ (1 − ρ))/(1 − γ₁); Var_XF = Signal − Bias² − Var_X − Var_F.",
    "Noise = σ_ε² γ₁/(1 − γ₁); Var_Xε = σ_ε² γ₂/(1 − γ₂); Var_XFε = Noise − Var_Xε; "
    "E_g = Signal + Noise; E_tr = (λ/κ₁)² (E_g + σ_ε²).",
    "Simulation: exact population risk of β = F v, split by the unbiased two-way ANOVA over data × feature "
    "draws (THEORY.md §7); κ̂ from the feature Gram estimates κ₁.",
]


def experiment_equations(spec: dict) -> list[str]:
    """The THEORY.md equations the theory curves of one experiment evaluate, specialized to its model."""
    if spec["model"] == "linear_ridge":
        return list(_LINEAR_RIDGE)
    widths = spec.get("widths") or []
    deep = len(widths) > 1
    lines = [_FUNCTIONALS + " All functionals of the data spectrum at κ₂."]
    if spec["model"] == "rf_width_sweep":
        lines.append("Structured weights F = G diag(√s)/√D, s_k = k^(−α_F) (our own derivation, THEORY.md §4): each "
                     "factor N/D − df₁ becomes df₁·κ_F with df_s(κ_F) = df₁·D/N, and in ∂ the term "
                     "df₁/(N/D − df₁) becomes df₂_s(κ_F)/(df_s(κ_F) − df₂_s(κ_F)).")
        lines.append("λ = 0 (minimum-norm least squares): κ₂ solves df₁(κ₂) = min(P, N)/D; Var_F + Var_XF "
                     "against the dashed N^(−c) guides, c from the weight exponent α_F.")
    elif deep:
        lines.append("Deep features, widths N_1..N_L: λ = κ₂(1 − q·df₁) Π_{l<L}(D/N_l) Π_l(N_l/D − df₁), "
                     "κ₁ = κ₂ Π_{l<L}(D/N_l) Π_l(N_l/D − df₁) (the inner-layer prefactor, which the authors' "
                     "notebook omits).")
    else:
        lines.append("Renormalized ridges: λ = κ₁(1 − q·df₁(κ₂)), κ₁ = κ₂(N/D − df₁(κ₂)), on the branch where "
                     "every factor is positive.")
    if spec.get("sigma_xi", 0.0):
        lines.append(f"Additive feature noise (σ_ξ = {spec['sigma_xi']:.4g}): df₁ → d̄f₁(κ) = df₁(κ) + σ_ξ²/κ in "
                     "the κ equations, ∂ and γ₁; risk in the metric |Fv − w|²_Σ + σ_ξ²|v|².")
    return lines + list(_RF_COMMON)


def figure_equations(cfg: dict, fid: str) -> list[str]:
    fig = cfg["figures"][fid]
    kind = fig["kind"]
    if _is_spectra_figure(fig):
        return list(_SPECTRA_EQUATIONS[kind])
    if kind == "rf_phase":
        return ["Rate of each term with η_k = k^(−α), source r, λ ~ P^(−l), N ~ P^q (THEORY.md §6): signal "
                "2α·min(1, r, l/α, l·r/α); feature variance (α − c)·min(1, l/α) + q·c; width-limited signal "
                "2α·q·min(1/2, r); noise 1 − min(1, l/α, q). The region is the term of least rate. We keep r "
                "inside the noisy signal term, where the authors' notebook uses 1."]
    if kind in ("lr_venn", "rf_venn"):
        return ["Schematic of the error decomposition: E_g = Bias² + Var_X (+ Var_F + Var_XF for random "
                "features) + the noise terms; no simulation."]
    lines: list[str] = []
    for exp in _experiments(fig):
        for line in experiment_equations(rr_config.experiment_spec(cfg, exp)):
            if line not in lines:
                lines.append(line)
    return lines


def _fmt(x: str, pct: bool = False) -> str:
    v = float(x)
    if not math.isfinite(v):
        return "–"
    return f"{100 * v:.3g} %" if pct else f"{v:.3g}"


def agreement_table(rows: list[dict], experiments: list[str]) -> str:
    """An rst list-table of the agreement.csv rows of these experiments."""
    chosen = [r for r in rows if r["experiment"] in experiments]
    if not chosen:
        return ""
    out = [".. list-table::", "   :header-rows: 1", "",
           "   * - experiment", "     - quantity", "     - points", "     - median rel. dev.",
           "     - max rel. dev.", "     - χ²/point"]
    for r in chosen:
        out += [f"   * - {r['experiment']}", f"     - {r['quantity']}", f"     - {r['n_points']}",
                f"     - {_fmt(r['median_rel_dev'], True)}", f"     - {_fmt(r['max_rel_dev'], True)}",
                f"     - {_fmt(r['chi2_per_point'])}"]
    return "\n".join(out)


def ks_lines(data_file) -> list[str]:
    """Kolmogorov-Smirnov distances recorded in a spectra-figure data file."""
    import xarray as xr

    lines = []
    with xr.open_dataset(data_file) as ds:
        for name in ("ks_distance", "ks_distance_nonzero", "ks_distance_population"):
            if name in ds:
                vals = ds[name].values.ravel()
                label = {"ks_distance": "KS distance to the limiting density",
                         "ks_distance_nonzero": "KS distance of the nonzero eigenvalues",
                         "ks_distance_population": "KS distance to the population spectrum (a contrast, not a fit)",
                         }[name]
                shown = ", ".join(f"{v:.2g}" for v in vals)
                where = f" (q = {', '.join(f'{q:.3g}' for q in ds['q'].values)})" if "q" in ds[name].dims else ""
                lines.append(f"{label}{where}: {shown}.")
    return lines


class FigureFacts:
    """What a figure's report caption states beyond the config: equations and measured agreement."""

    def __init__(self, cfg: dict, fid: str, results_dir: str):
        self.cfg, self.fid, self.results = cfg, fid, Path(results_dir)

    def __repr__(self) -> str:  # stable: the object never enters a rerun decision
        return f"FigureFacts({self.fid!r}, {str(self.results)!r})"

    def rst(self) -> str:
        fig = self.cfg["figures"][self.fid]
        parts = ["**Theory drawn** (THEORY.md):", ""]
        # A bare |...| would be read as an rst substitution reference.
        parts += ["- " + line.replace("|", "\\|") for line in figure_equations(self.cfg, self.fid)]
        parts.append("")
        if _is_spectra_figure(fig):
            data = self.results / "spectra_data" / f"{self.fid}.nc"
            ks = ks_lines(data) if data.exists() else []
            if ks:
                parts += ["**Measured agreement**:", ""] + [f"- {line}" for line in ks]
            return "\n".join(parts)
        experiments = _experiments(fig)
        if not experiments:
            return "\n".join(parts)
        csv_path = self.results / "agreement.csv"
        if not csv_path.exists():
            return "\n".join(parts + ["*agreement.csv has not been built yet.*"])
        with open(csv_path, newline="") as f:
            rows = list(csv.DictReader(f))
        table = agreement_table(rows, experiments)
        parts += ["**Measured agreement** (simulation vs theory at the simulated points; relative deviation "
                  "abs(sim − theory)/abs(theory), χ² with the simulation's standard errors):", "", table]
        return "\n".join(parts)
