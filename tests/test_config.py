from __future__ import annotations

import json

import pytest

import config
from config import Config, ConfigError, config_from_dict, make_config
from utils.cli import field_docs, parse


def test_presets_and_paper_sizes():
    paper = make_config("paper")
    assert paper.data.num_rollouts == 10_000
    assert paper.vae.latent_dim == 32
    assert paper.mdn_rnn.hidden_size == 256 and paper.mdn_rnn.num_mixtures == 5
    assert paper.controller.population_size == 64 and paper.controller.dream_rollouts == 16
    dry = make_config("dry-run")
    assert dry.vae.latent_dim < paper.vae.latent_dim and dry.data.num_rollouts < make_config("default").data.num_rollouts
    with pytest.raises(ConfigError, match="unknown preset"):
        make_config("huge")


def test_every_field_has_a_docstring():
    import dataclasses

    sections = [f.type for f in dataclasses.fields(Config) if str(f.type).endswith("Config")]
    assert {"BaselinesConfig", "DDQNConfig", "PPOConfig", "SACConfig"} <= set(sections)
    for cls in [*(getattr(config, name) for name in sections), Config]:
        docs = field_docs(cls)
        for f in dataclasses.fields(cls):
            if f.type not in sections:
                assert docs.get(f.name), f"{cls.__name__}.{f.name} has no docstring"


def test_cli_overrides_every_kind_of_field():
    cfg, _ = parse(["--preset", "dry-run", "--vae.latent-dim", "16", "--mdn_rnn.hidden_size", "48",
                    "--controller.temperature", "0.9", "--logging.progress", "false", "--restart",
                    "--env-id", "ALE/Breakout-v5", "--seed", "3"])
    assert cfg.preset == "dry-run" and cfg.vae.latent_dim == 16 and cfg.mdn_rnn.hidden_size == 48
    assert cfg.controller.temperature == 0.9 and cfg.logging.progress is False and cfg.restart is True
    assert cfg.env.env_id == "ALE/Breakout-v5" and cfg.seed == 3
    assert "Breakout-v5__dry-run__seed3" in str(cfg.run_path)


VAE_EPOCHS = {"--num-epochs": ("vae.num_epochs", "epochs")}


def test_legacy_flags():
    cfg, _ = parse(["--dry-run", "--num-epochs", "3", "--dream-epochs", "5", "--real-epochs", "2",
                    "--num-episodes", "7", "--record-video", "--wandb-project", "p"], shorthands=VAE_EPOCHS)
    assert cfg.preset == "dry-run" and cfg.vae.num_epochs == 3
    assert cfg.controller.dream_epochs == 5 and cfg.controller.real_epochs == 2
    assert cfg.eval.num_episodes == 7 and cfg.eval.record_video and cfg.logging.wandb and cfg.logging.wandb_project == "p"
    cfg, _ = parse(["--num-epochs", "9", "--wandb-project", "p", "--no-wandb"],
                   shorthands={"--num-epochs": ("mdn_rnn.num_epochs", "epochs")})
    assert cfg.mdn_rnn.num_epochs == 9 and cfg.vae.num_epochs == make_config("default").vae.num_epochs
    assert cfg.logging.wandb is False


@pytest.mark.parametrize("argv, message", [
    (["--vae.num-epochs", "0"], "vae.num_epochs must be > 0"),
    (["--controller.population-size", "-4"], "population_size must be > 0"),
    (["--num-episodes", "0"], "eval.num_episodes must be > 0"),
    (["--vae.latent-dim", "abc"], "invalid int value"),
    (["--env-id", "CartPole-v1"], "must be an ALE id"),
    (["--preset", "nope"], "invalid choice"),
    (["--no-such-flag"], "unrecognized arguments"),
    (["--controller.real-refine", "1"], "real_refine must be in [0, 1)"),
    (["--controller.real-refine", "0.2", "--controller.real-frames", "0"], "needs --controller.real_frames > 0"),
    (["--controller.real-refine-sigma", "0"], "real_refine_sigma must be > 0"),
    (["--controller.real-refine-search", "best"], "real_refine_search must be cma or elite"),
])
def test_nonsense_flags_exit_2_with_one_line(argv, message, capsys):
    with pytest.raises(SystemExit) as e:
        parse(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_config_json_round_trip():
    cfg = make_config("paper", **{"vae.latent_dim": 8})
    back = config_from_dict(json.loads(json.dumps(cfg.to_dict())))
    assert back == cfg
    with pytest.raises(ConfigError):
        config_from_dict({**cfg.to_dict(), "bogus": 1})
