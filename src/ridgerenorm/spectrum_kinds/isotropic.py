"""Isotropic spectrum {D}: eta_k = 1."""

from __future__ import annotations

import numpy as np

from .base import SpectrumKind, number


class Isotropic(SpectrumKind):
    name = "isotropic"
    description = "eta_k = 1 for k = 1..D"
    properties = {"D": {"$ref": "#/$defs/positive_int"}}
    required = ("D",)

    def eigenvalues(self, spectrum):
        return np.ones(self.dimension(spectrum))

    def caption(self, spectrum):
        return f"isotropic spectrum, D = {number(spectrum['D'])}"


ISOTROPIC = Isotropic()
