"""Spectrum of a dataset {path, labels}: the population is the dataset's own covariance and its teacher the
least-squares fit of its labels.

  path     the data matrix X, n samples x D features: a 2-D .npy array; a .csv table (a header naming a `y`
           column puts the labels there, every other column is a feature); a .nc variable `X` (2-D, samples
           first), which may come with a variable `y`.
  labels   (optional when `path` holds them) the labels y, n values: a 1-D .npy array, a .csv column `y` (or the
           only column), a .nc variable `y`.
  sha256   filled in when the experiment is resolved (as for the file kind).

With X and y centred (each column's mean removed): Sigma = X^T X / n = V diag(eta) V^T (eta descending, each
eigenvector's sign fixed so its largest entry is positive), beta = the least-squares coefficients of y on X,
teacher w = V^T beta, and label noise sigma_eps^2 = |y - X beta|^2 / (n - D), the residual variance (used
when the experiment gives no sigma_eps).  It needs n > D.  Teacher kind `dataset` takes this w.
"""

from __future__ import annotations

import functools

import numpy as np

from .base import TeacherKind
from .files import PATH, SHA256, FileBacked, FileProblem, KeyedProblem, column, keyed, read_table, vector

DATASET_KEYS = ("path", "labels")


def _matrix(table: dict) -> tuple[np.ndarray, np.ndarray | None]:
    """(X, y or None) of the data file."""
    if "X" in table:
        X = np.asarray(table["X"])
    elif "" in table:
        X = np.asarray(table[""])
    else:  # a .csv with a header: every column but y is a feature
        names = [k for k in table if k != "y"]
        if not names:
            raise FileProblem("has no feature columns")
        X = np.stack([np.asarray(table[k]) for k in names], axis=1)
    if X.dtype.kind not in "biuf":
        raise FileProblem(f"data matrix is not numeric (dtype {X.dtype})")
    if X.ndim != 2:
        raise FileProblem(f"data matrix is a {X.ndim}-D array of shape {X.shape}; expected samples x features (2-D)")
    X = X.astype(float)
    bad = np.argwhere(~np.isfinite(X))
    if bad.size:
        i, j = bad[0]
        raise FileProblem(f"X[{i}, {j}] = {X[i, j]} is not finite")
    y = table.get("y")
    return X, (None if y is None else np.asarray(y))


def load(spectrum: dict):
    """(eta descending, w, sigma_eps) of a dataset spectrum; KeyedProblem on bad input."""
    table = keyed("path", spectrum, read_table)
    X, y = keyed("path", spectrum, lambda p: _matrix(table))
    if "labels" in spectrum:
        y_table = keyed("labels", spectrum, read_table)
        y = keyed("labels", spectrum, lambda p: vector(column(y_table, ("y", ""), "labels"), "y", X.shape[0],
                                                                      per="row of the data matrix"))
    elif y is None:
        raise KeyedProblem("path", spectrum["path"], "holds no labels (a .csv column or .nc variable `y`); give "
                                                     "spectrum.labels")
    else:
        y = keyed("path", spectrum, lambda p: vector(y, "y", X.shape[0], per="row of the data matrix"))
    n, D = X.shape
    if n <= D:
        raise KeyedProblem("path", spectrum["path"], f"needs more samples than features for a least-squares "
                                                     f"teacher (n = {n}, D = {D})")
    return _decompose(X.tobytes(), X.shape, y.tobytes())


@functools.lru_cache(maxsize=4)
def _decompose(x_bytes: bytes, shape: tuple, y_bytes: bytes):
    X = np.frombuffer(x_bytes, dtype=float).reshape(shape)
    y = np.frombuffer(y_bytes, dtype=float)
    n, D = shape
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    vals, vecs = np.linalg.eigh(Xc.T @ Xc / n)
    eta, V = np.maximum(vals[::-1], 0.0), vecs[:, ::-1]
    V = V * np.sign(V[np.argmax(np.abs(V), axis=0), np.arange(D)])
    beta = np.linalg.lstsq(Xc, yc, rcond=None)[0]
    resid = yc - Xc @ beta
    return eta, V.T @ beta, float(np.sqrt(resid @ resid / (n - D)))


class Dataset(FileBacked):
    name = "dataset"
    description = "the covariance spectrum of a data matrix, teacher and noise from least squares on its labels"
    properties = {"path": PATH, "labels": PATH, **SHA256}
    required = ("path",)
    path_keys = DATASET_KEYS
    caption_words = "covariance spectrum of the dataset"
    load = staticmethod(load)


class DatasetTeacher(TeacherKind):
    name = "dataset"
    description = "least-squares coefficients of the dataset's labels, in its covariance's eigenbasis"
    needs = "dataset"

    def weights(self, teacher, spectrum, eta):
        return load(spectrum)[1]

    def caption(self, teacher):
        return "least-squares target of the dataset's labels"


DATASET = Dataset()
DATASET_TEACHER = DatasetTeacher()
