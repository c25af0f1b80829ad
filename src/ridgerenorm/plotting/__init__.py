"""Figure rendering: a registry of figure kinds, each a plot function in a submodule.

A plot function takes (spec, data) where spec is the figure's config entry (plus its id) and data maps a
role to the list of Datasets the rule passes for it ([simulation, theory] for experiment roles,
[dataset] for self-contained random-matrix figures), and returns a matplotlib Figure.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from dataclasses import dataclass

from .params import CHECKS, REAL_DATA_ROLES, SCHEMAS

__all__ = ["FIGURE_KINDS", "FigureKind", "PNG_DPI", "draw", "render", "save_figure", "contact_sheet"]

# the PNGs are read on screens: at 200 dpi the smallest text (6.5 pt) is 18 pixels high
PNG_DPI = 200


@dataclass(frozen=True)
class FigureKind:
    module: str
    function: str
    roles: tuple = ()  # experiment roles the figure needs (config: figures.<id>.experiments)
    models: tuple = ()  # models (ridgerenorm.models) an experiment of these roles may have
    builder: str | None = None  # densities.<builder>(params, entropy) for self-contained figures
    equations: tuple = ()  # caption equations of a figure that draws no experiment (docs/theory.md)
    params: dict | None = None  # JSON schema of figures.<id>.params (plotting/params.py); None: takes no params
    check: Callable | None = None  # check(params) of what the schema cannot say; raises params.ParamError

    def plot(self):
        return getattr(importlib.import_module(f"{__name__}.{self.module}"), self.function)


_VENN = ("Schematic of the error decomposition: E_g = Bias² + Var_X (+ Var_F + Var_XF for random features) + the "
         "noise terms; no simulation.",)
_PHASE = ("Rate of each term with η_k = k^(−α), source r, λ ~ P^(−l), N ~ P^q (docs/theory.md §6): signal "
          "2α·min(1, r, l/α, l·r/α); feature variance (α − c)·min(1, l/α) + q·c; width-limited signal "
          "2α·q·min(1/2, r); noise 1 − min(1, l/α, q). The region is the term of least rate. We keep r "
          "inside the noisy signal term, where the authors' notebook uses 1.",)
_WIGNER = ("Semicircle law: ρ(x) = √(4 − x²)/(2π) on [−2, 2].",)
_WHITE = ("Marchenko-Pastur law of Σ̂ = XᵀX/P for white data, q = D/P: ρ(λ) = √((λ₊ − λ)(λ − λ₋))/(2π q λ) "
          "on [λ₋, λ₊], λ± = (1 ± √q)², plus a mass 1 − 1/q at 0 when q > 1.",)
_STRUCTURED = (
    "Silverstein's equation for the resolvent trace g(z) = (1/D) tr(Σ̂ − z)⁻¹: "
    "g(z) = (1/D) Σ_k 1/(η_k(1 − q − q z g(z)) − z); density Im g(x + i0⁺)/π (dashed: the population "
    "spectrum η_k = k^(−α)).",
    "Deterministic equivalence: λ(Σ̂ + λ)⁻¹ ≃ κ(Σ + κ)⁻¹ with λ = κ(1 − q·df₁(κ)).",
)
_DEEP = ("Product Wishart: the S-transforms of the white Wishart factors multiply, S(t) = Π_l 1/(1 + q_l t), "
         "which gives the cubic of docs/figures.md A4 for the resolvent; the density is its physical root.",)

_LR, _RF, _WIDTH = ("linear_ridge",), ("random_features",), ("rf_width_sweep",)

FIGURE_KINDS = {
    "lr_venn": FigureKind("linear_ridge", "plot_venn", equations=_VENN),
    "lr_isotropic": FigureKind("linear_ridge", "plot_isotropic", ("main", "double_descent"), _LR),
    "lr_powerlaw": FigureKind("linear_ridge", "plot_powerlaw", ("capacity", "source"), _LR),
    "lr_multiple_descent": FigureKind("linear_ridge", "plot_multiple_descent", ("main",), _LR,
                                      params=SCHEMAS["lr_multiple_descent"]),
    "rf_venn": FigureKind("random_features", "plot_venn", equations=_VENN),
    "rf_isotropic": FigureKind("random_features", "plot_isotropic", ("main",), _RF),
    "nonlinear_equivalence": FigureKind("random_features", "plot_nonlinear", ("relu", "erf"),
                                        ("nonlinear_random_features",), params=SCHEMAS["nonlinear_equivalence"]),
    "rf_scaling": FigureKind("random_features", "plot_scaling", ("main",), _RF, params=SCHEMAS["rf_scaling"],
                             check=CHECKS["rf_scaling"]),
    "rf_phase": FigureKind("random_features", "plot_phase", equations=_PHASE, params=SCHEMAS["rf_phase"]),
    "width_curves": FigureKind("random_features", "plot_width_sweep", ("main",), _WIDTH),
    "real_data_errors": FigureKind("real_data", "plot_real_data", REAL_DATA_ROLES, ("real_data",) + _LR + _RF),
    # section A: each samples its own random matrices (builder) and reads no experiment
    "wigner": FigureKind("spectra", "plot_wigner", builder="build_wigner", equations=_WIGNER,
                         params=SCHEMAS["wigner"], check=CHECKS["wigner"]),
    "white_wishart": FigureKind("spectra", "plot_white_wishart", builder="build_white_wishart", equations=_WHITE,
                                params=SCHEMAS["white_wishart"], check=CHECKS["white_wishart"]),
    "structured_wishart": FigureKind("spectra", "plot_structured_wishart", builder="build_structured_wishart",
                                      equations=_STRUCTURED, params=SCHEMAS["structured_wishart"],
                                      check=CHECKS["structured_wishart"]),
    "deep_wishart": FigureKind("spectra", "plot_deep_wishart", builder="build_deep_wishart", equations=_DEEP,
                               params=SCHEMAS["deep_wishart"], check=CHECKS["deep_wishart"]),
}


def contact_sheet(pngs, out_path) -> None:
    """One PDF page per figure PNG, titled by its file name: every figure of a scale in one file to review."""
    from pathlib import Path

    import matplotlib.image as mpimg
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure

    from ..io import atomic_path

    with atomic_path(out_path) as tmp, PdfPages(tmp, metadata={"CreationDate": None}) as pdf:
        for png in pngs:
            image = mpimg.imread(png)
            h, w = image.shape[:2]
            fig = Figure(figsize=(11.0, 11.0 * h / w + 0.5))
            ax = fig.add_axes((0, 0, 1, 1 - 0.4 / fig.get_figheight()))
            ax.imshow(image)
            ax.axis("off")
            fig.suptitle(Path(png).stem.replace("_", "  "), fontsize=11, y=0.995)
            pdf.savefig(fig)


def draw(spec: dict, data: dict):
    """The finished figure of `spec`: its kind's plot function in the shared style, then the rules every
    figure shares (hidden.py: no curve hides under another)."""
    from .hidden import dash_hidden_lines
    from .style import apply_style

    apply_style()
    fig = FIGURE_KINDS[spec["kind"]].plot()(spec, data)
    dash_hidden_lines(fig)
    return fig


def render(spec: dict, data: dict, pdf_path, png_path, record: dict | None = None, scale: str | None = None):
    """Draw the figure of `spec` with its footnote (a tag when `scale` is not the paper's, the note computed
    from `data`, the paper's file names) and save it as PDF and PNG (each written atomically), the footnote's
    texts also in their metadata, and `record` (the figure's provenance, JSON) under io.FIGURE_RECORD_KEY:
    the PNG's text chunk, the PDF's Info entry.  Returns the figure."""
    from ..notes import NOTE_KEY, PAPER_KEY, note_text, paper_line
    from .style import footnote, scale_tag

    fig = draw(spec, data)
    # the note is computed once, here, from the data drawn; the caption reads it back from the PNG
    note, paper = note_text(spec, data, FIGURE_KINDS[spec["kind"]].roles), paper_line(spec)
    footnote(fig, note, paper, scale_tag(scale))
    for path, fmt in ((pdf_path, "pdf"), (png_path, "png")):
        texts = {key[fmt]: text for key, text in ((NOTE_KEY, note), (PAPER_KEY, paper)) if text}
        save_figure(fig, path, fmt, None if record is None else dict(record, note=note), texts)
    return fig


def save_figure(fig, path, fmt: str, record: dict | None = None, texts: dict | None = None) -> None:
    """Save `fig` as `fmt` ("pdf" or "png") atomically at PNG_DPI, with `record` (a provenance record, JSON)
    under io.FIGURE_RECORD_KEY and the metadata entries `texts`; a PDF gets no creation date, so its bytes
    depend on its contents only.  `ridgerenorm audit` reads the record back."""
    import warnings

    from ..io import FIGURE_RECORD_KEY, atomic_path

    meta = {} if fmt == "png" else {"CreationDate": None}
    meta |= texts or {}
    if record is not None:
        meta[FIGURE_RECORD_KEY[fmt]] = json.dumps(record, sort_keys=True)  # ASCII: a PNG tEXt chunk
    with atomic_path(path) as tmp, warnings.catch_warnings():
        # a PDF Info entry of our own is valid PDF; matplotlib warns about keys it does not know
        warnings.filterwarnings("ignore", message="Unknown infodict keyword")
        fig.savefig(tmp, format=fmt, dpi=PNG_DPI, metadata=meta)
