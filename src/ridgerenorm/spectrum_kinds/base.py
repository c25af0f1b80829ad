"""What every spectrum kind and teacher kind provides.

A `SpectrumKind` owns the keys of an experiment's `spectrum` mapping besides `kind` (a JSON-schema fragment
the config schema is assembled from), their checks, the dimension D and the eigenvalues eta it gives, and the
words a caption, a figure's parameter line and the reference guides (plotting/guides.py) take from it.  A
`TeacherKind` does the same for the `teacher` mapping and gives the teacher w in the eigenbasis; it may need
a particular spectrum kind (`needs`), whose keys it then reads (a power-law teacher reads alpha).

Checks call fail(key, value, why) with a key of the kind's own mapping (or a tuple of keys under it); the
config layer turns that into one line naming experiments.<name>.spectrum.<key> and its value.
"""

from __future__ import annotations

import numpy as np

__all__ = ["SpectrumKind", "TeacherKind", "number"]


def number(v) -> str:
    """A number as a caption states it: integers whole, others to 3 significant digits (captions.py uses the
    same rule for every number)."""
    if v is None:
        return "–"
    if isinstance(v, bool):
        return str(v).lower()
    v = float(v)
    if v.is_integer() and abs(v) < 1e6:
        return str(int(v))
    return f"{v:.3g}"


def numbers(values) -> str:
    return ", ".join(number(v) for v in values)


class SpectrumKind:
    """Base class of a spectrum kind; subclasses set the class attributes and implement `eigenvalues`."""

    name: str = ""
    description: str = ""
    properties: dict = {}  # JSON-schema properties of the kind's own spectrum keys
    required: tuple = ()  # keys a spectrum of this kind must give
    dimension_key: str = "D"  # the key a too-large dimension is reported under
    path_keys: tuple = ()  # keys holding file paths (resolved against the config file's directory)
    # keys a simulation job's memory grows with, and how a user shrinks each tenfold (config.py: "size")
    size_keys: dict = {"D": "size"}

    def check(self, spectrum: dict, fail) -> None:
        """Semantic checks the schema cannot express."""

    def dimension(self, spectrum: dict) -> int:
        return int(spectrum["D"])

    def eigenvalues(self, spectrum: dict) -> np.ndarray:
        """Population eigenvalues eta (descending), float64 of length D."""
        raise NotImplementedError

    def resolve(self, spectrum: dict, exp: dict) -> None:
        """Fill in a resolved experiment spec (in place): e.g. a content hash of an input file, or a default
        the spectrum supplies (sigma_eps)."""

    def caption(self, spectrum: dict) -> str:
        """The spectrum in a caption's words."""
        return f"{self.name} spectrum, D = {number(self.dimension(spectrum))}"

    def label_parts(self, spectrum: dict) -> list[str]:
        """What a figure's parameter line states about the spectrum besides D (matplotlib text)."""
        return []

    def guide_facts(self, spectrum: dict) -> dict:
        """Exponents the reference guides read (plotting/guides.py: alpha)."""
        return {}

    def structure(self, spectrum: dict) -> dict:
        """Variables that describe the spectrum's shape beyond eta, {name: (dims, values, attrs)} with dims not
        the eigen-index k (the blocks' sizes): written into the population file and carried into the theory
        file, so a figure reads them from its data (never re-derived from the config)."""
        return {}

    def unavailable(self, spectrum: dict) -> str | None:
        """One line saying what this machine lacks to sample the population (an optional dependency), or
        None; the workflow leaves out the figures of an experiment that cannot run, saying why."""
        return None

    def input_files(self, spectrum: dict) -> list[str]:
        """Files the population is read from (the workflow tracks their content)."""
        return [spectrum[k] for k in self.path_keys if k in spectrum]

    def __repr__(self) -> str:
        return f"<spectrum kind {self.name}>"


class TeacherKind:
    """Base class of a teacher kind; subclasses set the class attributes and implement `weights`."""

    name: str = ""
    description: str = ""
    properties: dict = {}  # JSON-schema properties of the kind's own teacher keys (`norm` is shared)
    required: tuple = ()
    needs: str | None = None  # the spectrum kind this teacher is defined on (None: any)

    def check(self, teacher: dict, spectrum: dict, fail) -> None:
        """Semantic checks the schema cannot express (the spectrum is already checked)."""

    def weights(self, teacher: dict, spectrum: dict, eta: np.ndarray) -> np.ndarray:
        """Teacher w in the eigenbasis of the spectrum (the order of eta), before the `norm` rescaling."""
        raise NotImplementedError

    def caption(self, teacher: dict) -> str:
        """The teacher in a caption's words (without its norm, which every kind shares)."""
        return f"{self.name} target"

    def label_parts(self, teacher: dict) -> list[str]:
        return []

    def guide_facts(self, teacher: dict) -> dict:
        """Exponents the reference guides read (plotting/guides.py: r)."""
        return {}

    def __repr__(self) -> str:
        return f"<teacher kind {self.name}>"
