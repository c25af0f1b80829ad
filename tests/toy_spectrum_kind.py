"""A spectrum kind defined outside the package: a geometric spectrum eta_k = ratio^(k-1).

It exists to show that a spectrum kind is one module plus one `register` call: the config schema, its
checks, the population, the captions and the figures' parameter line all pick it up from the registry.
"""

from __future__ import annotations

import numpy as np

from ridgerenorm.spectrum_kinds import SpectrumKind, register


class Geometric(SpectrumKind):
    name = "toy_geometric"
    description = "eta_k = ratio^(k-1) for k = 1..D"
    properties = {"D": {"$ref": "#/$defs/positive_int"}, "ratio": {"type": "number", "exclusiveMinimum": 0}}
    required = ("D", "ratio")

    def check(self, spectrum, fail):
        if spectrum["ratio"] > 1:
            fail("ratio", spectrum["ratio"], "must be <= 1 (eigenvalues in descending order)")

    def eigenvalues(self, spectrum):
        return float(spectrum["ratio"]) ** np.arange(self.dimension(spectrum), dtype=float)

    def caption(self, spectrum):
        return f"geometric spectrum, ratio {spectrum['ratio']:g}, D = {spectrum['D']}"

    def label_parts(self, spectrum):
        return [f"ratio={spectrum['ratio']:g}"]


register(Geometric())
