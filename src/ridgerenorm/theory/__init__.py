"""Deterministic-equivalent theory of ridge regression and random features (docs/theory.md §1, §3-§6, §9).

The public entry points take population eigenvalues `eta` and the teacher `w` expressed in the eigenbasis of
the population covariance, so they work on any user-supplied spectrum; everything is vectorized over a grid
of (P, lambda) points.  This package re-exports them all (``from ridgerenorm import theory;
theory.linear_ridge(...)``); its modules are split by model beside one shared solver:

- checks.py: the argument checks every public function runs;
- solver.py: the spectral functionals df1, df2, tf1, tf1_prime, tf2 and the kappa solver solve_kappa;
- lr.py: linear_ridge (§3);
- rf.py: random_features (§4, §5), with its kappa2 solver and feature layers;
- nonlinear.py: equivalent_theory, the Gaussian equivalent of nonlinear random features (§9);
- phase.py: the phase diagram phase_rates, PHASE_LABELS (§6) and finite_width_exponent (C7).

(The modules of linear ridge and random features are not named like their functions, so that
``ridgerenorm.theory.linear_ridge`` is always the function, whichever of them was imported first.)

Inputs that cannot lie: every public function validates its arguments (ValueError naming the argument and
the offending value, e.g. "sigma_xi must be a finite number >= 0, got nan"); the solvers check their
residual in a cancellation-free form and raise ConvergenceError rather than return a wrong number; and where
an expression is 0/0 or inf - inf (lam = 0 at a rank or width threshold, zero eigenvalues, lam -> infinity)
the exact limit is returned instead of NaN.

Code stamps follow imports (deps.py): importing any module of this package runs this file, which loads
every theory module, so an edit to any of them reruns every step that imports the theory.  Models therefore
import it only inside their `theory` method, and code that other steps need (the activations' closed forms
of §9, which the simulation uses) lives outside it.
"""

from __future__ import annotations

from ..errors import ConvergenceError  # re-exported: part of this package's API
from .lr import linear_ridge
from .nonlinear import equivalent_theory
from .phase import PHASE_LABELS, finite_width_exponent, phase_rates
from .rf import random_features
from .solver import df1, df2, solve_kappa, tf1, tf1_prime, tf2

__all__ = [
    "ConvergenceError",
    "df1",
    "df2",
    "tf1",
    "tf1_prime",
    "tf2",
    "solve_kappa",
    "linear_ridge",
    "random_features",
    "equivalent_theory",
    "PHASE_LABELS",
    "phase_rates",
    "finite_width_exponent",
]
