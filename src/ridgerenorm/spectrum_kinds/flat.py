"""Flat teacher {}: w_k = 1 on any spectrum."""

from __future__ import annotations

import numpy as np

from .base import TeacherKind


class Flat(TeacherKind):
    name = "flat"
    description = "w_k = 1"

    def weights(self, teacher, spectrum, eta):
        return np.ones(eta.size)

    def caption(self, teacher):
        return "flat target"


FLAT = Flat()
