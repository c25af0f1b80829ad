"""Spectrum from files {path, w_path}: eigenvalues eta (and teacher w, label noise sigma_eps) a user supplies.

  path     eta: a 1-D .npy array; a .csv column named `eta` (or the only column); a .nc variable `eta`.  The
           same file may hold the teacher (a .csv column or .nc variable `w`) and, in a .nc file, the label
           noise (a scalar variable `sigma_eps`, used when the experiment gives no sigma_eps).
  w_path   (optional) w from its own file: a 1-D .npy array, a .csv column `w` (or the only column), a .nc
           variable `w`.
  sha256   filled in when the experiment is resolved: the files' content, so an edited file makes every result
           made from it stale; given in a config, it pins the content.

Eigenvalues may come in any order: they are sorted descending (stably) and w is permuted along.  The teacher
kind `file` takes w from these files; any teacher defined on every spectrum (flat) works too.
"""

from __future__ import annotations

import numpy as np

from .base import TeacherKind
from .files import PATH, SHA256, FileBacked, KeyedProblem, column, keyed, read_table, scalar, vector

FILE_KEYS = ("path", "w_path")


def load(spectrum: dict):
    """(eta descending, w permuted along or None, sigma_eps or None) of a file spectrum; KeyedProblem on bad
    input."""
    table = keyed("path", spectrum, read_table)
    eta = keyed("path", spectrum, lambda p: vector(column(table, ("eta", ""), "eigenvalues"), "eta",
                                                    nonnegative=True))
    if not np.any(eta > 0):
        raise KeyedProblem("path", spectrum["path"], "every eigenvalue is 0")
    if "w_path" in spectrum:
        w_table = keyed("w_path", spectrum, read_table)
        w = keyed("w_path", spectrum, lambda p: vector(column(w_table, ("w", ""), "teacher w"), "w", eta.size))
    else:
        raw = column(table, ("w",), "teacher w", required=False)
        w = None if raw is None else keyed("path", spectrum, lambda p: vector(raw, "w", eta.size))
    raw = column(table, ("sigma_eps",), "label noise", required=False)
    sigma_eps = None if raw is None else keyed("path", spectrum, lambda p: scalar(raw, "sigma_eps"))
    order = np.argsort(-eta, kind="stable")
    return eta[order], (None if w is None else w[order]), sigma_eps


class File(FileBacked):
    name = "file"
    description = "eta (and w, sigma_eps) read from a .npy, .csv or .nc file"
    properties = {"path": PATH, "w_path": PATH, **SHA256}
    required = ("path",)
    path_keys = FILE_KEYS
    load = staticmethod(load)


class FileTeacher(TeacherKind):
    name = "file"
    description = "w read from the file spectrum's files"
    needs = "file"

    def check(self, teacher, spectrum, fail):
        if load(spectrum)[1] is None:
            fail("kind", teacher["kind"], "the spectrum's file holds no teacher w (a .csv column or .nc variable "
                                          "w): give spectrum.w_path")

    def weights(self, teacher, spectrum, eta):
        w = load(spectrum)[1]
        if w is None:
            raise ValueError(f"teacher.kind = 'file': spectrum file {spectrum['path']} holds no teacher w")
        return w

    def caption(self, teacher):
        return "target read from the spectrum's file"


FILE = File()
FILE_TEACHER = FileTeacher()
