"""The handwritten digits that ship inside scikit-learn (an optional extra: pip install "ridgerenorm[data]"):
n = 1797 images of 8 x 8 pixels, D = 64, read from the wheel (no download).

The population is the dataset itself, its empirical distribution: x = pixels/16 centred by the mean of all
1797 images, Sigma = X^T X / n = V diag(eta) V^T (eta descending, each eigenvector's sign fixed so its largest
entry is positive; three pixels are 0 in every image, so three eigenvalues are 0).  The teacher kind
`digits` takes a target:

  labels   the one-hot class indicators (10 outputs, centred), the squared error summed over the 10 outputs.
           B = the least-squares coefficients of the labels on x (D x 10, in the eigenbasis); the residual
           r = y - x B is uncorrelated with x over the population and counts as label noise,
           sigma_eps^2 = (1/n) sum_i |r_i|^2 (over the population, hence 1/n, not 1/(n - D)).
  linear   y = x B itself: the same teacher without the residual (sigma_eps = 0).

Every error of a linear readout depends on B only through sum_c B_kc^2 per eigendirection, so the population
file's teacher is w_k = (sum_c B_kc^2)^(1/2) and the theory of one output applies to the sum.  `rows` gives
the rows themselves (in the eigenbasis) for the real-data model (models/real_data.py); without scikit-learn
the kind still validates (D = 64 is fixed) but `unavailable` says what is missing in one line.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError
from .base import SpectrumKind, TeacherKind

__all__ = ["DIGITS", "DIGITS_TEACHER", "Rows", "N_ROWS", "EXTRA_HINT"]

N_ROWS, N_PIXELS, N_CLASSES = 1797, 64, 10
EXTRA_HINT = "needs scikit-learn, an optional extra: pip install \"ridgerenorm[data]\""
TARGETS = ("labels", "linear")


class MissingExtra(ConfigError):
    """The optional dependency of a kind is not installed (str: one line; the CLI prints it as it prints a
    config error)."""


@dataclass(frozen=True)
class Rows:
    """The population's rows in the eigenbasis of Sigma: Z (n, D), targets Y (n, C), teacher B (D, C) with
    Y = Z B + residual, eta (D), and sigma_eps^2 = mean |residual|^2."""

    Z: np.ndarray
    Y: np.ndarray
    B: np.ndarray
    eta: np.ndarray
    noise_var: float


def _digits_source():
    """Where the digits come from: the table inside the installed scikit-learn (1797 rows: 64 pixels, then the
    class; a Path, found without importing scikit-learn, which costs a second of a Snakemake start-up), else
    scikit-learn's load_digits (a version that keeps the table elsewhere), else None (no scikit-learn)."""
    import importlib.util
    from pathlib import Path

    try:
        spec = importlib.util.find_spec("sklearn")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "datasets" / "data" / "digits.csv.gz"
    if path.is_file():
        return path
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        return None
    return load_digits


def _sklearn_digits():
    source = _digits_source()
    if source is None:
        raise MissingExtra(f"error: spectrum.kind = 'digits' {EXTRA_HINT}")
    if callable(source):
        data = source()
        return np.asarray(data.data, dtype=float), np.asarray(data.target, dtype=np.int64)
    table = np.loadtxt(source, delimiter=",")  # the table load_digits reads, read the same way (the same values)
    return table[:, :-1], table[:, -1].astype(np.int64)


@functools.lru_cache(maxsize=2)
def _decompose(target: str) -> Rows:
    pixels, labels = _sklearn_digits()
    X = pixels / 16.0
    Xc = X - X.mean(axis=0)
    n, D = Xc.shape
    vals, vecs = np.linalg.eigh(Xc.T @ Xc / n)
    eta, V = np.maximum(vals[::-1], 0.0), vecs[:, ::-1]
    V = V * np.sign(V[np.argmax(np.abs(V), axis=0), np.arange(D)])
    Z = Xc @ V
    onehot = np.eye(N_CLASSES)[labels]
    Yc = onehot - onehot.mean(axis=0)
    # least squares in the eigenbasis: B_k = z_k^T y / (n eta_k) where eta_k > 0 (a zero-variance
    # direction carries no signal); the rank cut is relative, as numpy's lstsq
    keep = eta > eta[0] * D * np.finfo(float).eps
    B = np.zeros((D, N_CLASSES))
    B[keep] = (Z[:, keep].T @ Yc) / (n * eta[keep, None])
    resid = Yc - Z @ B
    if target == "linear":
        Yc, noise = Z @ B, 0.0
    else:
        noise = float(np.sum(resid * resid) / n)
    for a in (Z, Yc, B, eta):
        a.setflags(write=False)
    return Rows(Z, Yc, B, eta, noise)


def rows_of(teacher: dict | None) -> Rows:
    return _decompose((teacher or {}).get("target", "labels"))


class Digits(SpectrumKind):
    name = "digits"
    description = ("the covariance spectrum of scikit-learn's 1797 handwritten digits (8 x 8 pixels / 16, "
                   "centred; optional extra)")
    properties: dict = {}
    dimension_key = "kind"
    size_keys: dict = {}
    n_rows = N_ROWS  # the rows a real-data model samples from (no file read: validation needs no extra)

    def dimension(self, spectrum):
        return N_PIXELS

    def eigenvalues(self, spectrum):
        return rows_of(None).eta.copy()

    def unavailable(self, spectrum):
        return f"spectrum.kind = 'digits' {EXTRA_HINT}" if _digits_source() is None else None

    def rows(self, spectrum, teacher) -> Rows:
        return rows_of(teacher)

    def resolve(self, spectrum, exp):
        # the labels' residual is the label noise the theory sees (module docstring); without the extra the
        # experiment cannot run and keeps the default
        teacher = exp.get("teacher") or {}
        if "sigma_eps" not in exp and teacher.get("kind") == DigitsTeacher.name and self.unavailable(spectrum) is None:
            exp["sigma_eps"] = float(np.sqrt(rows_of(teacher).noise_var))

    def caption(self, spectrum):
        return f"covariance spectrum of scikit-learn's handwritten digits (n = {N_ROWS}), D = {N_PIXELS}"

    def label_parts(self, spectrum):
        return [f"digits (n={N_ROWS})"]


class DigitsTeacher(TeacherKind):
    name = "digits"
    description = ("least-squares teacher of the digits' one-hot labels (target: labels, the residual as label "
                   "noise) or that linear function alone (target: linear)")
    properties = {"target": {"enum": list(TARGETS), "description": "labels: the one-hot class labels (residual "
                             "= label noise); linear: their least-squares fit x B, noiseless"}}
    required = ("target",)
    needs = "digits"

    def weights(self, teacher, spectrum, eta):
        B = rows_of(teacher).B
        return np.sqrt(np.sum(B * B, axis=1))

    def caption(self, teacher):
        if teacher.get("target") == "linear":
            return "the linear least-squares fit of the one-hot labels (noiseless)"
        return "the one-hot labels (least-squares teacher, residual as label noise)"

    def label_parts(self, teacher):
        return [f"target: {teacher.get('target')}"]


DIGITS = Digits()
DIGITS_TEACHER = DigitsTeacher()
