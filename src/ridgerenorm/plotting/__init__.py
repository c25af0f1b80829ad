"""Figure rendering: a registry of figure kinds, each one entry (`FigureKind`) added by `register()`.

An entry holds everything about its kind: the plot function, the data builder of a figure that makes its
own data, the JSON schema of its `params` and the check of what a schema cannot say, the memory of its data
job, the words its captions and data files use, and the guides it draws on its own (the series a test
expects in every figure of the kind).  The plot function and the builder are named "module:function" and
imported only when used, so validating a config imports no plotting library; a module outside the package
can define and register a kind the same way as the built-in ones below (tests/toy_figure_kind.py).

A plot function takes (spec, data) where spec is the figure's config entry (plus its id) and data maps a
role to the list of Datasets the rule passes for it ([simulation, theory] for experiment roles,
[dataset] for a figure with a builder), and returns a matplotlib Figure.  A builder takes (params,
entropy) and returns an xarray Dataset (`ridgerenorm spectra-data` adds its title and figure id).
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from dataclasses import dataclass

from . import params as _params
from .params import REAL_DATA_ROLES, SCHEMAS, check_scaling, data_job_check

__all__ = ["FIGURE_KINDS", "FigureKind", "register", "PNG_DPI", "draw", "render", "save_figure", "build_data", "contact_sheet"]

# the PNGs are read on screens: at 200 dpi the smallest text (6.5 pt) is 18 pixels high
PNG_DPI = 200


def _load(path: str):
    """The object a "module:function" path names (imported now)."""
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


@dataclass(frozen=True)
class FigureKind:
    name: str  # the `kind` value of a figure in the config
    plot: str  # "module:function" of the plot function
    roles: tuple = ()  # experiment roles the figure needs (config: figures.<id>.experiments)
    models: tuple = ()  # models (ridgerenorm.models) an experiment of these roles may have
    builder: str | None = None  # "module:function" making the data of a figure that reads no experiment
    title: str = ""  # its data file's title; "{figure}" stands for the figure id
    equations: tuple = ()  # caption equations of a figure that draws no experiment (docs/theory.md)
    params: dict | None = None  # JSON schema of figures.<id>.params; None: takes no params
    check: Callable | None = None  # check(params) of what the schema cannot say; raises params.ParamError
    memory: Callable | None = None  # memory(params): peak bytes of its data job, checked against the machine
    memory_key: str = ""  # the params key a message names when that job is larger than the machine
    guides: tuple = ()  # guide formulas (or gid prefixes) it draws whatever its params say

    def __post_init__(self):
        for field, path in (("plot", self.plot), ("builder", self.builder or "x:y")):
            module, sep, function = path.partition(":")
            if not (module and sep and function.isidentifier()):
                raise ValueError(f"figure kind {self.name!r}: {field} must be 'module:function', got {path!r}")
        if self.memory is not None and not self.memory_key:
            raise ValueError(f"figure kind {self.name!r}: a memory estimate needs the memory_key it names")

    @property
    def plot_module(self) -> str:
        return self.plot.partition(":")[0]

    @property
    def builder_module(self) -> str | None:
        return self.builder.partition(":")[0] if self.builder else None

    def load_plot(self) -> Callable:
        return _load(self.plot)

    def load_builder(self) -> Callable:
        return _load(self.builder)

    def check_params(self, params: dict) -> None:
        """ParamError (its key inside params) when params fail the kind's check or its data job is larger
        than this machine."""
        if self.check is not None:
            self.check(params)
        if self.memory is not None:
            data_job_check(self.memory, self.memory_key, params)


FIGURE_KINDS: dict[str, FigureKind] = {}


def register(kind: FigureKind) -> FigureKind:
    """Add a figure kind to the registry under kind.name (replacing one of the same name)."""
    if not isinstance(kind, FigureKind):
        raise TypeError(f"register() takes a FigureKind instance, got {type(kind).__name__}")
    FIGURE_KINDS[kind.name] = kind
    return kind


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


def _in(module: str, function: str) -> str:
    """A function of a package module, as a "module:function" path."""
    return f"{__name__.rpartition('.')[0]}.{module}:{function}"


def _spectra(name: str, figure_words: str, equations: tuple, memory, memory_key: str = "N", check=None) -> FigureKind:
    """A random-matrix figure (section A): it samples its own matrices (plotting.spectra_data.build_<name>,
    whose peak memory `memory` estimates) and reads no experiment."""
    return FigureKind(name, _in("plotting.spectra", f"plot_{name}"),
                      builder=_in("plotting.spectra_data", f"build_{name}"),
                      title="ridgerenorm random-matrix spectra of figure {figure}: " + figure_words,
                      equations=equations, params=SCHEMAS[name], check=check, memory=memory, memory_key=memory_key)


for _kind in (
    FigureKind("lr_venn", _in("plotting.linear_ridge", "plot_venn"), equations=_VENN),
    FigureKind("lr_isotropic", _in("plotting.linear_ridge", "plot_isotropic"), ("main", "double_descent"), _LR),
    FigureKind("lr_powerlaw", _in("plotting.linear_ridge", "plot_powerlaw"), ("capacity", "source"), _LR,
               guides=("kappa_capacity", "df_linear", "signal", "signal_source")),
    FigureKind("lr_multiple_descent", _in("plotting.linear_ridge", "plot_multiple_descent"), ("main",), _LR,
               params=SCHEMAS["lr_multiple_descent"]),
    FigureKind("rf_venn", _in("plotting.random_features", "plot_venn"), equations=_VENN),
    FigureKind("rf_isotropic", _in("plotting.random_features", "plot_isotropic"), ("main",), _RF),
    FigureKind("nonlinear_equivalence", _in("plotting.random_features", "plot_nonlinear"), ("relu", "erf"),
               ("nonlinear_random_features",), params=SCHEMAS["nonlinear_equivalence"]),
    FigureKind("rf_scaling", _in("plotting.random_features", "plot_scaling"), ("main",), _RF,
               params=SCHEMAS["rf_scaling"], check=check_scaling),
    FigureKind("rf_phase", _in("plotting.random_features", "plot_phase"), equations=_PHASE,
               params=SCHEMAS["rf_phase"]),
    FigureKind("width_curves", _in("plotting.random_features", "plot_width_sweep"), ("main",), _WIDTH,
               guides=("width-guide",)),
    FigureKind("real_data_errors", _in("plotting.real_data", "plot_real_data"), REAL_DATA_ROLES,
               ("real_data",) + _LR + _RF),
    _spectra("wigner", "Wigner matrix eigenvalues and the semicircle law", _WIGNER, _params.wigner_job_bytes,
             check=_params.check_xlim),
    _spectra("white_wishart", "white-data sample-covariance eigenvalues and the Marchenko-Pastur law", _WHITE,
             _params.white_wishart_job_bytes),
    _spectra("structured_wishart", "power-law-data sample-covariance eigenvalues and the Silverstein density",
             _STRUCTURED, _params.structured_wishart_job_bytes, check=_params.check_bin_edges),
    _spectra("deep_wishart", "product-Wishart eigenvalues and their limiting density", _DEEP,
             _params.deep_wishart_job_bytes, "widths"),
):
    register(_kind)


def build_data(spec: dict, entropy):
    """The data of figure `spec` (its config entry with its id) made by its kind's builder from its params,
    titled after the kind and the figure."""
    kind = FIGURE_KINDS[spec["kind"]]
    ds = kind.load_builder()(spec.get("params", {}), entropy)
    ds.attrs.update(title=kind.title.format(figure=spec["id"]), figure=spec["id"])
    return ds


# The functions below import the plotting library's modules (style, hidden, matplotlib) inside themselves, on
# purpose: validating a config imports this registry, and a code stamp (deps.py) follows where imports are
# placed, so only the steps that draw (figure, contact-sheet) depend on the drawing code.


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
    fig = FIGURE_KINDS[spec["kind"]].load_plot()(spec, data)
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
