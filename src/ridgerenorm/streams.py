"""Random streams: one SeedSequence per draw, and what each stream draws.

A stream is keyed by (root seed, experiment name, stream id, draw index or indices), so every draw's numbers
are the same whatever job, block size or thread count computes them (docs/theory.md §7).  Rows are drawn
first and label noise second, so every sample size P uses a prefix of the same draw (common random numbers).
"""

from __future__ import annotations

import zlib

import numpy as np

__all__ = ["STREAM_DATA", "STREAM_FEATURES", "STREAM_FEATURE_NOISE", "experiment_key", "seed_sequence", "fill_rows",
           "draw_rows"]

STREAM_DATA = 0  # X and label noise of data draw i
STREAM_FEATURES = 1  # feature weights of feature draw j (random-feature models)
STREAM_FEATURE_NOISE = 2  # additive feature noise xi of the pair (i, j)


def experiment_key(name: str) -> int:
    """Stable 32-bit integer for an experiment name (crc32 is fixed across Python versions)."""
    return zlib.crc32(name.encode("utf-8"))


def seed_sequence(root_seed: int, experiment: str, stream: int, *index: int) -> np.random.SeedSequence:
    """The random stream of one draw, keyed by (root seed, experiment, stream, draw index or indices:
    the additive feature noise of a pair is keyed by (data draw, feature draw))."""
    return np.random.SeedSequence([int(root_seed), experiment_key(experiment), int(stream), *map(int, index)])


def fill_rows(X, eps, draw, sqrt_eta, sigma_eps, experiment, seed) -> None:
    """Rows (P_max, D) and label noise (P_max) of one data draw, written into X and eps."""
    rng = np.random.default_rng(seed_sequence(seed, experiment, STREAM_DATA, draw))
    rng.standard_normal(out=X)
    rng.standard_normal(out=eps)
    X *= sqrt_eta
    eps *= sigma_eps


def draw_rows(draw_ids, P_max, sqrt_eta, sigma_eps, experiment, seed, threads):
    """Rows X (b, P_max, D) and label noise (b, P_max) of the given data draws, generated in parallel over
    the worker pool (numpy's generators release the GIL)."""
    from .parallel import worker_pool

    b, D = len(draw_ids), sqrt_eta.size
    X = np.empty((b, P_max, D))
    eps = np.empty((b, P_max))

    def generate(t):
        fill_rows(X[t], eps[t], draw_ids[t], sqrt_eta, sigma_eps, experiment, seed)

    list(worker_pool(threads).map(generate, range(b)))
    return X, eps
