"""The house rules: no import cycles, no script reaching into another script (only the orchestrator
train_world_model.py calls the phases' ``main``), and importing config.py starts no emulator."""

from __future__ import annotations

import subprocess
import sys

from conftest import ROOT

sys.path.insert(0, str(ROOT / "docs"))
import import_graph  # noqa: E402


def test_no_import_cycles_and_no_script_imports_a_script():
    g = import_graph.graph()
    assert "utils.cli" in g["train_vae"] and "utils.run_paths" in g["utils.io"]  # the graph sees real edges
    assert import_graph.cycles(g) == []
    script_imports = {m: sorted(d & import_graph.SCRIPTS) for m, d in g.items() if d & import_graph.SCRIPTS}
    assert script_imports == {"train_world_model": ["evaluate", "train_controller", "train_mdn_rnn", "train_vae"]}


def test_cycle_finder_finds_a_cycle():
    assert import_graph.cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]


def test_importing_config_loads_no_emulator_and_no_torch():
    code = "import sys, config; print(sorted(m for m in ('torch', 'ale_py', 'cv2', 'gymnasium') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "[]", out.stderr
