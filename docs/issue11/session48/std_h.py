"""train_controller.py with --controller.real-standardize applied to h's directions only: z's weights stay on the raw
means (shift 0, scale 1), h's 16 directions are centred and scaled as the flag does. An experiment harness for session
48 (is the narrow z dimensions' share what costs Xeon 2?), not a project option. The first step stays the flag's,
real_sigma0 / sqrt(K + 1).

    python docs/issue11/session48/std_h.py --seed 2 --run-dir runs/xeon_s2_stdh --controller.real-standardize true ...
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
import numpy as np  # noqa: E402

import train_controller  # noqa: E402

real_norm = train_controller.ControllerTraining.real_norm


def h_only(self, n: int = 2048):
    m, s = real_norm(self, n)
    Z = self.z_basis.shape[1]
    return np.concatenate([np.zeros(Z), m[Z:]]), np.concatenate([np.ones(Z), s[Z:]])


train_controller.ControllerTraining.real_norm = h_only
sys.exit(train_controller.cli(sys.argv[1:]))
