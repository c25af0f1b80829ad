"""Power-law spectrum {D, alpha}: eta_k = k^-alpha; and its power-law teacher {r}:
w_k = k^(-(1 + alpha (2r - 1))/2), so that the signal in mode k, eta_k w_k^2, falls as k^-(1 + 2 alpha r)."""

from __future__ import annotations

import numpy as np

from .base import SpectrumKind, TeacherKind, number


def _k(D: int) -> np.ndarray:
    return np.arange(1, D + 1, dtype=float)


class PowerLaw(SpectrumKind):
    name = "power_law"
    description = "eta_k = k^-alpha for k = 1..D"
    properties = {"D": {"$ref": "#/$defs/positive_int"}, "alpha": {"type": "number", "exclusiveMinimum": 0}}
    required = ("D", "alpha")

    def eigenvalues(self, spectrum):
        return _k(self.dimension(spectrum)) ** (-float(spectrum["alpha"]))

    def caption(self, spectrum):
        return f"power-law spectrum λ_k ∝ k^-α, α = {number(spectrum['alpha'])}, D = {number(spectrum['D'])}"

    def label_parts(self, spectrum):
        return [rf"$\alpha$={spectrum['alpha']:g}"]

    def guide_facts(self, spectrum):
        return {"alpha": spectrum["alpha"]}


class PowerLawTeacher(TeacherKind):
    name = "power_law"
    description = "w_k = k^(-(1 + alpha (2r - 1))/2) (source exponent r)"
    properties = {"r": {"type": "number", "exclusiveMinimum": 0}}
    required = ("r",)
    needs = "power_law"

    def weights(self, teacher, spectrum, eta):
        alpha, r = float(spectrum["alpha"]), float(teacher["r"])
        return _k(eta.size) ** (-(1.0 + alpha * (2.0 * r - 1.0)) / 2.0)

    def caption(self, teacher):
        return f"power-law target, source exponent r = {number(teacher['r'])}"

    def label_parts(self, teacher):
        return [f"r={teacher['r']:g}"]

    def guide_facts(self, teacher):
        return {"r": teacher["r"]}


POWER_LAW = PowerLaw()
POWER_LAW_TEACHER = PowerLawTeacher()
