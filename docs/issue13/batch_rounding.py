"""Issue 13: why a trained World Models agent's CarRacing scores move with the engine's shape. Encodes the same 70
random frames with the run's VAE in batches of every size from 1 to 69 and on 1 and 2 torch threads, and steps its
LSTM at every batch size: which batch sizes give other numbers than the batch of 70 for the same rows, and by how much.

    python docs/issue13/batch_rounding.py runs/car/real_only_e10_s0
"""
import subprocess
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from utils.world_model import WorldModel  # noqa: E402

run = Path(sys.argv[1])
if len(sys.argv) > 2:  # the child: on this many threads, save the batch of 70's codes to argv[3]
    torch.set_num_threads(int(sys.argv[2]))
wm = WorldModel.load(run, torch.device("cpu"), with_controller=False)
torch.manual_seed(0)
N = 70
frames = torch.randint(0, 256, (N, 64, 64, 3), dtype=torch.uint8)
z = torch.randn(N, wm.mdn.latent_dim)
a = torch.rand(N, wm.mdn.action_dim)
with torch.no_grad():
    ref = wm.vae.encode_frames(frames)
    if len(sys.argv) > 2:
        torch.save(ref, sys.argv[3])
        sys.exit(0)
    vae_off = {b: (wm.vae.encode_frames(frames[:b]) - ref[:b]).abs().max().item() for b in range(1, N)}
    state = wm.mdn.initial_state(N, torch.device("cpu"))
    h_ref = wm.mdn.step(z, a, state)[0]
    lstm_off = {b: (wm.mdn.step(z[:b], a[:b], tuple(s[:b] for s in state))[0] - h_ref[:b]).abs().max().item()
                for b in range(1, N)}
print("VAE encode, batch sizes whose rows differ from the batch of 70:",
      {b: f"{d:.1e}" for b, d in vae_off.items() if d > 0} or "none")
print("LSTM step, batch sizes whose rows differ from the batch of 70:",
      {b: f"{d:.1e}" for b, d in lstm_off.items() if d > 0} or "none")
paths = []
for threads in (1, 2):
    paths.append(f"/tmp/batch_rounding_t{threads}.pt")
    subprocess.run([sys.executable, __file__, str(run), str(threads), paths[-1]], check=True)
t1, t2 = (torch.load(p) for p in paths)
print(f"VAE encode of the same 70 frames on 1 and 2 torch threads: max difference {(t1 - t2).abs().max().item():.1e}")
