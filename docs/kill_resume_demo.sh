#!/usr/bin/env bash
# Kill-and-resume at the default preset's real sizes (96 games, 50k frames, the 32-d VAE):
# SIGKILL during data collection, SIGKILL in the middle of VAE epoch 3, then the same command
# finishes the job. Then the same command runs once more, never killed, in another directory, and
# the two are compared: data shards, per-epoch losses, final weights. About 10 minutes on 2 cores.
#   bash docs/kill_resume_demo.sh [/tmp/kill_resume_demo]
set -u
ROOT=${1:-/tmp/kill_resume_demo}
WORK=$ROOT/killed
REF=$ROOT/uninterrupted
PY=${PYTHON:-.venv/bin/python}
rm -rf "$ROOT"
CMD=("$PY" train_vae.py --run-dir "$WORK" --vae.num-epochs 3 --no-wandb --logging.progress false)

count() { python3 -c "import json,sys; p=sys.argv[1]
try: print($2)
except Exception: print(0)" "$1"; }

echo "== 1. start, SIGKILL once 4 of 12 shards are on disk"
"${CMD[@]}" & pid=$!
until [ "$(count "$WORK/data/manifest.json" 'len(json.load(open(p))["shards"])')" -ge 4 ]; do sleep 0.2; done
kill -9 $pid; wait $pid; echo "killed (exit $?) with $(count "$WORK/data/manifest.json" 'len(json.load(open(p))["shards"])') shards written"

echo "== 2. same command, SIGKILL 20 s into VAE epoch 3"
"${CMD[@]}" & pid=$!
until [ "$(count "$WORK/logs/vae.jsonl" 'sum("vae/epoch_recon" in l for l in open(p))')" -ge 2 ]; do sleep 0.5; done
sleep 20
kill -9 $pid; wait $pid; echo "killed (exit $?) after $(count "$WORK/logs/vae.jsonl" 'sum("vae/epoch_recon" in l for l in open(p))') finished epochs"

echo "== 3. same command again"
start=$(date +%s)
"${CMD[@]}" || exit 1
echo "finished in $(( $(date +%s) - start )) s"

echo "== 4. the same command in $REF, never killed"
"${CMD[@]/$WORK/$REF}" > /dev/null || exit 1

echo "== 5. compare"
"$PY" - "$WORK" "$REF" <<'PYEOF'
import json, sys
from pathlib import Path
import numpy as np
from safetensors.numpy import load_file
work, ref = Path(sys.argv[1]), Path(sys.argv[2])
same = all(np.array_equal(np.load(work / "data" / s.name)[k], np.load(s)[k])
           for s in sorted((ref / "data").glob("shard_*.npz")) for k in ("obs", "actions", "rewards", "dones"))
print(f"data shards identical to the uninterrupted run's: {same}")
a = json.loads((work / "vae" / "metrics.json").read_text())
b = json.loads((ref / "vae" / "metrics.json").read_text())
print(f"resumed at epoch {a['resumed_at_epoch']}")
for x, y in zip(a["epochs"], b["epochs"]):
    print(f"epoch {x['epoch']}: recon {x['recon']:.6f} kl {x['kl']:.6f}   uninterrupted: recon {y['recon']:.6f} kl {y['kl']:.6f}")
steps = [json.loads(l)["step"] for l in open(work / "logs" / "vae.jsonl") if "epoch_recon" not in l]
print(f"log: {len(steps)} step records, each step once: {steps == sorted(set(steps))}")
wa, wb = (load_file(str(r / "vae" / "model.safetensors")) for r in (work, ref))
print(f"final VAE weights bit-identical: {all(np.array_equal(wa[k], wb[k]) for k in wa)}")
PYEOF
