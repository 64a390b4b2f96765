"""Issue 13: uniform random play in CarRacing's box on N seeded evaluation tracks, the same policy (and RNG seed)
that ``compare_baselines.py --agents random`` plays, without a trained agent beside it.

    python docs/issue13/random_tracks.py [NUM_TRACKS] [OUT.json]     # default 100 tracks (seeds 10,000+)
"""
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from config import make_config  # noqa: E402
from utils.agents import reference_agent  # noqa: E402
from utils.evaluation import evaluate_policy  # noqa: E402

n = int(sys.argv[1]) if len(sys.argv) > 1 else 100
cfg = make_config("carracing", **{"eval.num_episodes": n})
seeds = cfg.eval.seeds()
agent = reference_agent(cfg, "random")
t0 = time.perf_counter()
res = evaluate_policy(cfg.env, agent.policy, seeds, num_envs=agent.num_envs)
res["wall_s"] = round(time.perf_counter() - t0, 1)
print(f"random on {n} tracks (seeds {seeds[0]}-{seeds[-1]}): {res['mean']:.1f} +/- {res['std']:.1f} "
      f"(min {res['min']:.0f}, max {res['max']:.0f}) in {res['wall_s']} s")
if len(sys.argv) > 2:
    Path(sys.argv[2]).write_text(json.dumps(res, indent=2))
