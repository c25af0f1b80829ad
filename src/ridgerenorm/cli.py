"""Command-line entry point: one subcommand per pipeline step, so every Snakemake rule is a shell line
a person can rerun by hand.  Run `ridgerenorm <command> --help` for the arguments."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import xarray as xr

from . import config as cfg
from . import io, spectra

QUANTITY_ATTRS = {
    "eg": ("generalization error E_g (excess population risk)", "1"),
    "etr": ("training error E_tr", "1"),
    "bias": ("Bias^2", "1"),
    "var_x": ("Var_X (variance over data draws)", "1"),
    "var_xeps": ("Var_Xeps (label-noise variance)", "1"),
    "df1": ("df_1 (degrees of freedom)", "1"),
    "df2": ("df_2", "1"),
    "gamma": ("gamma = q df_2", "1"),
    "kappa": ("renormalized ridge kappa", "1"),
    "kappa_hat": ("empirical kappa (GCV form) from one training set", "1"),
    "df1_hat": ("empirical df_1 from one training set", "1"),
    "gcv": ("GCV estimate of the excess risk", "1"),
    "S": ("S-transform kappa/lambda (train-test gap)", "1"),
    "lam": ("ridge lambda", "1"),
    "P": ("number of training samples", "1"),
    "kappa1": ("kappa_1 (renormalized ridge of the readout; kappa_hat estimates it)", "1"),
    "kappa2": ("kappa_2 (renormalized ridge seen by the data spectrum)", "1"),
    "gamma1": ("gamma_1", "1"),
    "gamma2": ("gamma_2 = q df_2(kappa_2)", "1"),
    "var_f": ("Var_F (variance over feature draws)", "1"),
    "var_xf": ("Var_XF (interaction of data and feature draws)", "1"),
    "var_f_xf": ("Var_F + Var_XF", "1"),
    "var_xfeps": ("Var_XFeps (label noise through data and features)", "1"),
    "df1_plain": ("df_1(kappa_2) without the additive-noise term", "1"),
    "rho": ("rho = d log kappa_2 / d log kappa_1", "1"),
    "kappa2_tf1": ("kappa_2 tf_1(kappa_2)", "1"),
    "k2_tf1": ("kappa_2 tf_1(kappa_2)", "1"),
    "k2sq_tf1p": ("kappa_2^2 tf_1'(kappa_2)", "1"),
}


def _spec(text: str) -> dict:
    spec = json.loads(text)
    if "name" in spec and "spectrum" in spec:
        body = {k: v for k, v in spec.items() if k not in ("name", "seed", "D")}
        cfg.check_experiment(spec["name"], body, partial=True)
    return spec


def _attrs(name: str) -> dict:
    long_name, units = QUANTITY_ATTRS.get(name.split("_se")[0].split("_std")[0].replace("_per_draw", ""), (name, "1"))
    suffix = " (standard error)" if name.endswith("_se") else " (seed-to-seed std)" if name.endswith("_std") else ""
    return {"long_name": long_name + suffix, "units": units}


# --------------------------------------------------------------------------------------------- steps


def cmd_check_config(args) -> None:
    config = cfg.load_config(*args.configfiles)
    print(f"config OK: scale {config['scale']!r}, {len(config['experiments'])} experiments, {len(config['figures'])} figures")


def cmd_spectrum(args) -> None:
    t0 = time.perf_counter()
    spec = _spec(args.spec)
    ds = spectra.population_dataset(spec["spectrum"], spec["teacher"])
    io.write_dataset(ds, args.out, io.provenance(spec=spec, wall_time=time.perf_counter() - t0))


def _grid(spec: dict):
    P = spectra.sample_sizes(spec["samples"], spec["D"])
    return P, cfg.ridge_values(spec["ridge"], P)


def cmd_simulate(args) -> None:
    from . import simulation

    t0 = time.perf_counter()
    spec = _spec(args.spec)
    pop = io.read_dataset(args.spectrum)
    start, stop = (int(x) for x in args.draws.split(":"))
    if not (0 <= start < stop <= spec["draws"]):
        raise SystemExit(f"error: --draws {args.draws}: must satisfy 0 <= start < stop <= draws ({spec['draws']})")
    draws = range(start, stop)
    if spec["model"] == "rf_width_sweep":
        return _simulate_width_sweep(args, spec, pop, draws=draws, t0=t0)
    P, lam = _grid(spec)
    rf = spec["model"] == "random_features"
    m = int(spec.get("feature_draws", 1))
    label = f"{spec['name']} draws {start}:{stop}"
    print(f"[{spec['name']}] model {spec['model']}, D={spec['D']}, P={P.min()}..{P.max()} ({P.size} sizes), "
          f"{len(draws)} data draws" + (f" x {m} feature draws, widths {spec['widths']}" if rf else "")
          + f", {args.threads} threads", file=sys.stderr, flush=True)
    common = dict(experiment=spec["name"], seed=spec["seed"], threads=args.threads, mem_budget_bytes=args.mem_gb * 1e9)
    coords = {"draw": ("draw", np.arange(start, stop)), "P": ("P", P, _attrs("P")), "k": ("k", pop.k.values)}
    if rf:
        res = simulation.simulate_random_features(
            pop.eta.values, pop.w.values, P, lam, spec["widths"], spec["sigma_eps"], spec["sigma_xi"], draws, m,
            weight_exponent=spec.get("weight_exponent", 0.0),
            progress=simulation.Progress(len(draws), label + " (draw x feature group)"), **common)
        pair = ("draw", "fdraw", "P")
        data = {name: (pair, res[name], _attrs(name)) for name in ("eg", "etr", "df1_hat", "kappa_hat", "gcv")}
        data["v_clean"] = (pair + ("n",), res["v_clean"], {"long_name": "clean-label readout weights v", "units": "1"})
        data["noise_row_sq"] = (("draw", "P"), res["noise_row_sq"], {"long_name": "|mean over feature draws of the noise error|^2", "units": "1"})
        data["noise_within"] = (("draw", "P"), res["noise_within"], {"long_name": "within-row sum of squares of the noise error", "units": "1"})
        coords["fdraw"] = ("fdraw", np.arange(m))
    else:
        res = simulation.simulate_linear_ridge(
            pop.eta.values, pop.w.values, P, lam, spec["sigma_eps"], draws,
            progress=simulation.Progress(len(draws), label), **common)
        data = {name: (("draw", "P"), res[name], _attrs(name)) for name in ("eg", "etr", "df1_hat", "kappa_hat", "gcv")}
        data["noise_sq"] = (("draw", "P"), res["noise_sq"], {"long_name": "|Sigma^1/2 beta_noise|^2 of one draw", "units": "1"})
        data["e_clean"] = (("draw", "P", "k"), res["e_clean"], {"long_name": "whitened clean-label error Sigma^1/2 (beta - w)", "units": "1"})
    data["lam"] = ("P", lam, _attrs("lam"))
    ds = xr.Dataset(data, coords=coords)
    wall = time.perf_counter() - t0
    gflops = (res["flops"] + res["flops_factor"]) / 1e9
    extra = {"flops_gemm": res["flops"], "flops_factor": res["flops_factor"], "gflops_per_s": gflops / wall, "threads": args.threads}
    seeds = {"root_seed": spec["seed"], "experiment": spec["name"], "data_draws": [start, stop],
             "streams": "data=0 (X, eps), features=1 (F_j), feature noise=2 (xi_ij)"}
    if rf:
        seeds["feature_draws"] = [0, m]
    io.write_dataset(ds, args.out, io.provenance(spec=spec, inputs=[args.spectrum], seeds=seeds, wall_time=wall, extra=extra))
    print(f"[{spec['name']}] done in {wall:.1f} s, {gflops:.1f} GFLOP ({gflops / wall:.1f} GFLOP/s)", file=sys.stderr)


SWEEP_DIMS = ("alpha_F", "N")


def _sweep_coords(spec):
    return {"alpha_F": ("alpha_F", np.asarray(spec["weight_exponents"], dtype=float),
                        {"long_name": "feature-weight exponent alpha_F (column scale k^-alpha_F/2)", "units": "1"}),
            "N": ("N", cfg.width_values(spec["width_grid"]), {"long_name": "number of features N", "units": "1"})}


def _simulate_width_sweep(args, spec, pop, draws, t0) -> None:
    """C7: every (data draw, feature draw) pair in one job; writes the two-way sufficient statistics."""
    from . import simulation
    from .estimators import two_way_statistics

    if len(draws) != spec["draws"]:
        raise SystemExit(f"error: --draws {args.draws}: rf_width_sweep needs all {spec['draws']} data draws in one job")
    m = int(spec["feature_draws"])
    N = cfg.width_values(spec["width_grid"])
    res = simulation.simulate_width_sweep(
        pop.eta.values, pop.w.values, int(spec["sample_size"]), N, spec["weight_exponents"], draws, m,
        experiment=spec["name"], seed=spec["seed"], threads=args.threads,
        progress=simulation.Progress(len(draws) * m, f"{spec['name']} (data x feature draw)"))
    stats = two_way_statistics(res["e"])
    pair, row, col = ("draw", "fdraw") + SWEEP_DIMS, ("draw",) + SWEEP_DIMS, ("fdraw",) + SWEEP_DIMS
    doc = {"long_name": "two-way sufficient statistic of the whitened errors (estimators.two_way_components)", "units": "1"}
    dims = {"a": pair, "b": pair, "h": pair, "r": row, "rg": row, "c": col, "cg": col, "g": SWEEP_DIMS}
    data = {"eg": (pair, res["eg"], _attrs("eg")), **{k: (dims[k], v, doc) for k, v in stats.items()}}
    coords = {"draw": ("draw", np.asarray(draws)), "fdraw": ("fdraw", np.arange(m)), **_sweep_coords(spec)}
    wall = time.perf_counter() - t0
    extra = {"flops_gemm": res["flops"], "flops_factor": res["flops_factor"], "gflops_per_s": res["flops"] / 1e9 / wall,
             "threads": args.threads}
    seeds = {"root_seed": spec["seed"], "experiment": spec["name"], "data_draws": [draws[0], draws[-1] + 1],
             "feature_draws": [0, m], "streams": "data=0 (X), features=1 (G_j)"}
    io.write_dataset(xr.Dataset(data, coords=coords), args.out,
                     io.provenance(spec=spec, inputs=[args.spectrum], seeds=seeds, wall_time=wall, extra=extra))
    print(f"[{spec['name']}] done in {wall:.1f} s, {res['flops'] / 1e9:.1f} GFLOP", file=sys.stderr)


def _merge_width_sweep(args, spec, blocks, t0) -> None:
    from .estimators import two_way_components, two_way_mean_se

    (ds,) = blocks
    comp = two_way_components(**{k: ds[k].values for k in ("a", "r", "c", "g", "rg", "cg", "b", "h")})
    comp["var_f_xf"] = comp["var_f"] + comp["var_xf"]
    comp["var_f_xf_se"] = np.hypot(comp["var_f_se"], comp["var_xf_se"])
    out = {name: (SWEEP_DIMS, comp[name], _attrs(name)) for name in comp}
    m_eg, s_eg, se_eg = two_way_mean_se(ds["eg"].values)
    out.update(eg=(SWEEP_DIMS, m_eg, _attrs("eg")), eg_std=(SWEEP_DIMS, s_eg, _attrs("eg_std")), eg_se=(SWEEP_DIMS, se_eg, _attrs("eg_se")))
    merged = xr.Dataset(out, coords={"alpha_F": ds.alpha_F, "N": ds.N, "P": int(spec["sample_size"])})
    extra = {"simulation_wall_time_s": float(ds.attrs.get("wall_time_s", 0.0)),
             "flops_total": float(ds.attrs.get("flops_gemm", 0.0)), "n_blocks": 1,
             "block_commands": [ds.attrs["command"]]}
    io.write_dataset(merged, args.out, io.provenance(spec=spec, inputs=args.blocks, wall_time=time.perf_counter() - t0, extra=extra))


def _theory_width_sweep(args, spec, pop, t0) -> None:
    from . import theory

    P = float(spec["sample_size"])
    N_sim = cfg.width_values(spec["width_grid"])
    a, b, _ = spec["width_grid"]["logspace"]
    N = np.unique(np.concatenate([np.logspace(a, b, 80).astype(np.int64), N_sim]))
    N = N[N != int(P)]
    names = ("kappa1", "kappa2", "bias", "var_x", "var_f", "var_xf", "eg")
    vals = {k: np.empty((len(spec["weight_exponents"]), N.size)) for k in names}
    for ia, alpha_f in enumerate(spec["weight_exponents"]):
        for jn, n_feat in enumerate(N):
            ws = [np.arange(1, n_feat + 1) ** -float(alpha_f)] if alpha_f else None
            th = theory.random_features(pop.eta.values, pop.w.values, P, [int(n_feat)], 0.0, weight_spectra=ws)
            for k in names:
                vals[k][ia, jn] = float(th[k])
    data = {k: (SWEEP_DIMS, v, _attrs(k)) for k, v in vals.items()}
    data["var_f_xf"] = (SWEEP_DIMS, vals["var_f"] + vals["var_xf"], {"long_name": "Var_F + Var_XF", "units": "1"})
    data["c"] = ("alpha_F", np.array([theory.finite_width_exponent(x) for x in spec["weight_exponents"]]),
                 {"long_name": "finite-width exponent c (Var_F ~ N^-c as N -> infinity, N << D)", "units": "1"})
    coords = {"alpha_F": _sweep_coords(spec)["alpha_F"], "N": ("N", N, _attrs("P") | {"long_name": "number of features N"}),
              "simulated": ("N", np.isin(N, N_sim), {"long_name": "N is on the simulation grid"}), "P": P}
    io.write_dataset(xr.Dataset(data, coords=coords), args.out,
                     io.provenance(spec=spec, inputs=[args.spectrum], wall_time=time.perf_counter() - t0))


def _summaries(ds, names, two_way: bool) -> dict:
    from .estimators import mean_and_se, two_way_mean_se

    out = {}
    dims = ("draw", "fdraw", "P") if two_way else ("draw", "P")
    for name in names:
        m, s, se = (two_way_mean_se if two_way else mean_and_se)(ds[name].values)
        out[name] = ("P", m, _attrs(name))
        out[name + "_std"] = ("P", s, _attrs(name + "_std"))
        out[name + "_se"] = ("P", se, _attrs(name + "_se"))
        out[name + "_per_draw"] = (dims, ds[name].values, _attrs(name))
    return out


def cmd_merge(args) -> None:
    from . import simulation
    from .estimators import mean_and_se, one_way_components, two_way_components

    t0 = time.perf_counter()
    spec = _spec(args.spec)
    blocks = [io.read_dataset(p) for p in args.blocks]
    if spec["model"] == "rf_width_sweep":
        return _merge_width_sweep(args, spec, blocks, t0)
    ds = xr.concat(blocks, dim="draw", data_vars="minimal", coords="minimal", compat="override").sortby("draw")
    draws = ds.draw.values
    if not np.array_equal(draws, np.arange(spec["draws"])):
        raise SystemExit(f"error: blocks cover draws {draws.tolist()}, expected 0..{spec['draws'] - 1}")
    rf = spec["model"] == "random_features"
    out = _summaries(ds, ("eg", "etr", "df1_hat", "kappa_hat", "gcv"), two_way=rf)
    if rf:
        pop = io.read_dataset(args.spectrum)
        stats = simulation.rf_error_statistics(
            ds["v_clean"].values, pop.eta.values, pop.w.values, spec["widths"], spec["sigma_xi"],
            experiment=spec["name"], seed=spec["seed"], weight_exponent=spec.get("weight_exponent", 0.0))
        comp = two_way_components(**stats)
        n, m = ds.sizes["draw"], ds.sizes["fdraw"]
        # Label-noise part: mean zero, so E|row mean|^2 = Var_Xeps + Var_XFeps/m; within-row SS / (m-1) = Var_XFeps.
        within = ds["noise_within"].values / (m - 1)
        row_part = ds["noise_row_sq"].values - within / m
        for name, per_row in (("var_xfeps", within), ("var_xeps", row_part)):
            comp[name] = per_row.mean(axis=0)
            comp[name + "_se"] = per_row.std(axis=0, ddof=1) / np.sqrt(n)
        comp["var_f_xf"] = comp["var_f"] + comp["var_xf"]
        comp["var_f_xf_se"] = np.hypot(comp["var_f_se"], comp["var_xf_se"])
        names = ("bias", "var_x", "var_f", "var_xf", "var_f_xf", "var_xeps", "var_xfeps")
        inputs = args.blocks + [args.spectrum]
    else:
        m, s, se = mean_and_se(ds["noise_sq"].values)
        out["var_xeps"], out["var_xeps_se"] = ("P", m, _attrs("var_xeps")), ("P", se, _attrs("var_xeps_se"))
        comp = one_way_components(ds["e_clean"].values)
        names = ("bias", "var_x")
        inputs = args.blocks
    for name in names:
        out[name] = ("P", comp[name], _attrs(name))
        out[name + "_se"] = ("P", comp[name + "_se"], _attrs(name + "_se"))
    out["lam"] = ("P", ds["lam"].values, _attrs("lam"))
    P = ds.P.values
    coords = {"P": ("P", P, _attrs("P")), "draw": ("draw", draws), "q": ("P", spec["D"] / P, {"long_name": "q = D/P", "units": "1"})}
    if rf:
        coords["fdraw"] = ("fdraw", ds.fdraw.values)
    merged = xr.Dataset(out, coords=coords)
    wall_sim = float(sum(b.attrs.get("wall_time_s", 0.0) for b in blocks))
    flops = float(sum(b.attrs.get("flops_gemm", 0.0) + b.attrs.get("flops_factor", 0.0) for b in blocks))
    extra = {"simulation_wall_time_s": wall_sim, "flops_total": flops, "n_blocks": len(blocks),
             "block_commands": [b.attrs["command"] for b in blocks]}
    seeds = json.loads(blocks[0].attrs["seed_keys"])
    seeds["data_draws"] = [0, int(spec["draws"])]
    io.write_dataset(merged, args.out, io.provenance(spec=spec, inputs=inputs, seeds=seeds, wall_time=time.perf_counter() - t0,
                                                     extra=extra))


def cmd_theory(args) -> None:
    from . import theory

    t0 = time.perf_counter()
    spec = _spec(args.spec)
    pop = io.read_dataset(args.spectrum)
    if spec["model"] == "rf_width_sweep":
        return _theory_width_sweep(args, spec, pop, t0)
    P_sim, _ = _grid(spec)
    P_dense = spec["D"] / spectra.grid_q(spec["theory_samples"])
    P = np.unique(np.concatenate([P_dense, P_sim.astype(float)]))
    lam = cfg.ridge_values(spec["ridge"], P)
    eta, w = pop.eta.values, pop.w.values
    if spec["model"] == "random_features":
        alpha_f = spec.get("weight_exponent", 0.0)
        spectra_w = [np.arange(1, n + 1) ** -alpha_f for n in spec["widths"]] if alpha_f else None
        th = theory.random_features(eta, w, P, spec["widths"], lam, sigma_eps=spec["sigma_eps"],
                                    sigma_xi=spec["sigma_xi"], weight_spectra=spectra_w)
        th["var_f_xf"] = th["var_f"] + th["var_xf"]
        th["k2sq_tf1p"] = th["bias"]  # kappa_2^2 tf1'(kappa_2) is Bias^2 (THEORY.md §4)
        if "kappa2_tf1" in th:
            th["k2_tf1"] = th["kappa2_tf1"]
    else:
        th = theory.linear_ridge(eta, w, P, lam, spec["sigma_eps"])
    th = th.drop_vars("P").rename({"point": "P"}).assign_coords(P=("P", P, _attrs("P")))
    for name in th.data_vars:
        th[name].attrs.update(_attrs(name))
    th = th.assign_coords(
        q=("P", spec["D"] / P, {"long_name": "q = D/P", "units": "1"}),
        simulated=("P", np.isin(P, P_sim.astype(float)), {"long_name": "P is on the simulation grid"}),
    )
    th.attrs = {k: (json.dumps(v) if isinstance(v, (list, dict)) else v) for k, v in th.attrs.items()}
    io.write_dataset(th, args.out, io.provenance(spec=spec, inputs=[args.spectrum], wall_time=time.perf_counter() - t0))


def _pairs(items) -> dict:
    out = {}
    for item in items:
        role, _, paths = item.partition("=")
        out[role] = paths.split(",")
    return out


def cmd_figure(args) -> None:
    from .plotting import render

    t0 = time.perf_counter()
    spec = _spec(args.spec)
    data = {role: [io.read_dataset(p) for p in paths] for role, paths in _pairs(args.data).items()}
    render(spec, data, args.out, args.png)
    print(f"figure {spec.get('id', '?')} rendered in {time.perf_counter() - t0:.1f} s", file=sys.stderr)


def cmd_agreement(args) -> None:
    from .estimators import write_agreement_csv

    pairs = {name: tuple(io.read_dataset(p) for p in paths) for name, paths in _pairs(args.pair).items()}
    for r in write_agreement_csv(pairs, args.out):
        print(f"{r['experiment']:>14s} {r['quantity']:>10s}  median rel dev {r['median_rel_dev']:.3g}  "
              f"max {r['max_rel_dev']:.3g}  median |dev|/SE {r['median_abs_dev_over_se']:.3g}", file=sys.stderr)


def cmd_spectra_data(args) -> None:
    """Sample the eigenvalues of a random-matrix figure (section A) and evaluate its limiting densities."""
    from . import densities
    from .plotting import FIGURE_KINDS
    from .simulation import experiment_key

    t0 = time.perf_counter()
    spec = json.loads(args.spec)
    kind = FIGURE_KINDS.get(spec.get("kind"))
    if kind is None or kind.builder is None:
        raise SystemExit(f"error: figure kind {spec.get('kind')!r} has no random-matrix data builder")
    entropy = (int(args.seed), experiment_key(spec["id"]))
    ds = getattr(densities, kind.builder)(spec.get("params", {}), entropy)
    seeds = {"root_seed": int(args.seed), "figure": spec["id"], "entropy": list(entropy)}
    io.write_dataset(ds, args.out, io.provenance(spec=spec, seeds=seeds, wall_time=time.perf_counter() - t0))
    print(f"figure {spec['id']} data in {time.perf_counter() - t0:.1f} s", file=sys.stderr)


def cmd_audit(args) -> None:
    from . import audit

    raise SystemExit(audit.main(args.file, verify=args.verify))


def cmd_plan(args) -> None:
    from . import simulation

    config = cfg.load_config(*args.configfiles)
    threads = int(config.get("threads", 2))
    rates = simulation.measured_rates(threads)  # at the threads a simulate job gets
    print(f"scale {config['scale']!r}: measured float64 GEMM {rates['gemm']:.0f} GFLOP/s ({threads} threads), "
          f"Cholesky {rates['factor']:.1f} GFLOP/s per thread")
    print(f"{'experiment':<22}{'model':<17}{'GEMM TFLOP':>11}{'factor TFLOP':>13}{'fits':>9}{'est. time':>11}")
    total = 0.0
    for name in sorted(config["experiments"]):
        spec = cfg.experiment_spec(config, name)
        f = simulation.estimate_flops(spec)
        jobs = len(cfg.draw_blocks(spec))
        # GEMM on all threads; factorizations one per thread; ~3 s interpreter start-up per job.
        seconds = (f["gemm"] + f["merge"]) / (rates["gemm"] * 1e9) + f["factor"] / (rates["factor"] * 1e9 * threads) + 3.0 * (jobs + 3)
        total += seconds
        print(f"{name:<22}{spec['model']:<17}{f['gemm'] / 1e12:>11.2f}{f['factor'] / 1e12:>13.2f}{f['fits']:>9d}{seconds / 60:>9.1f} min")
    print(f"total simulation estimate: {total / 60:.1f} min on this machine (figures, theory: about 10 s per job more)")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ridgerenorm", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("check-config", help="validate (merged) config files")
    s.add_argument("configfiles", nargs="+")
    s.set_defaults(func=cmd_check_config)

    s = sub.add_parser("spectra-data", help="eigenvalues and limiting densities of a random-matrix figure")
    s.add_argument("--spec", required=True, help="figure spec as JSON")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--out", required=True)
    s.set_defaults(func=cmd_spectra_data)

    s = sub.add_parser("audit", help="print how a netCDF output was made; --verify recomputes it and compares bits")
    s.add_argument("file")
    s.add_argument("--verify", action="store_true", help="rerun the recorded command in a temporary folder")
    s.set_defaults(func=cmd_audit)

    s = sub.add_parser("plan", help="estimate each experiment's flops and run time on this machine")
    s.add_argument("configfiles", nargs="+")
    s.set_defaults(func=cmd_plan)

    s = sub.add_parser("spectrum", help="write an experiment's population spectrum and teacher")
    s.add_argument("--spec", required=True, help="experiment parameters as JSON")
    s.add_argument("--out", required=True)
    s.set_defaults(func=cmd_spectrum)

    s = sub.add_parser("simulate", help="simulate a block of data draws of an experiment")
    s.add_argument("--spec", required=True)
    s.add_argument("--spectrum", required=True)
    s.add_argument("--draws", required=True, help="START:STOP data-draw indices")
    s.add_argument("--threads", type=int, default=1)
    s.add_argument("--mem-gb", type=float, default=16.0)
    s.add_argument("--out", required=True)
    s.set_defaults(func=cmd_simulate)

    s = sub.add_parser("merge", help="merge simulation blocks and estimate error components")
    s.add_argument("--spec", required=True)
    s.add_argument("--spectrum", help="population spectrum (random features: needed to rebuild the errors)")
    s.add_argument("--out", required=True)
    s.add_argument("blocks", nargs="+")
    s.set_defaults(func=cmd_merge)

    s = sub.add_parser("theory", help="evaluate the theory on the dense and the simulated grid")
    s.add_argument("--spec", required=True)
    s.add_argument("--spectrum", required=True)
    s.add_argument("--out", required=True)
    s.set_defaults(func=cmd_theory)

    s = sub.add_parser("figure", help="render one figure to PDF and PNG")
    s.add_argument("--spec", required=True, help="figure spec as JSON")
    s.add_argument("--data", nargs="*", default=[], help="ROLE=file.nc[,file.nc...]")
    s.add_argument("--out", required=True, help="PDF path")
    s.add_argument("--png", required=True)
    s.set_defaults(func=cmd_figure)

    s = sub.add_parser("agreement", help="simulation-vs-theory agreement table (CSV)")
    s.add_argument("--pair", nargs="+", required=True, help="EXPERIMENT=simulation.nc,theory.nc")
    s.add_argument("--out", required=True)
    s.set_defaults(func=cmd_agreement)
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except cfg.ConfigError as e:
        print(str(e), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
