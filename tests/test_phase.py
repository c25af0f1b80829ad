"""Scaling-law phase diagram (docs/theory.md §6) and the finite-width exponent of docs/figures.md C7."""

import numpy as np
import pytest

from ridgerenorm.theory import PHASE_LABELS, finite_width_exponent, phase_rates

# C6 parameters
ALPHA, R, C = 1.2, 1.1, 0.3

# Expected values worked out by hand from §6 with alpha = 1.2, r = 1.1, c = 0.3:
#   signal   2.4 min(1, 1.1, l/1.2, 1.1 l/1.2) = 2.4 min(1, l/1.2)
#   Var_F    0.9 min(1, l/1.2) + 0.3 q
#   width    2.4 q min(1/2, 1.1) = 1.2 q
#   noise    1 - min(1, l/1.2, q)
NOISELESS = [
    # l, q, label, rate
    (0.5, 3.0, "Ridge-capacity", 1.0),  # 1.0 < Var_F 1.275 < width 3.6
    (0.5, 0.2, "Signal-capacity-width", 0.24),  # 0.24 < Var_F 0.435 < 1.0
    (1.5, 3.0, "Var_F", 1.8),  # 0.9 + 0.9 < signal 2.4 < width 3.6
    (1.0, 1.5, "Var_F-ridge", 1.2),  # 0.75 + 0.45 < width 1.8 < signal 2.0
    (1.5, 6.0, "Signal-capacity", 2.4),  # Var_F 2.7, width 7.2 (outside the drawn q range)
    (0.0, 2.0, "Ridge-capacity", 0.0),  # l = 0: signal rate 0 (l/alpha ties l r/alpha: first wins); Var_F 0.6
]
NOISY = [
    (1.5, 1.5, "Noise", 0.0),  # min(1, 1.25, 1.5) = 1 -> rate 0
    (0.6, 3.0, "Noise mitigated by λ", 0.5),  # 1 - 0.5; signal 1.2, Var_F 1.35, width 3.6
    (1.5, 0.5, "Noise mitigated by N", 0.5),  # 1 - 0.5; width 0.6, Var_F 1.05, signal 2.4
    (1.5, 0.2, "Signal-capacity-width", 0.24),  # width 0.24 < noise 0.8
    (0.3, 3.0, "Ridge-capacity", 0.6),  # signal 0.6 < noise 0.75 < Var_F 1.125
    (0.1, 0.2, "Var_F-ridge", 0.135),  # 0.075 + 0.06 < signal 0.2 < width 0.24 < noise 0.8
]


@pytest.mark.parametrize("l,q,label,rate", NOISELESS)
def test_noiseless_regions(l, q, label, rate):
    got_rate, idx = phase_rates(l, q, ALPHA, R, C, noisy=False)
    assert PHASE_LABELS[int(idx)] == label
    assert got_rate == pytest.approx(rate, abs=1e-12)


@pytest.mark.parametrize("l,q,label,rate", NOISY)
def test_noisy_regions(l, q, label, rate):
    got_rate, idx = phase_rates(l, q, ALPHA, R, C, noisy=True)
    assert PHASE_LABELS[int(idx)] == label
    assert got_rate == pytest.approx(rate, abs=1e-12)


@pytest.mark.parametrize(
    "l,q,label,rate",
    [
        # alpha = 1.2, r = 0.4: signal 2.4 min(0.4, l/1.2, l/3), width 0.96 q
        (1.5, 3.0, "Signal-source", 0.96),  # Var_F 1.8, width 2.88
        (0.6, 3.0, "Ridge-source", 0.48),  # l/3 = 0.2 < 0.4
        (1.5, 0.5, "Signal-source-width", 0.48),  # signal 0.96, Var_F 1.05
    ],
)
def test_source_regions(l, q, label, rate):
    got_rate, idx = phase_rates(l, q, 1.2, 0.4, 0.3, noisy=False)
    assert PHASE_LABELS[int(idx)] == label
    assert got_rate == pytest.approx(rate, abs=1e-12)


def test_noise_does_not_change_noiseless_min_when_it_is_larger():
    # Points where the noise term is larger keep their noiseless label and rate.
    l, q = np.array([0.2, 0.5]), np.array([3.0, 0.2])  # noise 0.83 > signal 0.4; 0.8 > width 0.24
    r0, i0 = phase_rates(l, q, ALPHA, R, C, noisy=False)
    r1, i1 = phase_rates(l, q, ALPHA, R, C, noisy=True)
    np.testing.assert_array_equal(i0, i1)
    np.testing.assert_allclose(r0, r1)


def test_vectorized_grid_matches_pointwise_and_ties():
    l, q = np.meshgrid(np.linspace(0, 2, 41), np.linspace(0, 3, 31))
    rate, idx = phase_rates(l, q, ALPHA, R, C, noisy=True)
    assert rate.shape == l.shape and idx.shape == l.shape and idx.dtype.kind == "i"
    for a, b in [(5, 7), (20, 30), (30, 0), (12, 24)]:
        r1, i1 = phase_rates(l[a, b], q[a, b], ALPHA, R, C, noisy=True)
        assert r1 == rate[a, b] and i1 == idx[a, b]
    # rate is the minimum of the terms, so never above the noiseless one
    r0, _ = phase_rates(l, q, ALPHA, R, C, noisy=False)
    assert np.all(rate <= r0 + 1e-15)
    # l = alpha exactly ties "1" and "l/alpha" inside the signal term: the earlier label wins
    _, i = phase_rates(1.2, 6.0, ALPHA, R, C, noisy=False)
    assert PHASE_LABELS[int(i)] == "Signal-capacity"
    # width 1.2 q = Var_F-ridge 0.75 l + 0.3 q at l = 1, q = 5/6: the earlier term (Var_F-ridge) wins
    rt, i = phase_rates(1.0, 5.0 / 6.0, ALPHA, R, C, noisy=False)
    assert rt == pytest.approx(1.0) and PHASE_LABELS[int(i)] == "Var_F-ridge"
    # regions of the C6 diagrams on [0, 2] x [0, 3]: Var_F (l > alpha) needs 0.9 + 0.3 q below the noise
    # term 1 - min(1, q) and below 1.2 q, impossible, so it only appears without noise
    seen = {PHASE_LABELS[i] for i in np.unique(idx)}
    assert seen == {
        "Ridge-capacity",
        "Var_F-ridge",
        "Signal-capacity-width",
        "Noise",
        "Noise mitigated by λ",
        "Noise mitigated by N",
    }
    _, idx0 = phase_rates(l, q, ALPHA, R, C, noisy=False)
    assert {PHASE_LABELS[i] for i in np.unique(idx0)} == {"Ridge-capacity", "Var_F", "Var_F-ridge", "Signal-capacity-width"}


def test_finite_width_exponent():
    aF = np.array([0.0, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0, 1.5, 2.0, 2.5])
    expected = [1.0, 1.0, 1.0, 2 / 3, 3 / 7, 0.25, 0.0, 0.0, 0.0, 0.0]
    np.testing.assert_allclose(finite_width_exponent(aF), expected, rtol=1e-12, atol=1e-15)
    assert finite_width_exponent(0.6) == pytest.approx(2 / 3)
