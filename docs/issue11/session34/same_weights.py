"""Seed 2 end to end with the new defaults against the 30-generation run: same generations, same kept controller.

    python docs/issue11/session34/same_weights.py > docs/issue11/session34/s2_same_weights.log
(needs runs/mt/s2 and runs/mt/s2_f10e25, made by the commands of docs/issue11/session34.md)
"""
import json

import torch
from safetensors.torch import load_file

a, b = "runs/mt/s2_f10e25/controller/model.safetensors", "runs/mt/s2/controller/pick_G25_top10/model.safetensors"
w, p = load_file(a), load_file(b)
print(a, "vs", b, "tensors", sorted(w), "equal:", all(torch.equal(w[k], p[k]) for k in w) and sorted(w) == sorted(p))
ha = json.load(open("docs/issue11/session34/s2_finalists10_epochs25_controller_metrics.json"))["real"]["history"]
hb = json.load(open("docs/issue11/session34/s2_controller_metrics.json"))["real"]["history"]
keys = ("best", "mean", "std", "worst", "sigma", "env_frames")
print("generations", len(ha), "equal to the 30-generation run's first 25 in", keys, ":",
      all(x[k] == y[k] for x, y in zip(ha, hb[:25]) for k in keys))
