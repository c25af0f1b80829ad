"""Figure rendering: a registry of figure kinds, each a plot function in a submodule.

A plot function takes (spec, data) where spec is the figure's config entry (plus its id) and data maps a
role to the list of Datasets the rule passes for it ([simulation, theory] for experiment roles,
[dataset] for self-contained random-matrix figures), and returns a matplotlib Figure.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

__all__ = ["FIGURE_KINDS", "FigureKind", "render"]


@dataclass(frozen=True)
class FigureKind:
    module: str
    function: str
    roles: tuple = ()  # experiment roles the figure needs (config: figures.<id>.experiments)
    builder: str | None = None  # densities.<builder>(params, entropy) for self-contained figures

    def plot(self):
        return getattr(importlib.import_module(f"{__name__}.{self.module}"), self.function)


FIGURE_KINDS = {
    "lr_venn": FigureKind("linear_ridge", "plot_venn"),
    "lr_isotropic": FigureKind("linear_ridge", "plot_isotropic", ("main", "double_descent")),
    "lr_powerlaw": FigureKind("linear_ridge", "plot_powerlaw", ("capacity", "source")),
    "lr_multiple_descent": FigureKind("linear_ridge", "plot_multiple_descent", ("main",)),
    "rf_venn": FigureKind("random_features", "plot_venn"),
    "rf_isotropic": FigureKind("random_features", "plot_isotropic", ("main",)),
    "rf_scaling": FigureKind("random_features", "plot_scaling", ("main",)),
    "rf_phase": FigureKind("random_features", "plot_phase"),
    "rf_width_sweep": FigureKind("random_features", "plot_width_sweep", ("main",)),
    "wigner": FigureKind("spectra", "plot_wigner", builder="build_wigner"),
    "white_wishart": FigureKind("spectra", "plot_white_wishart", builder="build_white_wishart"),
    "structured_wishart": FigureKind("spectra", "plot_structured_wishart", builder="build_structured_wishart"),
    "deep_wishart": FigureKind("spectra", "plot_deep_wishart", builder="build_deep_wishart"),
}


def render(spec: dict, data: dict, pdf_path, png_path) -> None:
    """Draw the figure of `spec` and save it as PDF and PNG (each written atomically)."""
    from ..io import atomic_path
    from .style import apply_style

    apply_style()
    kind = FIGURE_KINDS[spec["kind"]]
    fig = kind.plot()(spec, data)
    for path, fmt in ((pdf_path, "pdf"), (png_path, "png")):
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=fmt, dpi=150, metadata=None if fmt == "png" else {"CreationDate": None})
