"""The spectrum-kind registry: the `kind` of an experiment's `spectrum` (and of its `teacher`) names one object
here, which owns everything kind-specific: its config keys (a schema fragment merged into the config
schema) and checks, the population it gives (eta, w), and the words captions, figure labels and reference
guides take from it.  Nothing outside this package branches on a kind's name.

    from ridgerenorm.spectrum_kinds import population, register
    eta, w = population({"kind": "power_law", "D": 100, "alpha": 1.5}, {"kind": "flat"})

A new kind is one module defining a `SpectrumKind` (and, if it brings its own teacher, a `TeacherKind`)
instance and one `register(...)` call: below for the built-in kinds; a user's kind is registered the same
way from outside the package (tests/toy_spectrum_kind.py).
"""

from __future__ import annotations

import copy

import numpy as np

from .base import SpectrumKind, TeacherKind, number

__all__ = ["SpectrumKind", "TeacherKind", "SPECTRUM_KINDS", "TEACHER_KINDS", "register", "version", "spectrum_kind",
           "teacher_kind", "dimension", "dimension_key", "size_keys", "population", "structure", "check", "spectrum_schema",
           "teacher_schema", "resolve", "unavailable", "file_keys", "anchor_paths", "caption_words", "label_parts", "guide_facts"]

SPECTRUM_KINDS: dict[str, SpectrumKind] = {}
TEACHER_KINDS: dict[str, TeacherKind] = {}
_REGISTRATIONS: list = []

# the teacher key every kind shares: rescale w to this Euclidean norm (null keeps the kind's own scaling)
NORM = {"norm": {"type": ["number", "null"], "exclusiveMinimum": 0}}


class UnknownKindError(ValueError):
    pass


def _merge_properties(registry: dict, kind) -> None:
    """A key two kinds share must mean the same (one schema for it in the merged config schema)."""
    for other in registry.values():
        if other.name == kind.name:
            continue
        for key, sub in kind.properties.items():
            if key in other.properties and other.properties[key] != sub:
                raise ValueError(f"{kind!r} declares key {key!r} unlike {other!r}: a key shared by two kinds "
                                 "must have one schema")


def register(kind):
    """Add a spectrum or teacher kind to the registry under kind.name (replacing one of the same name)."""
    if isinstance(kind, SpectrumKind):
        registry = SPECTRUM_KINDS
    elif isinstance(kind, TeacherKind):
        registry = TEACHER_KINDS
    else:
        raise TypeError(f"register() takes a SpectrumKind or TeacherKind instance, got {type(kind).__name__}")
    if not kind.name:
        raise ValueError(f"{type(kind).__name__} has no name")
    _merge_properties(registry, kind)
    registry[kind.name] = kind
    _REGISTRATIONS.append(kind)
    return kind


def version() -> int:
    """A number that changes whenever a kind is registered (what the assembled config schema is cached by)."""
    return len(_REGISTRATIONS)


def _lookup(registry: dict, mapping: dict, what: str):
    name = mapping.get("kind") if isinstance(mapping, dict) else None
    try:
        return registry[name]
    except (KeyError, TypeError):
        raise UnknownKindError(f"{what}.kind = {name!r}: unknown {what} kind (known: {', '.join(sorted(registry))})") \
            from None


def spectrum_kind(spectrum: dict) -> SpectrumKind:
    return _lookup(SPECTRUM_KINDS, spectrum, "spectrum")


def teacher_kind(teacher: dict) -> TeacherKind:
    return _lookup(TEACHER_KINDS, teacher, "teacher")


# ------------------------------------------------------------------------------------------ schema


def _schema(registry: dict, shared: dict, description: str) -> dict:
    properties = {"kind": {"enum": sorted(registry)}}
    for kind in registry.values():
        properties.update(copy.deepcopy(kind.properties))
    properties.update(copy.deepcopy(shared))
    return {"type": "object", "required": ["kind"], "description": description, "properties": properties,
            "additionalProperties": False}


def spectrum_schema() -> dict:
    """The `spectrum` mapping's schema: kind is a registered name, the keys are every kind's (which keys a
    kind takes is checked by `check`)."""
    return _schema(SPECTRUM_KINDS, {}, "population eigenvalues: " + "; ".join(
        f"{k.name} ({k.description})" for k in SPECTRUM_KINDS.values()))


def teacher_schema() -> dict:
    return _schema(TEACHER_KINDS, NORM, "teacher in the eigenbasis: " + "; ".join(
        f"{k.name} ({k.description})" for k in TEACHER_KINDS.values()))


# ------------------------------------------------------------------------------------------ checks


def _own_keys(kind, mapping: dict, fail, what: str, shared=()) -> None:
    for key in mapping:
        if key != "kind" and key not in kind.properties and key not in shared:
            fail(key, mapping[key], f"not a key of {what}.kind = {kind.name!r}")
    for key in kind.required:
        if key not in mapping:
            fail(key, None, f"required for {what}.kind = {kind.name!r}")


def check(spectrum: dict, teacher: dict | None, fail) -> None:
    """Semantic checks of a spectrum and its teacher (already of the schema's shape); fail(path, value, why)
    with a path starting at 'spectrum' or 'teacher'."""
    sk = spectrum_kind(spectrum)
    sfail = _under("spectrum", fail)
    _own_keys(sk, spectrum, sfail, "spectrum")
    sk.check(spectrum, sfail)
    if teacher is None:
        return
    tk = teacher_kind(teacher)
    tfail = _under("teacher", fail)
    if tk.needs is not None and tk.needs != sk.name:
        tfail("kind", tk.name, f"needs spectrum.kind = {tk.needs!r}, got {sk.name!r}")
    _own_keys(tk, teacher, tfail, "teacher", shared=NORM)
    tk.check(teacher, spectrum, tfail)


def _under(head: str, fail):
    def inner(key, value, why):
        fail((head,) + (tuple(key) if isinstance(key, tuple) else (key,)), value, why)
    return inner


# ------------------------------------------------------------------------------------------ population


def dimension(spectrum: dict) -> int:
    """Input dimension D of a spectrum spec.

    Examples
    --------
    >>> dimension({"kind": "blocks", "sizes": [10, 90], "values": [1.0, 0.1]})
    100
    """
    return spectrum_kind(spectrum).dimension(spectrum)


def dimension_key(spectrum: dict) -> str:
    """The spectrum key a too-large dimension is reported under."""
    return spectrum_kind(spectrum).dimension_key


def population(spectrum: dict, teacher: dict) -> tuple[np.ndarray, np.ndarray]:
    """The population eigenvalues eta of Sigma (descending) and the teacher w in its eigenbasis, as float64
    arrays of length D: the two arrays the theory API (ridgerenorm.theory) takes.

    Parameters
    ----------
    spectrum : dict
        A registered spectrum kind, e.g. {"kind": "isotropic", "D": D}, {"kind": "power_law", "D": D,
        "alpha": a} (eta_k = k^-a), {"kind": "blocks", "sizes": [...], "values": [...]}, or a population of
        your own ({"kind": "file", ...}, {"kind": "dataset", ...}; docs/spectrum_kinds.md).
    teacher : dict
        {"kind": "flat"} (w_k = 1), {"kind": "power_law", "r": r} (needs a power_law spectrum),
        {"kind": "blocks", "values": [...]} (needs a blocks spectrum), or the file/dataset teachers; an
        optional "norm" rescales w to that Euclidean norm.

    Returns
    -------
    eta, w : numpy.ndarray
        Both of length D.

    Raises
    ------
    ValueError
        An unknown or missing kind, or a teacher that does not fit the spectrum (one line).

    Examples
    --------
    >>> eta, w = population({"kind": "power_law", "D": 1000, "alpha": 1.5}, {"kind": "power_law", "r": 0.5})
    >>> eta.shape, eta[:3].round(4), w[:3].round(4)
    ((1000,), array([1.    , 0.3536, 0.1925]), array([1.    , 0.7071, 0.5774]))
    """
    sk, tk = spectrum_kind(spectrum), teacher_kind(teacher)
    if tk.needs is not None and tk.needs != sk.name:
        raise ValueError(f"teacher.kind = {tk.name!r} needs spectrum.kind = {tk.needs!r}, got {sk.name!r}")
    eta = sk.eigenvalues(spectrum)
    w = tk.weights(teacher, spectrum, eta)
    norm = teacher.get("norm")
    if norm is not None:
        w = w * (float(norm) / np.linalg.norm(w))
    return eta, w


def structure(spectrum: dict) -> dict:
    """The spectrum's shape beyond eta as variables {name: (dims, values, attrs)} (SpectrumKind.structure)."""
    return spectrum_kind(spectrum).structure(spectrum)


def resolve(exp: dict) -> None:
    """Let the spectrum kind fill in a resolved experiment spec (content hashes, defaults it supplies)."""
    spectrum_kind(exp["spectrum"]).resolve(exp["spectrum"], exp)


def unavailable(spectrum: dict) -> str | None:
    """What this machine lacks to use the spectrum (an optional extra), in one line; None when nothing."""
    return spectrum_kind(spectrum).unavailable(spectrum)


def file_keys(spectrum: dict) -> list[str]:
    """The keys of a spectrum mapping that hold file paths (those of any registered kind: an overlay config may
    give a path without the kind)."""
    keys = {k for kind in SPECTRUM_KINDS.values() for k in kind.path_keys}
    return [k for k in spectrum if k in keys and isinstance(spectrum[k], str)]


def anchor_paths(spectrum: dict, base_dir) -> None:
    """Resolve (in place) the spectrum's relative file paths against base_dir, the directory of the config
    file that gives them."""
    from .files import anchor

    for key in file_keys(spectrum):
        spectrum[key] = anchor(spectrum[key], base_dir)


def size_keys(spectrum: dict) -> dict:
    """{spectrum key: how to shrink it} of the keys a simulation job's size grows with (config.py)."""
    return dict(spectrum_kind(spectrum).size_keys)


# ------------------------------------------------------------------------------------------ words


def caption_words(spectrum: dict, teacher: dict) -> tuple[str, str]:
    """The spectrum and the teacher in a caption's words."""
    norm = "" if teacher.get("norm") is None else f", norm {number(teacher['norm'])}"
    return spectrum_kind(spectrum).caption(spectrum), teacher_kind(teacher).caption(teacher) + norm


def label_parts(spectrum: dict, teacher: dict) -> list[str]:
    """What a figure's parameter line states about the spectrum and the teacher (besides D)."""
    parts = spectrum_kind(spectrum).label_parts(spectrum) if spectrum else []
    return parts + (teacher_kind(teacher).label_parts(teacher) if teacher else [])


def guide_facts(spectrum: dict, teacher: dict) -> dict:
    """Exponents the reference guides read: alpha from the spectrum, r from the teacher (None when the kind
    defines none)."""
    facts = {"alpha": None, "r": None}
    if spectrum:
        facts.update(spectrum_kind(spectrum).guide_facts(spectrum))
    if teacher:
        facts.update(teacher_kind(teacher).guide_facts(teacher))
    return facts


from .isotropic import ISOTROPIC  # noqa: E402
from .power_law import POWER_LAW, POWER_LAW_TEACHER  # noqa: E402
from .blocks import BLOCKS, BLOCKS_TEACHER  # noqa: E402
from .flat import FLAT  # noqa: E402
from .file import FILE, FILE_TEACHER  # noqa: E402
from .dataset import DATASET, DATASET_TEACHER  # noqa: E402
from .digits import DIGITS, DIGITS_TEACHER  # noqa: E402

for _k in (ISOTROPIC, POWER_LAW, BLOCKS, FILE, DATASET, DIGITS, FLAT, POWER_LAW_TEACHER, BLOCKS_TEACHER, FILE_TEACHER,
           DATASET_TEACHER, DIGITS_TEACHER):
    register(_k)
