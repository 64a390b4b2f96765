"""Double DQN (van Hasselt et al., 2016) on stable-baselines3's DQN.

The only change from DQN is the TD target: the online network picks the next action, the target
network scores it, ``y = r + gamma (1 - done) Q_target(s', argmax_a Q_online(s', a))``, which removes
DQN's max-operator overestimation. :class:`DoubleDQN` overrides ``train`` for that and nothing else;
the replay buffer is the uint8 :class:`~baselines.buffer.FrameStackReplayBuffer` (each frame stored once).

    python -m baselines.ddqn --mode train --frame-budget 400000   # then scores the best checkpoint
    python -m baselines.ddqn --mode eval --eval-episodes 30
"""

from __future__ import annotations

import os
import sys

if __name__ == "__main__":  # `python baselines/ddqn.py` as well as `python -m baselines.ddqn`
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import utils.omp  # noqa: F401  (before torch)

import numpy as np
import torch as th
import torch.nn.functional as F
from stable_baselines3 import DQN
from stable_baselines3.common.vec_env import VecEnv

from baselines.buffer import FrameStackReplayBuffer
from baselines.cli import algo_main
from config import Config


def double_q_target(q_online_next: th.Tensor, q_target_next: th.Tensor, rewards: th.Tensor, dones: th.Tensor,
                    discounts: th.Tensor | float) -> th.Tensor:
    """:param q_online_next, q_target_next: (B, A) Q-values of s' from the online / target nets.
    :param rewards, dones: (B, 1).  :return: (B, 1) Double-DQN TD targets."""
    next_actions = q_online_next.argmax(dim=1, keepdim=True)
    next_q = th.gather(q_target_next, dim=1, index=next_actions)
    return rewards + (1 - dones) * discounts * next_q


class DoubleDQN(DQN):
    """:class:`stable_baselines3.DQN` with the Double-DQN target (all arguments as DQN)."""

    def train(self, gradient_steps: int, batch_size: int = 100) -> None:
        self.policy.set_training_mode(True)
        self._update_learning_rate(self.policy.optimizer)
        losses = []
        for _ in range(gradient_steps):
            data = self.replay_buffer.sample(batch_size, env=self._vec_normalize_env)  # type: ignore[union-attr]
            discounts = data.discounts if data.discounts is not None else self.gamma
            with th.no_grad():
                target = double_q_target(self.q_net(data.next_observations), self.q_net_target(data.next_observations),
                                         data.rewards, data.dones, discounts)
            current = th.gather(self.q_net(data.observations), dim=1, index=data.actions.long())
            loss = F.smooth_l1_loss(current, target)  # Huber loss, as DQN
            losses.append(loss.item())
            self.policy.optimizer.zero_grad()
            loss.backward()
            th.nn.utils.clip_grad_norm_(self.policy.parameters(), self.max_grad_norm)
            self.policy.optimizer.step()
        self._n_updates += gradient_steps
        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        self.logger.record("train/loss", np.mean(losses))


MODEL_CLASS = DoubleDQN


def make_model(cfg: Config, env: VecEnv, device: th.device) -> DoubleDQN:
    """rl-baselines3-zoo's Atari DQN settings (learning_starts scaled to the budget, see config.py),
    with the compact uint8 replay buffer."""
    c = cfg.ddqn
    return DoubleDQN(
        "CnnPolicy", env, learning_rate=c.learning_rate, buffer_size=c.buffer_size, learning_starts=c.learning_starts,
        batch_size=c.batch_size, gamma=c.gamma, train_freq=c.train_freq, gradient_steps=1,
        target_update_interval=c.target_update_interval, exploration_fraction=c.exploration_fraction,
        exploration_final_eps=c.exploration_final_eps, replay_buffer_class=FrameStackReplayBuffer,
        optimize_memory_usage=False, seed=cfg.seed, device=device, verbose=0,
    )


if __name__ == "__main__":
    sys.exit(algo_main("ddqn", __doc__.splitlines()[0]))
