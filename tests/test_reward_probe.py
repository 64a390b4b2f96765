"""The arithmetic behind issue 11's probes: the AUC (docs/issue11/event_probe.py, which reward_probe.py uses) and the
weighted least squares of docs/issue11/reward_probe.py."""

import importlib.util
from pathlib import Path

import numpy as np

spec = importlib.util.spec_from_file_location("reward_probe", Path(__file__).parents[1] / "docs/issue11/reward_probe.py")
probe = importlib.util.module_from_spec(spec)
spec.loader.exec_module(probe)


def test_auc_counts_the_pairs_ranked_right_and_ties_as_half():
    pos = np.array([True, False, True, False])
    assert probe.auc(np.array([4.0, 1.0, 3.0, 2.0]), pos) == 1.0
    assert probe.auc(np.array([1.0, 4.0, 2.0, 3.0]), pos) == 0.0
    # positives 3 and 1 against negatives 2 and 0: pairs (3>2, 3>0, 1<2, 1>0) -> 3 of 4
    assert probe.auc(np.array([3.0, 2.0, 1.0, 0.0]), pos) == 0.75
    assert probe.auc(np.ones(4), pos) == 0.5  # all tied: no information


def test_weighted_fit_recovers_the_weighted_line():
    rng = np.random.default_rng(0)
    h = rng.standard_normal((400, 3))
    y = h @ np.array([1.0, -2.0, 0.5]) + 0.3
    beta = probe.fit(h, y, np.ones(400), ridge=0.0)
    assert np.allclose(beta, [1.0, -2.0, 0.5, 0.3], atol=1e-9)
    # Two groups with different offsets: the weights decide which one the bias follows.
    g = np.arange(400) < 40
    y2 = np.where(g, 10.0, 0.0)
    heavy = np.where(g, 9.0, 1.0)  # the 40 rows weigh as much as 360 others: the bias sits halfway
    b_alike = probe.fit(np.zeros((400, 1)), y2, np.ones(400), ridge=1e-9)[-1]
    b_heavy = probe.fit(np.zeros((400, 1)), y2, heavy, ridge=1e-9)[-1]
    assert abs(b_alike - 1.0) < 1e-6 and abs(b_heavy - 5.0) < 1e-6
