"""Speed and results of torch's CPU kernels: the machine's best (AVX-512 where it has it) against AVX2 forced.

    python docs/kernels_speed.py [--rounds 3]
Each round runs, in fresh processes and alternating, the default preset's VAE (batch 128 of 64x64x3, channels-last
as in train_vae.py) and MDN-RNN (batch 64 x 64 steps, 256 units, 5 mixtures) training steps on fixed random inputs:
with the environment as it is, with ONEDNN_MAX_CPU_ISA=AVX2 alone, and with ATEN_CPU_CAPABILITY=avx2 as well. It
prints steps/s per setting, each round's speed relative to "as is" in the same round, and a hash of the weights after
the steps: the hashes differ between settings on an AVX-512 CPU (README, Reliability, "Across machines").
"""
import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHILD = r"""
import utils.omp  # as the training scripts: before torch
import hashlib, json, time, torch
from models.vae import ConvVAE
from models.mdn_rnn import MDNRNN
from utils.common import cpu_kernels
torch.manual_seed(0)
out = {"kernels": cpu_kernels()}
vae = ConvVAE(32).to(memory_format=torch.channels_last)  # as train_vae.py
x = vae.to_input(torch.randint(0, 256, (128, 64, 64, 3), dtype=torch.uint8))
rnn, z, a = MDNRNN(32, 6, 256, 5), torch.randn(64, 64, 32), torch.randint(0, 6, (64, 64))
for name, model, step in [
        ("vae", vae, lambda: ((vae(x)[0] - x) ** 2).mean()),
        ("mdn_rnn", rnn, lambda: sum(t.float().pow(2).mean() for t in rnn(z, a)[0].values()))]:
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    for i in range(13):
        if i == 3:
            t0 = time.perf_counter()
        opt.zero_grad(); step().backward(); opt.step()
    out[name + "_steps_per_s"] = 10 / (time.perf_counter() - t0)
    out[name + "_weights"] = hashlib.sha256(torch.cat([p.detach().flatten() for p in model.parameters()]).numpy().tobytes()).hexdigest()[:12]
print(json.dumps(out))
"""


def run(extra: dict) -> dict:
    env = {**os.environ, **extra, "PYTHONPATH": str(ROOT)}
    return json.loads(subprocess.run([sys.executable, "-c", CHILD], env=env, cwd=ROOT, check=True, capture_output=True,
                                     text=True).stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=3)
    rounds = p.parse_args().rounds
    settings = {"as is": {}, "oneDNN AVX2": {"ONEDNN_MAX_CPU_ISA": "AVX2"},
                "AVX2 forced": {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2"}}
    cpu = Path("/proc/cpuinfo").read_text().split("\n\n")[0] if Path("/proc/cpuinfo").exists() else ""
    info = dict(line.split(":", 1) for line in cpu.splitlines() if ":" in line)
    print("cpu:", {k.strip(): info.get(k, "").strip() for k in ("model name\t", "cpu family\t", "model\t\t")},
          "avx512f" in info.get("flags\t\t", ""), flush=True)
    res = {k: [] for k in settings}
    for r in range(rounds):
        for k, extra in settings.items():
            res[k].append(run(extra))
            print(f"round {r + 1} {k:>11}: {json.dumps(res[k][-1])}", flush=True)
    for k, rs in res.items():
        ratio = {n: [x[f"{n}_steps_per_s"] / b[f"{n}_steps_per_s"] for x, b in zip(rs, res["as is"], strict=True)]
                 for n in ("vae", "mdn_rnn")}
        print(f"{k:>11}: per round / as is: VAE {min(ratio['vae']):.2f}-{max(ratio['vae']):.2f}x, "
              f"MDN-RNN {min(ratio['mdn_rnn']):.2f}-{max(ratio['mdn_rnn']):.2f}x")
        v = sorted(x["vae_steps_per_s"] for x in rs)[len(rs) // 2]
        m = sorted(x["mdn_rnn_steps_per_s"] for x in rs)[len(rs) // 2]
        print(f"{k:>11}: kernels {rs[0]['kernels']}  median VAE {v:.2f} steps/s, MDN-RNN {m:.2f} steps/s; weights "
              f"{sorted({x['vae_weights'] for x in rs})} {sorted({x['mdn_rnn_weights'] for x in rs})}")


if __name__ == "__main__":
    main()
