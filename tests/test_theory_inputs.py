"""Inputs that cannot lie: argument validation, solver guarantees and exact limits of the theory API.

Every case asserts one exact failure mode (ValueError naming the argument, or ConvergenceError) or
one exact limit value (closed forms, +inf, 0).
"""

import warnings

import numpy as np
import pytest

from ridgerenorm import theory

D = 10
ETA, W = np.linspace(1.0, 0.1, D), np.ones(D)


def lr(**kw):
    args = dict(eta=ETA, w=W, P=5.0, lam=1e-2, sigma_eps=0.1) | kw
    return theory.linear_ridge(args["eta"], args["w"], args["P"], args["lam"], args["sigma_eps"])


def rf(**kw):
    return theory.random_features(**(dict(eta=ETA, w=W, P=5.0, widths=[8], lam=1e-2) | kw))


# ---------------------------------------------------------------------------------------------
# 1. validation: ValueError whose message starts with the argument's name
# ---------------------------------------------------------------------------------------------

INVALID = {
    # eta
    "eta NaN": (lambda: lr(eta=np.r_[ETA[:-1], np.nan]), "eta"),
    "eta negative": (lambda: rf(eta=np.r_[ETA[:-1], -1.0]), "eta"),
    "eta inf": (lambda: theory.solve_kappa(np.r_[ETA[:-1], np.inf], 5.0, 0.1), "eta"),
    "eta 2-D": (lambda: theory.solve_kappa(np.ones((2, 5)), 5.0, 0.1), "eta"),
    "eta empty": (lambda: theory.df1([], 0.1), "eta"),
    "eta strings": (lambda: theory.tf2(["a", "b"], [1, 1], 0.1), "eta"),
    # w
    "w NaN": (lambda: lr(w=np.r_[W[:-1], np.nan]), "w"),
    "w inf": (lambda: rf(w=np.r_[W[:-1], np.inf]), "w"),
    "w shape": (lambda: theory.tf1(ETA, W[:-1], 0.1), "w"),
    "w complex": (lambda: theory.tf1_prime(ETA, W + 1j, 0.1), "w"),
    # P and lam
    "P zero": (lambda: lr(P=0.0), "P"),
    "P NaN": (lambda: theory.solve_kappa(ETA, [5.0, np.nan], 0.1), "P"),
    "P inf": (lambda: rf(P=np.inf), "P"),
    "P, lam shapes": (lambda: lr(P=[2.0, 3.0, 4.0], lam=[0.1, 0.2]), "P and lam"),
    "lam NaN": (lambda: lr(lam=np.nan), "lam"),
    "lam NaN in grid": (lambda: rf(P=[3.0, 4.0], lam=[0.1, np.nan]), "lam"),
    "lam negative": (lambda: rf(lam=-1e-3), "lam"),
    "lam inf": (lambda: theory.solve_kappa(ETA, 5.0, np.inf), "lam"),
    # noise levels: finite scalars >= 0 (nan < 0 is False, so NaN needs its own test)
    "sigma_eps NaN": (lambda: lr(sigma_eps=np.nan), "sigma_eps"),
    "sigma_eps negative": (lambda: rf(sigma_eps=-0.1), "sigma_eps"),
    "sigma_eps inf": (lambda: lr(sigma_eps=np.inf), "sigma_eps"),
    "sigma_eps bool": (lambda: lr(sigma_eps=True), "sigma_eps"),
    "sigma_eps string": (lambda: rf(sigma_eps="0.1"), "sigma_eps"),
    "sigma_xi NaN": (lambda: rf(sigma_xi=np.nan), "sigma_xi"),
    "sigma_xi negative": (lambda: rf(sigma_xi=-0.04), "sigma_xi"),
    "sigma_xi array": (lambda: rf(sigma_xi=np.array([0.1, 0.2])), "sigma_xi"),
    "sigma_xi None": (lambda: rf(sigma_xi=None), "sigma_xi"),
    # widths: a non-empty sequence of positive integers
    "widths 0.5": (lambda: rf(widths=[0.5]), "widths"),
    "widths 0": (lambda: rf(widths=[0]), "widths"),
    "widths -3": (lambda: rf(widths=[8, -3]), "widths"),
    "widths NaN": (lambda: rf(widths=[np.nan]), "widths"),
    "widths inf": (lambda: rf(widths=[np.inf]), "widths"),
    "widths True": (lambda: rf(widths=[True]), "widths"),
    "widths False": (lambda: rf(widths=[8, False]), "widths"),
    "widths string": (lambda: rf(widths="100"), "widths"),
    "widths string item": (lambda: rf(widths=[8, "4"]), "widths"),
    "widths empty": (lambda: rf(widths=[]), "widths"),
    "widths 2-D": (lambda: rf(widths=[[8, 4]]), "widths"),
    "widths None": (lambda: rf(widths=None), "widths"),
    # weight spectra: None or one entry per layer, each None or 1-D, length N_l, finite, >= 0, not all 0
    "weight_spectra count": (lambda: rf(weight_spectra=[None, None]), "weight_spectra"),
    "weight_spectra length": (lambda: rf(weight_spectra=[np.ones(D)]), r"weight_spectra\[0\]"),
    "weight_spectra NaN": (lambda: rf(weight_spectra=[np.r_[np.ones(7), np.nan]]), r"weight_spectra\[0\]"),
    "weight_spectra negative": (
        lambda: rf(widths=[8, 4], weight_spectra=[None, [1.0, -1.0, 1.0, 1.0]]), r"weight_spectra\[1\]"),
    "weight_spectra 2-D": (lambda: rf(weight_spectra=[np.ones((2, 4))]), r"weight_spectra\[0\]"),
    "weight_spectra zero": (lambda: rf(weight_spectra=[np.zeros(8)]), r"weight_spectra\[0\]"),
    "weight_spectra scalar": (lambda: rf(weight_spectra=3.0), "weight_spectra"),
    # kappa of the spectral functionals
    "kappa negative": (lambda: theory.df1(ETA, [0.1, -1e-3]), "kappa"),
    "kappa NaN": (lambda: theory.df2(ETA, np.nan), "kappa"),
    "kappa inf": (lambda: theory.tf1_prime(ETA, W, np.inf), "kappa"),
    # solver settings
    "rtol zero": (lambda: theory.solve_kappa(ETA, 5.0, 0.1, rtol=0.0), "rtol"),
    "rtol NaN": (lambda: theory.solve_kappa(ETA, 5.0, 0.1, rtol=np.nan), "rtol"),
    "rtol >= 1": (lambda: theory.solve_kappa(ETA, 5.0, 0.1, rtol=1.5), "rtol"),
    "max_iter 0": (lambda: theory.solve_kappa(ETA, 5.0, 0.1, max_iter=0), "max_iter"),
    "max_iter 2.5": (lambda: theory.solve_kappa(ETA, 5.0, 0.1, max_iter=2.5), "max_iter"),
    "max_iter True": (lambda: theory.solve_kappa(ETA, 5.0, 0.1, max_iter=True), "max_iter"),
    # phase diagram
    "l NaN": (lambda: theory.phase_rates(np.nan, 1.0, 1.2, 1.1, 0.3, False), "l"),
    "q negative": (lambda: theory.phase_rates(1.0, [0.5, -1.0], 1.2, 1.1, 0.3, False), "q"),
    "l, q shapes": (lambda: theory.phase_rates([1.0, 2.0], [1.0, 2.0, 3.0], 1.2, 1.1, 0.3, False), "l and q"),
    "alpha zero": (lambda: theory.phase_rates(1.0, 1.0, 0.0, 1.1, 0.3, False), "alpha"),
    "r NaN": (lambda: theory.phase_rates(1.0, 1.0, 1.2, np.nan, 0.3, False), "r"),
    "c negative": (lambda: theory.phase_rates(1.0, 1.0, 1.2, 1.1, -0.3, False), "c"),
    "noisy not bool": (lambda: theory.phase_rates(1.0, 1.0, 1.2, 1.1, 0.3, "yes"), "noisy"),
    "alpha_F NaN": (lambda: theory.finite_width_exponent(np.nan), "alpha_F"),
    "alpha_F negative": (lambda: theory.finite_width_exponent([0.5, -0.5]), "alpha_F"),
}


@pytest.mark.parametrize("name", list(INVALID))
def test_invalid_argument_is_named(name):
    call, arg = INVALID[name]
    with pytest.raises(ValueError, match=rf"^{arg} must|^{arg} has|^{arg} is"):
        call()


@pytest.mark.parametrize(
    "call,message",
    [
        (lambda: rf(sigma_xi=np.nan), "sigma_xi must be a finite number >= 0, got nan"),
        (lambda: lr(sigma_eps=-0.5), "sigma_eps must be a finite number >= 0, got -0.5"),
        (lambda: lr(lam=np.nan), "lam must be finite and >= 0, got nan"),
        (lambda: lr(P=[3.0, -2.0]), "P must be finite and > 0, got -2.0"),
    ],
)
def test_message_shows_the_offending_value(call, message):
    with pytest.raises(ValueError) as err:
        call()
    assert str(err.value) == message


@pytest.mark.parametrize("widths", [[8.0], [np.int64(8)], np.array([8]), (8,), 8])
def test_integer_valued_widths_are_accepted_unchanged(widths):
    ref, got = rf(widths=[8]), rf(widths=widths)
    for v in ref.data_vars:
        np.testing.assert_array_equal(got[v], ref[v])
    assert got.attrs["widths"] == [8]


# ---------------------------------------------------------------------------------------------
# 2. solver guarantees: the double root of the kappa equation at P = D
# ---------------------------------------------------------------------------------------------

DR = 1000
LAMS = 10.0 ** -np.arange(40, -1, -1)  # every decade 1e-40 ... 1


def isotropic_kappa(q, lam):
    """Positive root of kappa^2 + (1 - q - lam) kappa - lam = 0 (eta = 1), without cancellation."""
    b = 1.0 - q - lam
    disc = np.sqrt(b * b + 4.0 * lam)
    return np.where(b > 0, 2.0 * lam / np.where(b > 0, b + disc, 1.0), (-b + disc) / 2.0)


@pytest.mark.parametrize("P", [DR, DR / 2, 2 * DR], ids=["P=D", "P=D/2", "P=2D"])
def test_double_root_sweep_on_a_grid(P):
    kappa = theory.solve_kappa(np.ones(DR), P, LAMS)
    rel = np.abs(kappa / isotropic_kappa(DR / P, LAMS) - 1.0)
    assert rel.max() <= 1e-8, (LAMS[rel.argmax()], rel.max())


@pytest.mark.parametrize("lam", LAMS, ids=[f"{x:.0e}" for x in LAMS])
def test_double_root_each_decade(lam):
    # one point at a time (no grid neighbours), with warnings as errors: no overflow, no 0/0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        kappa = theory.solve_kappa(np.ones(DR), float(DR), lam)
    assert abs(kappa / isotropic_kappa(1.0, lam) - 1.0) <= 1e-8


def test_double_root_observables_match_closed_forms():
    # eta = 1, |w| = 1, P = D: Bias^2 = k^2/(1+k)^2, gamma = 1/(1+k)^2, Var_X = k/((1+k)^2 (2+k)),
    # Var_Xeps = s^2/(k (2+k)), S = k/lam, E_tr = (lam/k)^2 (E_g + s^2)
    s = 0.3
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        th = theory.linear_ridge(np.ones(DR), np.full(DR, DR**-0.5), float(DR), LAMS, s)
    k = isotropic_kappa(1.0, LAMS)
    bias, var_x, var_xeps = k**2 / (1 + k) ** 2, k / ((1 + k) ** 2 * (2 + k)), s**2 / (k * (2 + k))
    eg = bias + var_x + var_xeps
    for name, want in dict(kappa=k, bias=bias, var_x=var_x, var_xeps=var_xeps, eg=eg, S=k / LAMS,
                           etr=(LAMS / k) ** 2 * (eg + s**2), gamma=1 / (1 + k) ** 2).items():
        np.testing.assert_allclose(th[name], want, rtol=1e-8, err_msg=name)


@pytest.mark.parametrize("digits", [3, 6, 9, 12, 14])
def test_ridgeless_just_below_rank(digits):
    # lam = 0, P = D (1 - 10^-digits): kappa = q - 1 = (D - P)/P, the root nearly double
    P = DR * (1.0 - 10.0**-digits)
    kappa = theory.solve_kappa(np.ones(DR), P, 0.0)
    assert abs(kappa / ((DR - P) / P) - 1.0) <= 1e-8


def test_bisection_fallback_leaves_newton_points_untouched():
    # points that need the fallback (double root) do not change the bits of their grid neighbours
    eta = np.arange(1, DR + 1.0) ** -1.5
    alone = theory.solve_kappa(eta, [300.0, 3000.0], [1e-3, 1e-6])
    mixed = theory.solve_kappa(eta, [300.0, float(DR), 3000.0, float(DR)], [1e-3, 1e-30, 1e-6, 0.0])
    np.testing.assert_array_equal(mixed[[0, 2]], alone)
    assert mixed[3] == 0 and 0 < mixed[1] < 1e-13


def test_iteration_cap_is_a_convergence_error_not_a_number():
    # two Newton steps and two bisection steps cannot resolve the double root
    with pytest.raises(theory.ConvergenceError, match="kappa did not converge"):
        theory.solve_kappa(np.ones(DR), float(DR), 1e-30, max_iter=2)


def test_overflowing_root_is_a_convergence_error():
    # kappa ~ lam + sum(eta)/P exceeds the largest float: no finite kappa satisfies the equation
    with pytest.raises(theory.ConvergenceError, match="kappa did not converge"):
        theory.solve_kappa(np.full(10, 1e308), 0.5, 1e308)


# ---------------------------------------------------------------------------------------------
# 3. exact limits
# ---------------------------------------------------------------------------------------------

RANK, DZ = 60, 100
ETA0, W0 = np.r_[np.ones(RANK), np.zeros(DZ - RANK)], np.ones(DZ)


def test_functionals_at_kappa_zero_with_zero_eigenvalues():
    eta = np.r_[np.linspace(2.0, 0.5, RANK), np.zeros(DZ - RANK)]
    w = np.linspace(1.0, 2.0, DZ)
    assert theory.df1(eta, 0.0) == RANK / DZ and theory.df2(eta, 0.0) == RANK / DZ
    assert theory.tf1(eta, w, 0.0) == pytest.approx(np.sum(w[:RANK] ** 2), rel=1e-14)
    assert theory.tf2(eta, w, 0.0) == pytest.approx(np.sum(w[:RANK] ** 2), rel=1e-14)
    assert theory.tf1_prime(eta, w, 0.0) == pytest.approx(np.sum(w[:RANK] ** 2 / eta[:RANK]), rel=1e-14)


@pytest.mark.parametrize("P", [80.0, 240.0])
def test_linear_ridgeless_zero_eigenvalues_above_rank(P):
    s = 0.5
    th = lr(eta=ETA0, w=W0, P=P, lam=0.0, sigma_eps=s)
    g = RANK / P  # 0.75, 0.25
    assert th.kappa == 0 and th.df1 == RANK / DZ and th.df2 == RANK / DZ and th.gamma == g
    assert th.bias == 0 and th.var_x == 0
    assert th.var_xeps == pytest.approx(s**2 * g / (1 - g), rel=1e-14)  # 0.75, 0.0833
    assert th.etr == pytest.approx((1 - g) ** 2 * (float(th.eg) + s**2), rel=1e-14)
    assert th.S == pytest.approx(1 / (1 - g), rel=1e-14)


@pytest.mark.parametrize(
    "eta,w,P", [(np.ones(DZ), W0, float(DZ)), (ETA0, W0, float(RANK))], ids=["isotropic P=D", "P=rank"]
)
@pytest.mark.parametrize("s", [0.0, 0.3])
def test_linear_interpolation_threshold(eta, w, P, s):
    th = lr(eta=eta, w=w, P=P, lam=0.0, sigma_eps=s)
    assert th.kappa == 0 and th.gamma == 1.0
    assert th.bias == 0 and th.var_x == 0  # Bias^2 -> 0 faster than gamma/(1 - gamma) grows
    assert th.etr == 0 and np.isposinf(th.S)
    if s > 0:
        assert np.isposinf(th.var_xeps) and np.isposinf(th.eg)
    else:
        assert th.var_xeps == 0 and th.eg == 0


@pytest.mark.parametrize("lam", [1e155, 1e300, 1.7e308])
def test_linear_ridge_infinite_ridge(lam):
    eta, w = np.arange(1, 201.0) ** -1.3, np.arange(1, 201.0) ** -0.9
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        th = lr(eta=eta, w=w, P=np.array([10.0, 1e4]), lam=lam, sigma_eps=0.3)
    np.testing.assert_allclose(th.kappa, lam, rtol=1e-12)
    np.testing.assert_allclose(th.bias, np.sum(eta * w**2), rtol=1e-12)
    np.testing.assert_allclose(th.eg, np.sum(eta * w**2), rtol=1e-12)
    assert np.all(th.var_x <= 1e-300) and np.all(th.var_xeps <= 1e-300)


@pytest.mark.parametrize("P", [float(RANK), 80.0, 240.0])
def test_wide_random_features_match_linear_ridge_at_zero_ridge(P):
    s = 0.5
    a = lr(eta=ETA0, w=W0, P=P, lam=0.0, sigma_eps=s)
    b = rf(eta=ETA0, w=W0, P=P, widths=[10**6], lam=0.0, sigma_eps=s)
    assert b.gamma2 == a.gamma and b.bias == a.bias == 0 and b.var_x == a.var_x == 0
    assert b.var_xeps == pytest.approx(float(a.var_xeps), rel=1e-14)  # +inf at P = rank
    assert b.etr == pytest.approx(float(a.etr), rel=1e-12) if P > RANK else b.etr == a.etr == 0


@pytest.mark.parametrize("s", [0.0, 0.2])
def test_random_features_at_rank_with_wide_layers(s):
    # lam = 0, P = D (isotropic), widths > D: kappa2 -> 0, rho -> 1, signal -> 0,
    # Var_XFeps -> s^2 (sum_l D/(N_l - D))/4
    th = rf(eta=np.ones(100), w=np.full(100, 0.1), P=100.0, widths=[2000, 1000], lam=0.0, sigma_eps=s)
    assert th.kappa2 == 0 and th.gamma1 == 1 and th.gamma2 == 1 and th.rho == 1
    assert th.var_x == 0 and th.var_f == 0 and th.var_xf == 0 and th.etr == 0
    assert th.var_xfeps == pytest.approx(s**2 * (100 / 1900 + 100 / 900) / 4, rel=1e-12, abs=0)
    assert (np.isposinf(th.var_xeps) and np.isposinf(th.eg)) if s > 0 else (th.var_xeps == 0 and th.eg == 0)


@pytest.mark.parametrize("widths,rho", [([100], 1 / 2), ([100, 100], 1 / 3), ([5000, 100], 1 / 2)])
def test_random_features_at_rank_with_a_width_at_rank(widths, rho):
    # P = D = N_l for n_b layers: rho -> 1/(1 + n_b), signal -> (1 - rho) |w|^2 D/((1 + rho) sum 1/eta)
    th = rf(eta=np.ones(100), w=np.full(100, 0.1), P=100.0, widths=widths, lam=0.0, sigma_eps=0.0)
    assert th.rho == pytest.approx(rho, rel=1e-15)
    assert th.var_xf == pytest.approx((1 - rho) / (1 + rho), rel=1e-14) and th.eg == th.var_xf
    assert th.var_x == 0 and th.var_xeps == 0 and th.var_xfeps == 0 and th.etr == 0


@pytest.mark.parametrize("widths", [[RANK], [80, 200]])
def test_random_features_rank_limits_are_limits_of_small_ridge(widths):
    eta = np.r_[np.arange(1, RANK + 1.0) ** -1.0, np.zeros(DZ - RANK)]
    w = np.r_[np.arange(1, RANK + 1.0) ** -0.5, np.ones(DZ - RANK)]
    zero = rf(eta=eta, w=w, P=float(RANK), widths=widths, lam=0.0, sigma_eps=0.3)
    tiny = rf(eta=eta, w=w, P=float(RANK), widths=widths, lam=1e-12, sigma_eps=0.3)
    for name in ["rho", "var_xf"] + (["var_xfeps"] if widths[0] > RANK else []):
        np.testing.assert_allclose(zero[name], tiny[name], rtol=2e-3, atol=1e-5, err_msg=name)
    assert np.isposinf(zero.eg) and zero.etr == 0


@pytest.mark.parametrize("s", [0.0, 0.2])
def test_random_features_when_P_and_a_width_bind(s):
    # lam = 0, P = N < D: gamma1 = 1, the signal diverges; no label noise means no noise terms
    th = rf(eta=np.ones(100), w=np.full(100, 0.1), P=50.0, widths=[50], lam=0.0, sigma_eps=s)
    assert th.gamma1 == 1 and th.rho == 0 and np.isposinf(th.var_xf) and np.isposinf(th.eg) and th.etr == 0
    assert np.isposinf(th.var_xfeps) if s > 0 else th.var_xfeps == 0


@pytest.mark.parametrize("s", [0.0, 0.3])
@pytest.mark.parametrize("sxi", [0.0, 0.05])
def test_ridgeless_grids_never_return_nan(s, sxi):
    # every P at, above and below rank(Sigma) and the widths, with and without zero eigenvalues
    P = np.array([20.0, 40.0, 59.5, 60.0, 60.5, 80.0, 100.0, 150.0, 400.0])
    for eta in (ETA0, np.ones(DZ), np.r_[np.arange(1, 81.0) ** -1.2, np.zeros(20)]):
        for widths in ([60], [100], [150, 60], [5000]):
            th = rf(eta=eta, w=W0, P=P, widths=widths, lam=0.0, sigma_eps=s, sigma_xi=sxi)
            for v in th.data_vars:
                assert not np.isnan(th[v]).any(), (v, widths)
        th = lr(eta=eta, w=W0, P=P, lam=0.0, sigma_eps=s)
        for v in th.data_vars:
            assert not np.isnan(th[v]).any(), v
