"""What the explorer computes, without any web code: an experiment from the page's controls, its theory
curves through the model registry (Model.theory, the function the pipeline's theory step calls), the
experiment of the config it equals and that experiment's simulation markers and agreement rows, and the
config YAML of the current parameters.

The page sends an experiment as the config writes one (model, spectrum, teacher, ridge, sigma_eps, widths,
...).  Every value goes through the config's own checks (config.check_experiment, experiment_spec), so a bad
combination comes back as the config's one-line error and a saved experiment is one `check-config` accepts.
"""

from __future__ import annotations

import copy
import csv
import hashlib
import os
import json
import math
import re
import shutil
import tempfile
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import xarray as xr
import yaml
from matplotlib.colors import to_hex  # the figures' colours (matplotlib names such as tab:blue) as CSS colours

from .. import config as cfg
from .. import io, spectra, spectrum_kinds
from ..errors import ConfigError, ConvergenceError
from ..models import MODELS, get_model
from ..plotting.guides import GUIDES, guide_line
from ..plotting.style import log_error_bars
from ..quantities import QUANTITIES, value_of

__all__ = ["Explorer", "ExploreError", "explorable_models", "html_label", "config_yaml", "one_line"]

# Keys of an experiment that only the simulation reads (the page fills them so a saved experiment is complete).
SIMULATION_DEFAULTS = {"draws": 10, "feature_draws": 10}
# Shared keys of an experiment the explorer passes on (description and block are the config's business).
SHARED_KEYS = ("model", "spectrum", "teacher", "ridge", "sigma_eps", "samples", "theory_samples", "draws")
# Keys that, with the model's own theory keys, decide the theory curves (the grids do not: they only choose
# where the curves are evaluated).
GRID_KEYS = ("name", "samples", "theory_samples")
# A spectrum uploaded in the page: the registry's kind that reads eigenvalues (and a teacher) from a file, the
# suffixes it is stored under (a plain-text list is the one-column .csv format), and the limits of an upload.
UPLOAD_KIND = "file"
UPLOAD_SUFFIXES = {".npy": ".npy", ".csv": ".csv", ".txt": ".csv"}
MAX_UPLOAD_BYTES = 8 * 2**20
MAX_UPLOAD_VALUES = 10**5  # the D slider's largest dimension


class ExploreError(ValueError):
    """A bad request from the page (unknown experiment, a request that is not an experiment)."""


def one_line(err: BaseException) -> str:
    return " ".join(str(err).split()) or type(err).__name__


def explorable_models() -> list[dict]:
    """Models whose theory is a curve over the sample size P (they take `samples`), with their own keys and
    the options of each enumerated key, as the page builds its controls from them."""
    out = []
    for name, m in MODELS.items():
        if "samples" not in m.required:
            continue
        options = {k: list(v["enum"]) for k, v in m.properties.items() if isinstance(v, dict) and "enum" in v}
        out.append({"name": name, "description": m.description, "keys": sorted(m.properties), "options": options,
                    "required": list(m.required)})
    return out


_GREEK = {r"\epsilon": "ε", r"\kappa": "κ", r"\gamma": "γ", r"\alpha": "α", r"\sigma": "σ", r"\xi": "ξ",
          r"\lambda": "λ", r"\min": " min", r"\times": "×"}


def html_label(tex: str | None) -> str:
    """A matplotlib mathtext label (quantities.py, guides.py) as the HTML Plotly draws: sub- and superscripts
    as <sub>/<sup>, Greek letters as characters."""
    if not tex:
        return ""
    s = tex.replace("$", "")
    s = re.sub(r"\\mathrm\{([^{}]*)\}", r"\1", s)
    s = re.sub(r"\\hat\{?([A-Za-z\\]+)\}?", r"\1&#770;", s)
    s = s.replace(r"\,", " ")
    for k, v in _GREEK.items():
        s = s.replace(k, v)
    s = s.replace("( min", "(min").replace("{ min", "{min")  # an operator's space only after a symbol
    for mark, tag in (("_", "sub"), ("^", "sup")):
        s = re.sub(re.escape(mark) + r"\{([^{}]*)\}", rf"<{tag}>\1</{tag}>", s)
        s = re.sub(re.escape(mark) + r"(.)", rf"<{tag}>\1</{tag}>", s)
    return s.replace("{", "").replace("}", "").strip()


def _finite_list(values) -> list:
    """Floats for JSON: non-finite values (a divergence at a threshold) as null, which Plotly leaves as a gap."""
    a = np.asarray(values, dtype=float)
    return [float(v) if math.isfinite(v) else None for v in a.tolist()]


def _nonpositive(values) -> list[int]:
    """Indices of the finite values <= 0: on a log axis they cannot be drawn where they are, so the page marks
    them at the axis floor instead of letting them vanish (non-finite values stay gaps)."""
    a = np.asarray(values, dtype=float)
    return np.flatnonzero(np.isfinite(a) & (a <= 0)).tolist()


def _floor(curves: list[dict], markers: list[dict]) -> float | None:
    """Where the page marks values <= 0: a third of the smallest positive value drawn (a theory value, a
    simulation mean or the bottom of its error bar), so the marks sit below everything else; None when no
    value is <= 0."""
    if not any(c["nonpositive"] for c in curves + markers):
        return None
    lows = [np.asarray(c["y"], dtype=float) for c in curves + markers]
    lows += [np.asarray(m["y"], dtype=float) - np.asarray(m["lower"], dtype=float) for m in markers if m["lower"]]
    a = np.concatenate([np.where(np.isnan(x), np.inf, x) for x in lows])
    positive = a[np.isfinite(a) & (a > 0)]
    return float(positive.min() / 3) if positive.size else 1.0


def _plain(value):
    """Plain JSON types (numpy scalars as Python numbers)."""
    return json.loads(json.dumps(value, default=float))


def _same(a, b) -> bool:
    """Equal parameters: numbers to 1e-9 relative, containers element by element."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    num = (int, float)
    if isinstance(a, num) and isinstance(b, num) and not isinstance(a, bool) and not isinstance(b, bool):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=0.0)
    return a == b


def config_yaml(name: str, exp: dict, scale: str = "explore") -> str:
    """A config file holding the experiment `exp` under `name`: `ridgerenorm check-config FILE` accepts it, and
    its experiment block can be pasted into config/config.yaml."""
    doc = {"scale": scale, "experiments": {name: exp}, "figures": {}}
    return yaml.safe_dump(doc, sort_keys=False, default_flow_style=None, width=100)


class Explorer:
    """The explorer's state on the server: the config of one scale (for its experiments and their results) and
    small caches of population spectra and simulation files."""

    def __init__(self, root: str | Path = ".", scale: str = "quick", workers: int | None = None,
                 split_above: float = 1e6):
        self.root = Path(root)
        self.scale = scale
        # threads a large theory grid is split over (split_above: size of grid x D from which it is)
        self.workers = workers if workers is not None else min(2, os.cpu_count() or 1)
        self.split_above = split_above
        self._pool = ThreadPoolExecutor(self.workers) if self.workers > 1 else None
        self._lock = threading.Lock()
        self._populations: OrderedDict = OrderedDict()
        self._files: dict = {}
        self.config, self.config_error = self._load_config()
        self._specs = {n: cfg.experiment_spec(self.config, n) for n in self.config["experiments"]} if self.config else {}
        # uploaded spectra: stored by content hash in a folder of this explorer's own, {path: the user's name}
        self._uploads_dir: tempfile.TemporaryDirectory | None = None
        self._uploads: dict[str, str] = {}

    # ------------------------------------------------------------------ the config's experiments

    def _config_files(self) -> list[Path]:
        base = self.root / "config" / "config.yaml"
        overlay = self.root / "config" / f"{self.scale}.yaml"
        return [base] + ([overlay] if self.scale != "paper" and overlay.is_file() else [])

    def _load_config(self):
        files = self._config_files()
        if not files[0].is_file():
            return None, f"no {files[0]}: experiments and their simulations are not shown"
        try:
            return cfg.load_config(*files), None
        except ConfigError as err:
            return None, one_line(err)

    @property
    def results(self) -> Path:
        return self.root / "results" / (self.config["scale"] if self.config else self.scale)

    def experiments(self) -> list[dict]:
        """The config's experiments the explorer can draw, with whether their simulation exists."""
        if self.config is None:
            return []
        names = {m["name"] for m in explorable_models()}
        return [{"name": n, "model": e["model"], "description": e.get("description", ""),
                 "simulated": (self.results / "simulation" / f"{n}.nc").is_file()}
                for n, e in self.config["experiments"].items() if e["model"] in names]

    def experiment_state(self, name: str) -> dict:
        """The page's parameters of a config experiment: its resolved spec without the keys the page does not
        set (name, seed, D, block)."""
        if self.config is None or name not in self.config["experiments"]:
            known = ", ".join(e["name"] for e in self.experiments()) or "none"
            raise ExploreError(f"experiment {name!r}: not an experiment of the {self.scale} config (known: {known})")
        spec = self._specs[name]
        if "samples" not in get_model(spec["model"]).required:
            raise ExploreError(f"experiment {name!r}: model {spec['model']!r} is not a curve over P")
        return _plain({k: v for k, v in spec.items() if k not in ("name", "seed", "D", "block")})

    # ------------------------------------------------------------------ an experiment from the page

    def experiment(self, state: dict) -> dict:
        """The page's parameters as a config experiment: the model's keys only, simulation-only keys filled in."""
        if not isinstance(state, dict) or not isinstance(state.get("model"), str):
            raise ExploreError("a request is a JSON object of experiment parameters with a model")
        model = get_model(state["model"])
        keep = SHARED_KEYS + tuple(model.properties)
        exp = {k: copy.deepcopy(state[k]) for k in keep if k in state and state[k] is not None}
        for key, value in SIMULATION_DEFAULTS.items():
            if key in keep and key not in exp:
                exp[key] = value
        self._check_files(exp.get("spectrum"))
        return exp

    def _check_files(self, spectrum) -> None:
        """The page reads no file of the machine but its uploads and the config's own input files."""
        if not isinstance(spectrum, dict):
            return
        known = set(self._uploads) | {other["spectrum"][k] for other in self._specs.values()
                                      for k in spectrum_kinds.file_keys(other["spectrum"])}
        for key in spectrum_kinds.file_keys(spectrum):
            if spectrum[key] not in known:
                raise ExploreError(f"spectrum.{key} = {spectrum[key]!r}: not a file uploaded to this page nor an "
                                   "input file of the config (upload the spectrum)")

    # ------------------------------------------------------------------ a spectrum the user uploads

    def upload(self, filename: str, data: bytes, size: int | None = None) -> dict:
        """Store an uploaded list of eigenvalues (optionally with teacher weights) and check it with the
        registry's file kind, which reads it as data (numbers only; .npy without pickled objects).  Returns the
        spectrum mapping the page then sends ({"kind": "file", "path": ...}), its dimension and whether it holds a
        teacher, or {"error": one line naming the file and the problem}.  size: the upload's size in bytes when
        it was too large to be read whole (data then holds its start)."""
        name = Path(str(filename).replace("\\", "/")).name[:100] or "upload"
        head = f"uploaded file {name!r}"
        suffix = UPLOAD_SUFFIXES.get(Path(name).suffix.lower())
        if suffix is None:
            return {"error": f"{head}: expected a .txt, .csv or .npy file of eigenvalues"}
        size = max(len(data), size or 0)
        if size > MAX_UPLOAD_BYTES:
            return {"error": f"{head}: {size / 2**20:.1f} MB is more than the page takes "
                             f"({MAX_UPLOAD_BYTES / 2**20:.0f} MB)"}
        with self._lock:
            if self._uploads_dir is None:
                self._uploads_dir = tempfile.TemporaryDirectory(prefix="ridgerenorm-explore-")
            path = str(Path(self._uploads_dir.name) / (hashlib.sha256(data).hexdigest()[:32] + suffix))
        Path(path).write_bytes(data)
        spectrum = {"kind": UPLOAD_KIND, "path": path}
        problems = []

        def fail(key, value, why):
            problems.append(why)
            raise ExploreError(why)

        try:
            spectrum_kinds.check(spectrum, None, fail)
            D = spectrum_kinds.dimension(spectrum)
            if D > MAX_UPLOAD_VALUES:
                problems.append(f"{D} eigenvalues, more than the page takes ({MAX_UPLOAD_VALUES})")
        except (ExploreError, ValueError) as err:
            problems = problems or [one_line(err)]
        if problems:
            if path not in self._uploads:
                os.remove(path)
            return {"error": f"{head}: {problems[0]}"}
        try:
            spectrum_kinds.check(spectrum, {"kind": UPLOAD_KIND}, fail)
            teacher = True
        except ExploreError:
            teacher = False
        self._uploads[path] = name
        return {"spectrum": spectrum, "D": D, "teacher": teacher, "name": name}

    def spec(self, exp: dict, name: str = "explore") -> dict:
        """The resolved experiment spec, after the config's checks (ConfigError: one line naming key and value)."""
        cfg.check_experiment(name, exp)
        return cfg.experiment_spec({"experiments": {name: exp}, "seed": 0}, name)

    def population(self, spec: dict):
        key = json.dumps([spec["spectrum"], spec["teacher"]], sort_keys=True)
        with self._lock:
            if key in self._populations:
                self._populations.move_to_end(key)
                return self._populations[key]
        with np.errstate(divide="ignore", invalid="ignore"):  # a 0/0 teacher is the theory's to report
            pop = spectra.population_dataset(spec["spectrum"], spec["teacher"])
        with self._lock:
            self._populations[key] = pop
            while len(self._populations) > 8:
                self._populations.popitem(last=False)
        return pop

    def theory(self, spec: dict):
        """The theory file the pipeline's theory step would write for this spec (Model.theory).

        A large grid is evaluated as `workers` parts of its dense q grid, each by Model.theory in a thread of
        its own (numpy releases the GIL in the (P, D) array work), and joined on P.  Every point of the theory
        is solved on its own, so the parts give the same numbers up to the last bit or two of the BLAS
        matrix-vector products, whose rounding may depend on the number of rows (tests/test_explore.py: 1e-13).
        For a display; the pipeline's theory files are made by one call."""
        model, population = get_model(spec["model"]), self.population(spec)
        q = spectra.grid_q(spec["theory_samples"])
        if self.workers < 2 or q.size * spec["D"] < self.split_above:
            return model.theory(spec, population)
        parts = [dict(spec, theory_samples=part.tolist()) for part in np.array_split(q, self.workers)]
        th = xr.concat(list(self._pool.map(lambda part: model.theory(part, population), parts)), dim="P")
        _, first = np.unique(th.P.values, return_index=True)  # the simulated P are in every part
        return th.isel(P=first)

    # ------------------------------------------------------------------ matching experiment and its results

    def _physics(self, spec: dict) -> dict:
        model = get_model(spec["model"])
        keys = [k for k in cfg.STEP_KEYS["theory"] + tuple(model.theory_keys) if k not in GRID_KEYS]
        return {k: spec.get(k) for k in keys}

    def match(self, spec: dict) -> str | None:
        """The config experiment whose theory is the same curve (every parameter but the grids equal)."""
        if self.config is None:
            return None
        mine = self._physics(spec)
        for name, other in self._specs.items():
            if other["model"] == spec["model"] and _same(self._physics(other), mine):
                return name
        return None

    def _read(self, path: Path):
        """A result file, read once per modification time."""
        stamp = path.stat().st_mtime_ns
        hit = self._files.get(path)
        if hit and hit[0] == stamp:
            return hit[1]
        value = io.read_dataset(path)
        self._files[path] = (stamp, value)
        return value

    def agreement(self, name: str) -> list[dict]:
        path = self.results / "agreement.csv"
        if not path.is_file():
            return []
        with open(path, newline="") as f:
            return [r for r in csv.DictReader(f) if r["experiment"] == name]

    def markers(self, name: str, quantities) -> list[dict]:
        """Mean and standard error over draws of each quantity the merged simulation file holds."""
        path = self.results / "simulation" / f"{name}.nc"
        if not path.is_file():
            return []
        sim = self._read(path)
        P = sim.P.values.astype(float)
        out = []
        for q in quantities:
            y = value_of(sim, q)
            se = value_of(sim, q + "_se") if q + "_se" in sim else None
            if y is None:
                continue
            # the figures' log-safe bars (plotting/style.py): y/(1 + se/y) to y + se, never down to the axis floor
            lower, upper = log_error_bars(y, se) if se is not None else (None, None)
            out.append({"name": q, "x": _finite_list(P), "y": _finite_list(y), "nonpositive": _nonpositive(y),
                        "se": _finite_list(se) if se is not None else None,
                        "lower": _finite_list(lower) if se is not None else None,
                        "upper": _finite_list(upper) if se is not None else None})
        return out

    # ------------------------------------------------------------------ one request

    def evaluate(self, state: dict) -> dict:
        """Everything the page draws for one set of parameters, or {'error': one line}."""
        t0 = time.perf_counter()
        try:
            exp = self.experiment(state)
            spec = self.spec(exp)
            t1, c1 = time.perf_counter(), time.process_time()
            th = self.theory(spec)
            t2, c2 = time.perf_counter(), time.process_time()
        except (ConfigError, ExploreError, ConvergenceError, ValueError, ArithmeticError, KeyError) as err:
            return {"error": one_line(err)}
        model = get_model(spec["model"])
        P = th.P.values.astype(float)
        curves = []
        for name in model.error_quantities:
            y = value_of(th, name)
            if y is None:
                continue
            y = np.asarray(y, dtype=float)
            if np.all(y == 0):
                continue  # nothing to draw on a log axis (a noise term without noise)
            q = QUANTITIES[name]
            curves.append({"name": name, "label": html_label(q.label) or name, "long_name": q.long_name,
                           "color": to_hex(q.color or "gray"), "y": _finite_list(y), "nonpositive": _nonpositive(y)})
        if not any(any(v is not None and v > 0 for v in c["y"]) for c in curves):
            return {"error": "the theory is not finite and positive at any P of the grid (e.g. a threshold where "
                             "E_g diverges); change the parameters or the P range"}
        out = {"P": _finite_list(P), "curves": curves, "guides": self._guides(spec, th),
               "D": spec["D"], "yaml_experiment": exp}
        name = self.match(spec)
        markers = []
        if name is not None:
            markers = self.markers(name, [c["name"] for c in curves])
            out["experiment"] = {"name": name, "markers": markers, "agreement": self.agreement(name)}
        out["floor"] = _floor(curves, markers)
        # where a request's time goes (benchmarks/explore_latency.py): the theory (wall time, and the CPU time of
        # the server's threads, which a busy machine does not inflate), and all of evaluate
        out["timing"] = {"theory_ms": 1e3 * (t2 - t1), "theory_cpu_ms": 1e3 * (c2 - c1),
                         "evaluate_ms": 1e3 * (time.perf_counter() - t0)}
        return out

    def _guides(self, spec: dict, th) -> list[dict]:
        """The reference power laws (plotting/guides.py) the parameters define, anchored on E_g."""
        P = th.P.values.astype(float)
        out = []
        for name in GUIDES:
            try:
                with np.errstate(all="ignore"):  # an extreme exponent overflows: that guide is left out
                    x, y, label, exponent = guide_line(name, spec, P, th["eg"].values)
            except (ValueError, TypeError, ZeroDivisionError):
                continue  # a guide that needs a parameter the experiment does not define
            y = np.asarray(y, dtype=float)
            if not np.all(np.isfinite(y) & (y > 0)):
                continue
            out.append({"name": name, "label": html_label(label), "x": _finite_list(x), "y": _finite_list(y)})
        return out

    def save(self, state: dict, name: str) -> dict:
        """The config YAML of the current parameters and the config check's verdict on it.  An uploaded spectrum
        file is named by the user's file name, which a config reads beside itself (its paths are relative to
        the config file): the YAML is portable, and the check reads it so, from a copy of the upload."""
        try:
            exp = self.experiment(state)
            spectrum = exp.get("spectrum") if isinstance(exp.get("spectrum"), dict) else {}
            beside = {}  # the name the config gives an uploaded file -> the page's copy of it
            for key in spectrum_kinds.file_keys(spectrum):
                if spectrum[key] in self._uploads:
                    stored = Path(spectrum[key])
                    given = Path(self._uploads[spectrum[key]]).stem + stored.suffix
                    while given in beside and beside[given] != stored:
                        given = f"{Path(given).stem}_{key}{stored.suffix}"
                    beside[given] = stored
                    exp["spectrum"] = spectrum = dict(spectrum, **{key: given})
            text = config_yaml(name, exp)
            with tempfile.TemporaryDirectory() as tmp:  # read back as check-config reads a file
                path = Path(tmp) / "experiment.yaml"
                path.write_text(text)
                for given, stored in beside.items():
                    shutil.copyfile(stored, Path(tmp) / given)
                cfg.load_config(path)
        except (ConfigError, ExploreError, ValueError, KeyError, OSError) as err:
            return {"error": one_line(err)}
        check = "config OK (the checks of ridgerenorm check-config)"
        for given, stored in beside.items():
            own = self._uploads[str(stored)]
            check += (f"; spectrum reads {given} beside the config file: save your {own} there"
                      + ("" if own == given else f" as {given}"))
        return {"yaml": text, "check": check}
