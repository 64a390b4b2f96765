"""Discrete-action SAC (Christodoulou, 2019) on stable-baselines3's off-policy machinery.

With a discrete action set the policy gives every action's probability, so the expectations SAC
estimates by sampling are computed exactly:

- critic target  ``y = r + gamma (1 - d) sum_a' pi(a'|s') [min_i Q'_i(s', a') - alpha log pi(a'|s')]``
- critic loss    ``MSE(Q_1(s, a), y) + MSE(Q_2(s, a), y)`` (twin soft-Q networks)
- actor loss     ``sum_a pi(a|s) [alpha log pi(a|s) - min_i Q_i(s, a)]``
- temperature    ``-log_alpha * sum_a pi(a|s) [log pi(a|s) + H_target]``, ``H_target = scale * log |A|``

Each network has its own Nature-CNN encoder (as CleanRL's ``sac_atari.py``); targets are hard
copies every ``target_update_interval`` steps. :class:`DiscreteSAC` is an SB3 ``OffPolicyAlgorithm``,
so collection, replay (the uint8 :class:`~baselines.buffer.FrameStackReplayBuffer`), callbacks and
save/load are SB3's; only the policy and ``train`` are ours. A continuous game (CarRacing-v3) gets SB3's own
SAC with its CNN policy on the same replay buffer.

    python -m baselines.sac --mode train --frame-budget 400000   # then scores the best checkpoint
    python -m baselines.sac --mode eval --eval-episodes 30
"""

from __future__ import annotations

import os
import sys

if __name__ == "__main__":  # `python baselines/sac.py` as well as `python -m baselines.sac`
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import utils.omp  # noqa: F401  (before torch)

import copy
from typing import Any

import numpy as np
import torch as th
import torch.nn.functional as F
from gymnasium import spaces
from stable_baselines3 import SAC
from stable_baselines3.common.off_policy_algorithm import OffPolicyAlgorithm
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.torch_layers import NatureCNN
from stable_baselines3.common.type_aliases import Schedule
from stable_baselines3.common.utils import polyak_update
from stable_baselines3.common.vec_env import VecEnv
from torch import nn

from baselines.buffer import FrameStackReplayBuffer
from baselines.cli import algo_main
from config import Config

# --------------------------------------------------------------------------- losses (pure functions, tested)


def soft_target(next_probs: th.Tensor, next_log_probs: th.Tensor, q1_next: th.Tensor, q2_next: th.Tensor,
                rewards: th.Tensor, dones: th.Tensor, gamma: float, alpha: th.Tensor | float) -> th.Tensor:
    """(B, A) policy and target-critic outputs at s', (B, 1) rewards/dones -> (B, 1) soft TD targets."""
    v_next = (next_probs * (th.min(q1_next, q2_next) - alpha * next_log_probs)).sum(dim=1, keepdim=True)
    return rewards + (1.0 - dones) * gamma * v_next


def critic_loss(q1: th.Tensor, q2: th.Tensor, actions: th.Tensor, target: th.Tensor) -> th.Tensor:
    """(B, A) Q-values, (B, 1) taken actions and targets -> summed MSE of both critics."""
    a = actions.long()
    return F.mse_loss(q1.gather(1, a), target) + F.mse_loss(q2.gather(1, a), target)


def actor_loss(probs: th.Tensor, log_probs: th.Tensor, q1: th.Tensor, q2: th.Tensor, alpha: th.Tensor | float) -> th.Tensor:
    """Exact expectation over actions of ``alpha log pi - min Q`` (critics detached by the caller)."""
    return (probs * (alpha * log_probs - th.min(q1, q2))).sum(dim=1).mean()


def alpha_loss(log_alpha: th.Tensor, probs: th.Tensor, log_probs: th.Tensor, target_entropy: float) -> th.Tensor:
    """Temperature loss: raises alpha while the policy's entropy is below ``target_entropy``."""
    return -(log_alpha * (probs * (log_probs + target_entropy)).sum(dim=1).detach()).mean()


# --------------------------------------------------------------------------- policy


class DiscreteSACPolicy(BasePolicy):
    """Actor and twin critics, each a Nature CNN with a linear head over the actions, plus target critics."""

    def __init__(self, observation_space: spaces.Box, action_space: spaces.Discrete, lr_schedule: Schedule,
                 features_dim: int = 512, optimizer_class: type[th.optim.Optimizer] = th.optim.Adam,
                 optimizer_kwargs: dict[str, Any] | None = None, normalize_images: bool = True, use_sde: bool = False):
        assert not use_sde, "state-dependent exploration is for continuous actions"
        optimizer_kwargs = {"eps": 1e-4} if optimizer_kwargs is None else optimizer_kwargs  # CleanRL's Adam eps
        super().__init__(observation_space, action_space, optimizer_class=optimizer_class,
                         optimizer_kwargs=optimizer_kwargs, normalize_images=normalize_images)
        self.features_dim = features_dim
        n = int(action_space.n)

        def net() -> nn.Sequential:
            return nn.Sequential(NatureCNN(observation_space, features_dim), nn.Linear(features_dim, n))

        self.actor, self.q1, self.q2 = net(), net(), net()
        self.q1_target, self.q2_target = copy.deepcopy(self.q1), copy.deepcopy(self.q2)
        for p in [*self.q1_target.parameters(), *self.q2_target.parameters()]:
            p.requires_grad_(False)
        self.q1_target.train(False)
        self.q2_target.train(False)
        self.actor_optimizer = optimizer_class(self.actor.parameters(), lr=lr_schedule(1), **optimizer_kwargs)
        self.critic_optimizer = optimizer_class([*self.q1.parameters(), *self.q2.parameters()], lr=lr_schedule(1),
                                                **optimizer_kwargs)

    def _prep(self, obs: th.Tensor) -> th.Tensor:
        return obs.float() / 255.0 if self.normalize_images else obs.float()

    def action_dist(self, obs: th.Tensor) -> tuple[th.Tensor, th.Tensor]:
        """(probs, log_probs), both (B, A)."""
        logits = self.actor(self._prep(obs))
        log_probs = F.log_softmax(logits, dim=1)
        return log_probs.exp(), log_probs

    def q_values(self, obs: th.Tensor, target: bool = False) -> tuple[th.Tensor, th.Tensor]:
        x = self._prep(obs)
        if target:
            return self.q1_target(x), self.q2_target(x)
        return self.q1(x), self.q2(x)

    def forward(self, obs: th.Tensor, deterministic: bool = False) -> th.Tensor:
        return self._predict(obs, deterministic)

    def _predict(self, observation: th.Tensor, deterministic: bool = False) -> th.Tensor:
        logits = self.actor(self._prep(observation))
        if deterministic:
            return logits.argmax(dim=1)
        return th.distributions.Categorical(logits=logits).sample()

    def set_training_mode(self, mode: bool) -> None:
        self.actor.train(mode)
        self.q1.train(mode)
        self.q2.train(mode)
        self.training = mode

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data = super()._get_constructor_parameters()
        data.update(features_dim=self.features_dim, optimizer_class=self.optimizer_class,
                    optimizer_kwargs=self.optimizer_kwargs)
        return data


# --------------------------------------------------------------------------- algorithm


class DiscreteSAC(OffPolicyAlgorithm):
    """Soft actor-critic for discrete actions; arguments as SB3's SAC, plus ``target_entropy_scale``."""

    policy_aliases = {"CnnPolicy": DiscreteSACPolicy}  # noqa: RUF012
    policy: DiscreteSACPolicy

    def __init__(self, policy: str | type[DiscreteSACPolicy], env: VecEnv | str, learning_rate: float | Schedule = 3e-4,
                 buffer_size: int = 100_000, learning_starts: int = 20_000, batch_size: int = 64, tau: float = 1.0,
                 gamma: float = 0.99, train_freq: int = 4, gradient_steps: int = 1, target_update_interval: int = 8_000,
                 target_entropy_scale: float = 0.89, replay_buffer_class: type | None = FrameStackReplayBuffer,
                 replay_buffer_kwargs: dict[str, Any] | None = None, policy_kwargs: dict[str, Any] | None = None,
                 seed: int | None = None, device: th.device | str = "auto", verbose: int = 0, _init_setup_model: bool = True):
        super().__init__(policy, env, learning_rate, buffer_size, learning_starts, batch_size, tau, gamma, train_freq,
                         gradient_steps, replay_buffer_class=replay_buffer_class, replay_buffer_kwargs=replay_buffer_kwargs,
                         policy_kwargs=policy_kwargs, verbose=verbose, device=device, seed=seed,
                         supported_action_spaces=(spaces.Discrete,), support_multi_env=True)
        self.target_update_interval = target_update_interval
        self.target_entropy_scale = target_entropy_scale
        if _init_setup_model:
            self._setup_model()

    def _setup_model(self) -> None:
        super()._setup_model()
        n = int(self.action_space.n)  # type: ignore[attr-defined]
        self.target_entropy = float(self.target_entropy_scale * np.log(n))
        self.log_alpha = th.zeros(1, device=self.device, requires_grad=True)
        self.alpha_optimizer = th.optim.Adam([self.log_alpha], lr=self.lr_schedule(1), eps=1e-4)
        self._n_calls = 0

    def _on_step(self) -> None:
        self._n_calls += 1
        if self._n_calls % max(self.target_update_interval // self.n_envs, 1) == 0:
            polyak_update(self.policy.q1.parameters(), self.policy.q1_target.parameters(), self.tau)
            polyak_update(self.policy.q2.parameters(), self.policy.q2_target.parameters(), self.tau)

    def losses(self, obs: th.Tensor, actions: th.Tensor, next_obs: th.Tensor, rewards: th.Tensor, dones: th.Tensor
               ) -> dict[str, th.Tensor]:
        """The three losses on one batch (used by ``train`` and by the tests)."""
        alpha = self.log_alpha.exp().detach()
        with th.no_grad():
            next_probs, next_log_probs = self.policy.action_dist(next_obs)
            q1_next, q2_next = self.policy.q_values(next_obs, target=True)
            target = soft_target(next_probs, next_log_probs, q1_next, q2_next, rewards, dones, self.gamma, alpha)
        q1, q2 = self.policy.q_values(obs)
        probs, log_probs = self.policy.action_dist(obs)
        return {
            "critic": critic_loss(q1, q2, actions, target),
            "actor": actor_loss(probs, log_probs, q1.detach(), q2.detach(), alpha),
            "alpha": alpha_loss(self.log_alpha, probs, log_probs, self.target_entropy),
            "entropy": -(probs * log_probs).sum(dim=1).mean().detach(),
        }

    def train(self, gradient_steps: int, batch_size: int = 64) -> None:
        self.policy.set_training_mode(True)
        self._update_learning_rate([self.policy.actor_optimizer, self.policy.critic_optimizer, self.alpha_optimizer])
        logs: dict[str, list[float]] = {}
        for _ in range(gradient_steps):
            data = self.replay_buffer.sample(batch_size, env=self._vec_normalize_env)  # type: ignore[union-attr]
            out = self.losses(data.observations, data.actions, data.next_observations, data.rewards, data.dones)
            for opt, key in ((self.policy.critic_optimizer, "critic"), (self.policy.actor_optimizer, "actor"),
                             (self.alpha_optimizer, "alpha")):
                opt.zero_grad()
                out[key].backward()
                opt.step()
            for k, v in out.items():
                logs.setdefault(k, []).append(v.item())
        self._n_updates += gradient_steps
        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        self.logger.record("train/alpha", self.log_alpha.exp().item())
        for k, v in logs.items():
            self.logger.record(f"train/{k}_loss" if k != "entropy" else "train/entropy", float(np.mean(v)))

    def _get_torch_save_params(self) -> tuple[list[str], list[str]]:
        return ["policy", "policy.actor_optimizer", "policy.critic_optimizer", "alpha_optimizer"], ["log_alpha"]


MODEL_CLASS = DiscreteSAC
CONTINUOUS_MODEL_CLASS = SAC  # SB3's own SAC (Haarnoja et al., 2018) for continuous actions (CarRacing)
CONTINUOUS_POLICY_KWARGS: dict = {}


def make_model(cfg: Config, env: VecEnv, device: th.device) -> OffPolicyAlgorithm:
    c = cfg.sac
    common = dict(learning_rate=c.learning_rate, buffer_size=c.buffer_size, learning_starts=c.learning_starts,
                  batch_size=c.batch_size, tau=c.tau, gamma=c.gamma, train_freq=c.train_freq,
                  target_update_interval=c.target_update_interval, seed=cfg.seed, device=device)
    if isinstance(env.action_space, spaces.Box):  # SB3's SAC on the same uint8 frame-stack replay buffer
        return SAC("CnnPolicy", env, replay_buffer_class=FrameStackReplayBuffer, **common)
    return DiscreteSAC("CnnPolicy", env, target_entropy_scale=c.target_entropy_scale, **common)


if __name__ == "__main__":
    sys.exit(algo_main("sac", __doc__.splitlines()[0]))
