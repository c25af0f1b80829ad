"""The run-level progress line of `ridgerenorm status`: simulation flops done and the time left at the rate
the finished work ran."""

from __future__ import annotations

from pathlib import Path

import pytest

from ridgerenorm import config as cfg
from ridgerenorm import status
from ridgerenorm.models import model_of

ROOT = Path(__file__).resolve().parents[1]


def test_remaining_minutes_is_the_rest_at_the_observed_rate():
    work = {"a": (6e12, 1.0), "b": (4e12, 0.25)}  # 6 + 1 of 10 TFLOP done
    done, total, rate, minutes = status.remaining_minutes(work, observed_flops=6e12, observed_wall=100.0)
    assert (done, total) == (7e12, 10e12)
    assert rate == pytest.approx(60.0)  # 6 TFLOP in 100 s
    assert minutes == pytest.approx(3e12 / 60e9 / 60)  # 50 s
    assert status.remaining_minutes(work, 0.0, 0.0)[2:] == (None, None)


def test_a_running_block_counts_its_logged_steps(tmp_path):
    config = cfg.load_config(ROOT / "config" / "config.yaml")  # paper scale: C5 is a third of its flops
    exp = "c5_noise_mitigated"
    spec = cfg.experiment_spec(config, exp)
    draws = int(spec["draws"])
    logs = tmp_path / "results" / "paper" / "logs" / "simulate" / exp
    logs.mkdir(parents=True)
    # the job of draws 0..half is 3 steps of 4 in; nothing is finished, so there is no rate yet
    half = draws // 2
    (logs / f"draws_0-{half}.log").write_text(
        f"[{exp}] model random_features\n[{exp} draws 0:{half} (draw x feature group)] draws 3/4  elapsed 1.0 s\n")
    line = status.simulation_progress(config, [], tmp_path)
    f = model_of(spec).flops(spec)
    mine = (f["gemm"] + f["factor"]) * (half / draws) * 0.75
    used = sorted({e for fig in config["figures"].values() for e in fig.get("experiments", {}).values()})
    total = sum(sum(model_of(s).flops(s)[k] for k in ("gemm", "factor"))
                for s in (cfg.experiment_spec(config, e) for e in used))
    assert line.startswith(f"simulation: {mine / 1e12:.1f} of {total / 1e12:.1f} TFLOP done")
    assert mine > 50e12 and "nothing finished yet" in line
