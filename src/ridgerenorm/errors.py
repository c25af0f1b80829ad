"""Exceptions shared by the theory and the random-matrix densities."""

from __future__ import annotations

__all__ = ["ConvergenceError"]


class ConvergenceError(RuntimeError):
    """A fixed-point or root solve did not reach its tolerance."""
