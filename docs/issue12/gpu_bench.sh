#!/usr/bin/env bash
# The CUDA path, measured on a GPU machine (issue 12): bench.py on CUDA and on the same machine's CPU, then
# the whole pipeline at dry-run sizes on CUDA; with --train also the default preset end to end on CUDA
# (make train's pipeline: collection, VAE, MDN-RNN, dream and real CMA-ES, 30 evaluation games).
# Run from the repository root:
#   bash docs/issue12/gpu_bench.sh OUTDIR            # bench_{cuda,cpu}.{json,log}, dry_run_cuda.log (about 3 min on an H200)
#   bash docs/issue12/gpu_bench.sh OUTDIR --train    # make_train_cuda.log, results.json, controller_metrics.json (about 6 min)
# Where the machine's Python lacks gymnasium, ale-py and cma, put their wheels in .whl/ first (installed into
# /tmp/site). docs/issue12/gpu_h200/ holds what it wrote on an H200 with 16 CPU cores (the two parts in two calls).
set -uo pipefail
out=${1:?usage: gpu_bench.sh OUTDIR [--train]}
mkdir -p "$out"
py=${PYTHON:-python3}
if compgen -G ".whl/*.whl" >/dev/null; then
    $py -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
    export PYTHONPATH=/tmp/site
fi
export PYTHONUNBUFFERED=1
if [ "${2:-}" = "--train" ]; then
    /usr/bin/time -f "%e s wall" $py train_world_model.py --reference --no-wandb --device cuda --run-dir /tmp/mt_cuda \
        --logging.progress false 2>&1 | tee "$out/make_train_cuda.log" | grep -v "dream gen\|real gen"
    cp /tmp/mt_cuda/eval/results.json "$out/results.json"
    cp /tmp/mt_cuda/controller/metrics.json "$out/controller_metrics.json"
    exit
fi
{ nvidia-smi -L; nproc; lscpu | grep 'Model name'; $py -c "import torch, numpy, huggingface_hub; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), 'numpy', numpy.__version__, 'hf', huggingface_hub.__version__)"; } 2>&1 | tee "$out/machine.log"
$py -c "import models.vae, models.mdn_rnn, models.controller, train_world_model" || exit 1
for dev in cuda cpu; do
    /usr/bin/time -f "%e s wall" $py bench.py --device "$dev" --output "$out/bench_$dev.json" 2>&1 | tee "$out/bench_$dev.log"
done
/usr/bin/time -f "%e s wall" $py train_world_model.py --dry-run --no-wandb --device cuda --run-dir /tmp/dry_cuda \
    --logging.progress false 2>&1 | tee "$out/dry_run_cuda.log"
