"""Ridge regression and linear random features fitted on the rows of a real dataset (figure R1), against the
theory evaluated on the dataset's own covariance spectrum and least-squares teacher (docs/figures.md R1).

The population is the dataset's empirical distribution: a spectrum kind that holds rows (`rows(spectrum,
teacher)`: spectrum_kinds/digits.py) gives them in the eigenbasis of their covariance, Z (n, D), with targets
Y (n, C) = Z B + residual.  Data draw i is one random stream (streams.STREAM_DATA, keyed by i):

  sampling: held_out   a random permutation of the n rows; the training set of size P is its first P rows
                       (every P of a draw uses a prefix: common random numbers), the test set is every row
                       after the largest P, held out from every fit of the draw;
  sampling: iid        P_max row indices drawn uniformly with replacement (the theory's i.i.d. sampling from
                       the population, exactly); the error is the exact risk over all n rows.

With `features: N` (N > 0) the model fits linear random features phi = F^T x, F (D x N) with entries
N(0, 1/D) as features.py draws them, one feature draw per data draw (streams.STREAM_FEATURES, keyed by i);
with features: 0 (the default), ridge on x itself.  The readout
v = (Phi^T Phi/P + lambda)^-1 Phi^T Y/P (fits.solve_min_norm: Cholesky, or the minimum-norm solution at
lambda = 0), beta = F v.  Per (draw, P), over the test rows and summed over the C outputs:

  eg          mean |x^T beta - x^T B|^2, the excess error over the best linear predictor (the theory's E_g);
  test_error  mean |x^T beta - y|^2, the held-out mean squared error (the theory: E_g + sigma_eps^2);
  etr         the training error (1/P) |Phi v - Y|^2 (the theory's E_tr).

Each draw is computed alone with single-threaded BLAS, so results are bit-identical for any block size or
thread count.
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from threadpoolctl import threadpool_limits

from ..costs import declared_mb, factor_flops
from ..features import feature_weights
from ..fits import solve_min_norm
from ..progress import Progress
from ..quantities import attrs
from ..spectra import ridge_values
from ..spectrum_kinds import spectrum_kind
from ..streams import STREAM_DATA, seed_sequence
from .base import (Model, block_provenance, concat_blocks, grid_block, grid_theory_dataset,
                   grid_theory_memory_mb, sample_grid, summaries, theory_sample_sizes)
from .linear_ridge import LINEAR_RIDGE
from .random_features import RANDOM_FEATURES

__all__ = ["REAL_DATA", "simulate_real_data", "MIN_TEST_ROWS"]

PER_DRAW = ("eg", "test_error", "etr")
SAMPLING = ("held_out", "iid")
MIN_TEST_ROWS = 100  # held-out rows a draw keeps at least (test error of fewer is mostly its own noise)


def simulate_real_data(Z, Y, B, P_grid, lam_grid, draws, *, widths=None, sampling: str = "held_out",
                       experiment: str, seed: int, progress: Progress | None = None) -> dict:
    """Fit the data draws `draws` on rows Z (n, D) with targets Y (n, C) and teacher B (D, C); returns eg,
    test_error, etr over (draw, P) and the flop counts (module docstring)."""
    Z, Y, B = np.asarray(Z, dtype=float), np.asarray(Y, dtype=float), np.asarray(B, dtype=float)
    P_grid = np.asarray(P_grid, dtype=np.int64)
    draws = list(draws)
    n, D = Z.shape
    P_max = int(P_grid[-1])
    out = {name: np.empty((len(draws), P_grid.size)) for name in PER_DRAW}
    flops = flops_factor = 0.0
    with threadpool_limits(limits=1, user_api="blas"):
        for i, d in enumerate(draws):
            rng = np.random.default_rng(seed_sequence(seed, experiment, STREAM_DATA, d))
            if sampling == "held_out":
                order = rng.permutation(n)
                train, test = order[:P_max], order[P_max:]
            else:
                train, test = rng.integers(0, n, size=P_max), np.arange(n)
            X, Yt = Z[train], Y[train]
            F = feature_weights(D, widths, d, experiment=experiment, seed=seed) if widths else None
            Phi = X if F is None else X @ F
            Zt, Ytest = Z[test], Y[test]
            clean = Zt @ B
            N = Phi.shape[1]
            for jp, (P, lam) in enumerate(zip(P_grid, lam_grid)):
                Pp, Yp = Phi[:P], Yt[:P]
                A = Pp.T @ Pp / P
                v = solve_min_norm(A + lam * np.eye(N), Pp.T @ Yp / P)
                beta = v if F is None else F @ v
                pred = Zt @ beta
                out["eg"][i, jp] = np.sum((pred - clean) ** 2) / Zt.shape[0]
                out["test_error"][i, jp] = np.sum((pred - Ytest) ** 2) / Zt.shape[0]
                out["etr"][i, jp] = np.sum((Pp @ v - Yp) ** 2) / P
                flops += 2.0 * P * N * (N + 2 * Y.shape[1]) + 2.0 * Zt.shape[0] * D * Y.shape[1]
                flops_factor += factor_flops(N, lam)
            if F is not None:
                flops += 2.0 * P_max * D * N
            if progress is not None:
                progress.update(i + 1)
    out["flops"], out["flops_factor"] = flops, flops_factor
    return out


def _widths(spec: dict) -> list:
    """[N] for random features, [] for ridge on x."""
    return [int(spec["features"])] if spec.get("features") else []


def _rows(spec: dict):
    """The population rows of the experiment's spectrum kind (spectrum_kinds: a kind with `rows`)."""
    return spectrum_kind(spec["spectrum"]).rows(spec["spectrum"], spec.get("teacher"))


class RealData(Model):
    name = "real_data"
    description = "ridge or linear random features fitted on random subsets of a real dataset's rows (figure R1)"
    caption_name = "ridge regression and linear random features on real data"
    properties = {
        "features": {"type": "integer", "minimum": 0, "maximum": 100000,
                     "description": "N linear random features phi = F^T x (0: ridge on x itself)"},
        "sampling": {"enum": list(SAMPLING), "description": "held_out (default): training rows without "
                     "replacement, test on the rows never trained on; iid: with replacement, risk over all rows"},
    }
    required = ("samples",)
    simulate_keys = ("features", "sampling")
    theory_keys = ("features",)
    error_quantities = ("eg", "test_error", "etr")
    param_quantities = ("kappa", "df1", "df2")

    def check(self, exp, fail):
        kind = spectrum_kind(exp["spectrum"]) if isinstance(exp.get("spectrum"), dict) else None
        if kind is not None and not hasattr(kind, "rows"):
            fail("spectrum", exp["spectrum"], "model 'real_data' samples the rows of a dataset: it needs a "
                                                  "spectrum kind that holds rows (digits)")
            return
        if "sigma_eps" in exp and kind is not None and kind.unavailable(exp["spectrum"]) is None:
            # a resolved spec carries the data's own value; any other would not be the noise of these rows
            own = float(np.sqrt(kind.rows(exp["spectrum"], exp.get("teacher")).noise_var))
            if not np.isclose(float(exp["sigma_eps"]), own, rtol=1e-9, atol=1e-12):
                fail("sigma_eps", exp["sigma_eps"], f"model 'real_data' takes its label noise from the data (the "
                                                    f"residual of the target's least-squares fit, {own:.6g}); "
                                                    "leave it out")
        if kind is None or "samples" not in exp or exp.get("sampling", "held_out") != "held_out":
            return
        try:
            P_max = int(self.sample_sizes({"samples": exp["samples"], "D": kind.dimension(exp["spectrum"])})[-1])
        except ValueError:
            return  # the grid's own check (config._check_grid) says what is wrong with it
        if P_max > kind.n_rows - MIN_TEST_ROWS:
            fail("samples", exp["samples"], f"gives P = {P_max}, which leaves fewer than {MIN_TEST_ROWS} of the "
                                            f"{kind.n_rows} rows held out for the test error")

    def resolve(self, exp, D):
        exp.setdefault("sampling", "held_out")
        exp.setdefault("features", 0)

    def simulate(self, spec, population, draws, *, threads, mem_budget_bytes):
        rows = _rows(spec)
        if not np.allclose(rows.eta, population.eta.values, rtol=1e-10, atol=1e-14):
            raise SystemExit(f"error: the population file of {spec['name']} is not the spectrum of the rows the "
                             "simulation samples (rebuild it)")
        P, lam = sample_grid(spec)
        res = simulate_real_data(rows.Z, rows.Y, rows.B, P, lam, draws, widths=_widths(spec),
                                 sampling=spec.get("sampling", "held_out"), experiment=spec["name"],
                                 seed=spec["seed"],
                                 progress=Progress(len(draws), f"{spec['name']} draws {draws.start}:{draws.stop}"))
        data = {name: (("draw", "P"), res[name], attrs(name)) for name in PER_DRAW}
        return grid_block(spec, draws, P, lam, data, res,
                          "data=0 (the draw's row order or row indices), features=1 (F of data draw i)")

    def merge(self, spec, blocks, population):
        ds = concat_blocks(spec, blocks)
        out = summaries(ds, PER_DRAW, two_way=False)
        out["lam"] = ("P", ds["lam"].values, attrs("lam"))
        P = ds.P.values
        coords = {"P": ("P", P, attrs("P")), "draw": ("draw", ds.draw.values),
                  "q": ("P", spec["D"] / P, {"long_name": "q = D/P", "units": "1"})}
        return xr.Dataset(out, coords=coords), block_provenance(spec, blocks)

    def _base(self, spec):
        return RANDOM_FEATURES if _widths(spec) else LINEAR_RIDGE

    def theory(self, spec, population):
        P, P_sim = theory_sample_sizes(spec)
        lam = ridge_values(spec["ridge"], P)
        th = self.point_theory(spec, population.eta.values, population.w.values, P, lam)
        return grid_theory_dataset(th, spec, P, P_sim, RANDOM_FEATURES.derived if _widths(spec) else ())

    def _base_spec(self, spec):
        return dict(spec, widths=_widths(spec), sigma_xi=0.0, weight_exponent=0.0)

    def point_theory(self, spec, eta, w, P, lam):
        base_spec = self._base_spec(spec)
        th = self._base(spec).point_theory(base_spec, eta, w, P, lam)
        test = th["eg"] + float(spec["sigma_eps"]) ** 2
        return th.assign(test_error=test.assign_attrs(attrs("test_error")))

    def memory_mb(self, spec, n_draws, mem_budget_bytes, threads):
        kind = spectrum_kind(spec["spectrum"])
        D = int(spec["D"])
        N = int(spec.get("features") or D)
        widest = max(D, N)
        n, P_max = kind.n_rows, int(self.sample_sizes(spec)[-1])
        # the rows, targets and their copies (C <= D outputs), a draw's training rows, features and weights
        need = 8.0 * (4 * n * D + P_max * (D + N) + 2 * D * widest + n_draws * self.sample_sizes(spec).size * 3)
        return declared_mb(need, N, threads)

    def theory_memory_mb(self, spec):
        return grid_theory_memory_mb(spec)

    def theory_poles(self, spec):
        return self._base(spec).theory_poles(self._base_spec(spec))

    def flops(self, spec):
        D, n_draws = int(spec["D"]), int(spec["draws"])
        N = int(spec.get("features") or D)
        P, lam = sample_grid(spec)
        n_test = spectrum_kind(spec["spectrum"]).n_rows  # at most
        per_draw = sum(2.0 * p * N * (N + 2 * D) + 2.0 * n_test * D * D for p in P)
        factor = n_draws * sum(factor_flops(N, x) for x in lam)
        return {"gemm": n_draws * per_draw, "factor": factor, "merge": 0.0, "fits": n_draws * P.size}

    def equations(self, spec):
        base = [line for line in self._base(spec).equations(self._base_spec(spec))
                if not line.startswith(("Simulation:", "Markers for"))]
        return base + [
            "Real data: the population is the dataset's empirical distribution; Σ = its covariance (η), the "
            "teacher its least-squares fit (w_k² = Σ_c B_kc² over the outputs), σ_ε² = the residual's mean "
            "square, treated as label noise.",
            "Markers: test error of fits on random training subsets of P rows, mean over draws ± SE (held out: "
            "the rows no fit of the draw saw; i.i.d.: rows drawn with replacement, risk over all rows); "
            "E_test = E_g + σ_ε².",
        ]


REAL_DATA = RealData()
