# Two commands do everything on a fresh clone with Python 3.11:  make train   and   make test
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
ARGS ?=

.PHONY: install train dry-run baselines compare test test-slow test-all bench lint format clean

$(BIN)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -r requirements.txt
	touch $@

install: $(BIN)/.installed

train: install  ## collect data, train VAE, MDN-RNN, controller (dream + real) and evaluate, default preset
	$(BIN)/python train_world_model.py --reference $(ARGS)

dry-run: install  ## the whole pipeline at tiny sizes (about a minute)
	$(BIN)/python train_world_model.py --dry-run --no-wandb $(ARGS)

baselines: install  ## DDQN, PPO and discrete SAC on the shared frame budget (baselines.frame_budget), into the same run dir
	$(BIN)/python train_baselines.py $(ARGS)

compare: install  ## every trained agent + random + always-FIRE on the same seeded games -> comparison_results/
	$(BIN)/python compare_baselines.py $(ARGS)

test: install  ## the default test suite: everything but the tests marked slow (about 5-6 minutes on 2 cores)
	$(BIN)/python -m pytest -q --durations=10

test-slow: install  ## only the tests marked slow: real SIGKILLs, whole pipelines in fresh processes, wandb runs
	$(BIN)/python -m pytest -q -m slow --durations=10

test-all: install  ## every test (what CI runs, as make test then make test-slow)
	$(BIN)/python -m pytest -q -m "" --durations=10

bench: install  ## speed figures of every hot loop
	$(BIN)/python bench.py $(ARGS)

lint: install  ## ruff's checks (the code is formatted by hand, not by ruff format)
	$(BIN)/ruff check .

format: install
	$(BIN)/ruff check --fix .

clean:
	rm -rf runs .pytest_cache
