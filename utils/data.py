"""Rollout collection, compressed uint8 shards with a manifest, and datasets that read them.

On disk (``<data_dir>/``)::

    manifest.json          the config that made the data, and one entry per finished shard
    shard_00000.npz        compressed: obs (F, 64, 64, 3) uint8, actions (S,) uint8, rewards (S,) f32,
                           dones (S,) bool, lives (F,) uint8 (the game's life counter at each frame),
                           lengths (E,) int64, episode_ids (E,), seeds (E,)

An episode of ``T`` steps stores ``T + 1`` frames (the frame after its last action included), so
``F = S + E``. Each episode has its own env seed and action RNG, so the data does not depend on how
many emulators ran in parallel, and collection resumes shard by shard.
"""

from __future__ import annotations

import io
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from config import Config
from utils.io import UserError, atomic_path, atomic_write_json, read_json
from utils.wrappers import action_space, num_actions

MANIFEST = "manifest.json"
DATA_FORMAT_VERSION = 2  # 2: lives per frame
# What to do about lost or damaged data: collection is deterministic, so collecting again gives the same episodes.
COLLECT_AGAIN = "rerun train_vae.py (with --restart if the VAE is already trained) to collect it again"


# --------------------------------------------------------------------------- manifest


def data_signature(cfg: Config) -> dict[str, Any]:
    """Every setting that changes the collected data (and nothing that does not, e.g. num_envs)."""
    env = asdict(cfg.env)
    env.pop("num_threads")
    if not env["dilate"]:  # off: the frames of data collected before the setting existed
        env.pop("dilate")
    d = asdict(cfg.data)
    for k in ("num_envs", "max_in_memory_frames", "dir"):
        d.pop(k)
    for k in ("action_alpha", "habit_steps"):
        if not d[k]:  # off: the policy of data collected before the setting existed
            d.pop(k)
    return {"format": DATA_FORMAT_VERSION, "seed": cfg.seed, "env": env, "data": d}


def read_manifest(data_dir: Path) -> dict[str, Any] | None:
    path = data_dir / MANIFEST
    if not path.exists():
        return None
    m = read_json(path, "data manifest", fix=f"delete it and {COLLECT_AGAIN}")
    if not isinstance(m, dict) or "signature" not in m or "shards" not in m:
        raise UserError(f"data manifest {path} is not a manifest of this project; delete {data_dir} or use another --data.dir")
    return m


def check_manifest(m: dict[str, Any], cfg: Config, data_dir: Path) -> None:
    from utils.resume import diff

    diffs = diff(m["signature"], data_signature(cfg), "on disk", "asked")
    if diffs:
        raise UserError(
            f"data in {data_dir} was collected with a different config ({'; '.join(diffs[:3])}); "
            "use another --data.dir, or --restart to collect it again"
        )


# --------------------------------------------------------------------------- collection


def episode_seed(seed: int, episode: int) -> int:
    return int(np.random.SeedSequence([seed, episode]).generate_state(1)[0] % (2**31 - 1))


class HeldRandomPolicy:
    """Random actions, each held for a random number of steps in [hold_min, hold_max]: uniform, or with
    ``alpha`` > 0 from this episode's own preferences p ~ Dirichlet(alpha) (drawn first from ``rng``), drawn
    again every ``habit_steps`` steps when that is > 0."""

    def __init__(self, n_actions: int, hold_min: int, hold_max: int, rng: np.random.Generator, alpha: float = 0.0,
                 habit_steps: int = 0):
        self.n, self.lo, self.hi, self.rng, self.alpha, self.habit_steps = n_actions, hold_min, hold_max, rng, alpha, habit_steps
        self.prefs = rng.dirichlet(np.full(n_actions, alpha)) if alpha > 0 else None
        self.action, self.left, self.steps = 0, 0, 0

    def __call__(self) -> int:
        if self.prefs is not None and self.habit_steps and self.steps and self.steps % self.habit_steps == 0:
            self.prefs = self.rng.dirichlet(np.full(self.n, self.alpha))
        self.steps += 1
        if self.left == 0:
            self.action = int(self.rng.integers(self.n)) if self.prefs is None else int(self.rng.choice(self.n, p=self.prefs))
            self.left = int(self.rng.integers(self.lo, self.hi + 1))
        self.left -= 1
        return self.action


def action_values(actions: np.ndarray) -> np.ndarray:
    """Stored actions as the models read them: int64 indices, or float32 vectors (continuous games)."""
    return actions.astype(np.float32) if actions.dtype.kind == "f" else actions.astype(np.int64)


def _actions_array(actions: np.ndarray) -> np.ndarray:
    """Stored actions: uint8 indices (discrete games) or float32 (S, A) vectors (CarRacing)."""
    return actions.astype(np.float32) if actions.ndim > 1 else actions.astype(np.uint8)


class BrownianPolicy:
    """Random continuous actions as World Models' CarRacing data: the first action uniform in the box, then a
    Brownian walk a_{t+1} = clip(a_t + sqrt(dt) * N(0, I), low, high) (ctallec/world-models'
    ``sample_continuous_policy``, dt = 1/50), so the car drives, brakes and turns in smooth stretches."""

    def __init__(self, low: list[float], high: list[float], rng: np.random.Generator, dt: float = 1 / 50):
        self.low, self.high, self.rng, self.dt = np.asarray(low), np.asarray(high), rng, dt
        self.action: np.ndarray | None = None

    def __call__(self) -> np.ndarray:
        if self.action is None:
            self.action = self.rng.uniform(self.low, self.high)
        else:
            self.action = np.clip(self.action + np.sqrt(self.dt) * self.rng.standard_normal(len(self.low)), self.low, self.high)
        return self.action.astype(np.float32)


def _write_shard(path: Path, episodes: list[dict[str, Any]]) -> dict[str, Any]:
    arrays = {
        "obs": np.concatenate([e["obs"] for e in episodes]),
        "actions": _actions_array(np.concatenate([e["actions"] for e in episodes])),
        "rewards": np.concatenate([e["rewards"] for e in episodes]).astype(np.float32),
        "dones": np.concatenate([e["dones"] for e in episodes]).astype(bool),
        "lives": np.concatenate([e["lives"] for e in episodes]).astype(np.uint8),
        "lengths": np.array([len(e["actions"]) for e in episodes], dtype=np.int64),
        "episode_ids": np.array([e["id"] for e in episodes], dtype=np.int64),
        "seeds": np.array([e["seed"] for e in episodes], dtype=np.int64),
    }
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez_compressed(f, **arrays)
    return {
        "file": path.name,
        "episodes": len(episodes),
        "steps": int(arrays["lengths"].sum()),
        "frames": int(len(arrays["obs"])),
        "return_sum": float(arrays["rewards"].sum()),
        "dones": int(arrays["dones"].sum()),
    }


def collect_rollouts(cfg: Config, progress: bool = True) -> dict[str, Any]:
    """Collect ``data.num_rollouts`` episodes (resuming finished shards) and return the manifest."""
    from utils.resume import remove_stale_temps

    data_dir = cfg.data_path
    data_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(data_dir)  # what a killed run was writing (train_vae.py collects under its phase lock)
    manifest = None if cfg.restart else read_manifest(data_dir)  # --restart collects again, even over a corrupt manifest
    if manifest is not None:
        check_manifest(manifest, cfg, data_dir)
        lost = [i for i, s in enumerate(manifest["shards"]) if not (data_dir / s["file"]).is_file()]
        if lost:  # a deleted (e.g. corrupt) shard: collect again from it
            print(f"[data] {data_dir / manifest['shards'][lost[0]]['file']} is missing: collecting it again")
            manifest["shards"], manifest["complete"] = manifest["shards"][:lost[0]], False
        elif manifest.get("complete"):
            return manifest
    else:
        manifest = {"signature": data_signature(cfg), "shards": [], "complete": False}
        atomic_write_json(data_dir / MANIFEST, manifest)

    dc = cfg.data
    per_shard = dc.episodes_per_shard
    n_shards = -(-dc.num_rollouts // per_shard)
    todo = np.arange(len(manifest["shards"]) * per_shard, dc.num_rollouts)  # episode ids still to play
    if len(todo):
        if manifest["shards"]:
            print(f"[data] resuming collection in {data_dir}: {len(manifest['shards'])}/{n_shards} shards already on disk "
                  "(--restart collects again)")
        t0 = time.time()
        recorder = _ShardWriter(data_dir, manifest, todo, per_shard, n_shards, dc.num_rollouts, cfg.seed, progress)
        box = action_space(cfg.env)
        spec = (HeldRandomJobs(num_actions(cfg.env), dc.action_hold_min, dc.action_hold_max, cfg.seed, todo,
                               dc.action_alpha, dc.habit_steps)
                if box is None else BrownianJobs(box[0], box[1], cfg.seed, todo))
        from utils.rollout import make_engine

        try:
            with make_engine(cfg, dc.num_envs) as engine:
                stats = engine.play(spec, [episode_seed(cfg.seed, int(e)) for e in todo], max_steps=dc.max_steps_per_rollout,
                                    recorder=recorder)
        finally:
            recorder.bar.close()
        manifest["collect_seconds"] = round(time.time() - t0, 2)
        manifest.update(stats.log_fields())
        print(f"[data] {len(todo)} games in {manifest['collect_seconds']:.0f}s: {stats.steps_per_second:.0f} agent steps/s, "
              f"emulators busy {stats.utilization:.0%} of their steps")
    manifest["complete"] = True
    atomic_write_json(data_dir / MANIFEST, manifest)
    return manifest


def collect_with_policy(cfg: Config, data_dir: Path, make_spec: Callable[[np.ndarray], Any], seed: int,
                        signature: dict[str, Any], min_frames: int, progress: bool = True, models: Any = None) -> dict[str, Any]:
    """Play games with the policy ``make_spec(episode_ids)`` builds (a :class:`utils.rollout.PolicySpec`; world-model
    policies play ``models``) into shards in ``data_dir`` until they hold at least ``min_frames`` emulator
    frames, and return the manifest (same shard format as :func:`collect_rollouts`).

    Games go in chunks of whole shards (``data.num_envs`` games, rounded up to ``episodes_per_shard``);
    after each chunk the frame count is checked, so where it stops depends on the games alone, not on
    timing. Episode e is reset with ``episode_seed(seed, e)``; a killed collection resumes per shard, and
    data on disk made under another ``signature`` is refused.
    """
    from utils.resume import diff, remove_stale_temps

    data_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(data_dir)
    manifest = read_manifest(data_dir)
    if manifest is not None:
        diffs = diff(manifest["signature"], signature, "on disk", "asked")
        if diffs:
            raise UserError(f"data in {data_dir} was collected under other settings ({'; '.join(diffs[:3])}); "
                            "delete it or pass --restart")
        if manifest.get("complete"):
            return manifest
    else:
        manifest = {"signature": signature, "shards": [], "complete": False}
        atomic_write_json(data_dir / MANIFEST, manifest)
    dc = cfg.data
    per_shard = dc.episodes_per_shard
    chunk = per_shard * -(-dc.num_envs // per_shard)
    t0 = time.time()
    from utils.rollout import make_engine

    with make_engine(cfg, dc.num_envs, models) as engine:
        while sum(sh["steps"] for sh in manifest["shards"]) * cfg.env.frameskip < min_frames:
            first = len(manifest["shards"]) * per_shard
            end = (first // chunk + 1) * chunk
            todo = np.arange(first, end)
            recorder = _ShardWriter(data_dir, manifest, todo, per_shard, end // per_shard, end, seed, progress)
            try:
                stats = engine.play(make_spec(todo), [episode_seed(seed, int(e)) for e in todo], max_steps=dc.max_steps_per_rollout,
                                    recorder=recorder)
            finally:
                recorder.bar.close()
            manifest.update(stats.log_fields())  # the last chunk's
            atomic_write_json(data_dir / MANIFEST, manifest)
    manifest["collect_seconds"] = round(manifest.get("collect_seconds", 0.0) + time.time() - t0, 2)
    manifest["complete"] = True
    atomic_write_json(data_dir / MANIFEST, manifest)
    return manifest


@dataclass
class HeldRandomJobs:
    """The rollout engine's spec of held random actions (:class:`HeldRandomPolicy`): job k plays episode
    ``episode_ids[k]`` from that episode's own RNG."""

    n_actions: int
    hold_min: int
    hold_max: int
    seed: int
    episode_ids: np.ndarray
    alpha: float = 0.0
    habit_steps: int = 0

    def build(self, models: Any, jobs: np.ndarray) -> _EpisodeJobs:
        return _EpisodeJobs(lambda rng: HeldRandomPolicy(self.n_actions, self.hold_min, self.hold_max, rng, self.alpha,
                                                         self.habit_steps),
                            self.seed, self.episode_ids[jobs], np.int64, ())


@dataclass
class BrownianJobs:
    """The rollout engine's spec of Brownian random actions (:class:`BrownianPolicy`, continuous games); job k
    plays episode ``episode_ids[k]`` from that episode's own RNG."""

    low: list[float]
    high: list[float]
    seed: int
    episode_ids: np.ndarray

    def build(self, models: Any, jobs: np.ndarray) -> _EpisodeJobs:
        return _EpisodeJobs(lambda rng: BrownianPolicy(self.low, self.high, rng), self.seed, self.episode_ids[jobs],
                            np.float32, (len(self.low),))


class _EpisodeJobs:
    """One random policy per game, ``make(rng)`` with episode e's own RNG ``default_rng([seed, e, 1])``, so the
    data is independent of scheduling."""

    active_only = True

    def __init__(self, make: Callable[[np.random.Generator], Callable[[], Any]], seed: int, episode_ids: np.ndarray,
                 dtype: Any, action_shape: tuple[int, ...]):
        self.make, self.seed, self.ids, self.dtype, self.shape = make, seed, episode_ids, dtype, action_shape

    def reset(self, num_envs: int) -> None:
        self.policies: list[Callable[[], Any] | None] = [None] * num_envs

    def start(self, envs: np.ndarray, jobs: np.ndarray) -> None:
        for e, j in zip(envs, jobs):
            self.policies[e] = self.make(np.random.default_rng([self.seed, int(self.ids[j]), 1]))

    def act(self, frames: np.ndarray, envs: np.ndarray) -> np.ndarray:
        if not len(envs):
            return np.zeros((0, *self.shape), self.dtype)
        return np.asarray([self.policies[e]() for e in envs], dtype=self.dtype)  # type: ignore[misc]


class _ShardWriter:
    """Recorder: buffers each episode, writes every shard (in order) once all its episodes are done."""

    def __init__(self, data_dir: Path, manifest: dict, episode_ids: np.ndarray, per_shard: int, n_shards: int,
                 num_rollouts: int, seed: int, progress: bool):
        from tqdm import tqdm

        self.data_dir, self.manifest, self.ids = data_dir, manifest, episode_ids
        self.per_shard, self.n_shards, self.num_rollouts, self.seed = per_shard, n_shards, num_rollouts, seed
        self.buffers: dict[int, dict[str, list]] = {}
        self.finished: dict[int, dict[str, Any]] = {}
        self.next_shard = len(manifest["shards"])
        self.bar = tqdm(total=len(episode_ids), desc="collect", unit="ep", disable=not progress)

    def begin(self, job: int, frame: np.ndarray, lives: int) -> None:
        self.buffers[job] = {"obs": [frame.copy()], "actions": [], "rewards": [], "dones": [], "lives": [lives]}

    def step(self, job: int, action: int, reward: float, terminated: bool, frame: np.ndarray, lives: int) -> None:
        b = self.buffers[job]
        b["obs"].append(frame.copy())
        b["lives"].append(lives)
        b["actions"].append(action)
        b["rewards"].append(reward)
        b["dones"].append(terminated)

    def end(self, job: int) -> None:
        b = self.buffers.pop(job)
        ep = int(self.ids[job])
        self.finished[ep] = {"id": ep, "seed": episode_seed(self.seed, ep), "obs": np.stack(b["obs"]),
                             **{k: np.array(b[k]) for k in ("actions", "rewards", "dones", "lives")}}
        self.bar.update(1)
        while self.next_shard < self.n_shards:  # flush every complete shard, in order
            ids = range(self.next_shard * self.per_shard, min((self.next_shard + 1) * self.per_shard, self.num_rollouts))
            if not all(j in self.finished for j in ids):
                break
            path = self.data_dir / f"shard_{self.next_shard:05d}.npz"
            self.manifest["shards"].append(_write_shard(path, [self.finished.pop(j) for j in ids]))
            atomic_write_json(self.data_dir / MANIFEST, self.manifest)
            self.next_shard += 1


# --------------------------------------------------------------------------- reading shards


def load_shard(path: Path, keys: tuple[str, ...] = ("obs", "actions", "rewards", "dones", "lives", "lengths")) -> dict[str, np.ndarray]:
    if not path.is_file():
        raise UserError(f"data shard {path} is missing; {COLLECT_AGAIN}")
    try:
        with np.load(path, allow_pickle=False) as z:
            out = {k: z[k] for k in keys}
    except (zipfile.BadZipFile, ValueError, KeyError, OSError, EOFError) as e:
        raise UserError(f"data shard {path} is corrupt or truncated ({type(e).__name__}); delete it and {COLLECT_AGAIN}") from None
    if out.get("lengths") is not None and "obs" in out and len(out["obs"]) != int(out["lengths"].sum() + len(out["lengths"])):
        raise UserError(f"data shard {path} is inconsistent (frames do not match episode lengths); delete it and {COLLECT_AGAIN}")
    return out


def collection_frames(cfg: Config) -> int:
    """Emulator frames played to collect the VAE/MDN-RNN data (agent steps x frameskip)."""
    manifest = read_json(cfg.data_path / MANIFEST, "data manifest")
    return int(sum(s["steps"] for s in manifest["shards"])) * cfg.env.frameskip


def complete_manifest(data_dir: Path) -> dict[str, Any]:
    m = read_manifest(data_dir)
    if m is None:
        raise UserError(f"no collected data in {data_dir}: run train_vae.py (it collects first) or train_world_model.py")
    if not m.get("complete"):
        raise UserError(f"data collection in {data_dir} is unfinished: rerun train_vae.py to resume it")
    if not m["shards"]:
        raise UserError(f"data in {data_dir} has no shards")
    return m


def shard_paths(data_dir: Path, manifest: dict[str, Any]) -> list[Path]:
    return [data_dir / s["file"] for s in manifest["shards"]]


def load_all_frames(data_dir: Path, manifest: dict[str, Any]) -> np.ndarray:
    """Every frame in one preallocated uint8 array (F, H, W, 3): one copy, no per-shard lists kept."""
    total = sum(s["frames"] for s in manifest["shards"])
    first = load_shard(shard_paths(data_dir, manifest)[0], ("obs",))["obs"]
    frames = np.empty((total, *first.shape[1:]), dtype=np.uint8)
    pos = 0
    for path in shard_paths(data_dir, manifest):
        obs = load_shard(path, ("obs", "lengths"))["obs"]
        frames[pos:pos + len(obs)] = obs
        pos += len(obs)
    if pos != total:
        raise UserError(f"data in {data_dir} does not match its manifest ({pos} frames found, {total} listed)")
    return frames


def previous_frame_index(lengths: np.ndarray) -> np.ndarray:
    """(F,) for each frame of episodes stored back to back (``lengths[e] + 1`` frames each), the index of the frame
    before it in its episode; an episode's first frame is its own previous frame."""
    counts = np.asarray(lengths, dtype=np.int64) + 1
    prev = np.arange(int(counts.sum()), dtype=np.int64) - 1
    prev[np.concatenate([[0], np.cumsum(counts)[:-1]])] += 1
    return prev


PAY_FRAMES = (-1, 3)  # frames x_{t-1} .. x_{t+3} count as next to a paying step t (see VAEConfig.hit_weight)


def near_pay_frames(lengths: np.ndarray, rewards: np.ndarray, window: tuple[int, int] = PAY_FRAMES) -> np.ndarray:
    """(F,) bool for episodes stored back to back (``lengths[e]`` steps, ``lengths[e] + 1`` frames each, ``rewards``
    flat per step): frame k of an episode is True when a step t of the same episode with r_t > 0 has
    t + window[0] <= k <= t + window[1]."""
    lengths = np.asarray(lengths, dtype=np.int64)
    out = np.zeros(int((lengths + 1).sum()), dtype=bool)
    f0 = s0 = 0
    for n in lengths:
        for t in np.flatnonzero(np.asarray(rewards[s0:s0 + n]) > 0):
            out[f0 + max(0, t + window[0]):f0 + min(n, t + window[1]) + 1] = True
        f0, s0 = f0 + n + 1, s0 + n
    return out


def pay_labels(lengths: np.ndarray, rewards: np.ndarray) -> np.ndarray:
    """(F, 2) bool for episodes stored as in ``near_pay_frames``: column 0, the step into frame k paid (r_{k-1} > 0;
    the explosion, the score); column 1, the step out of frame k pays (r_k > 0; the shot about to hit)."""
    return np.stack([near_pay_frames(lengths, rewards, (1, 1)), near_pay_frames(lengths, rewards, (0, 0))], 1)


class FrameDataset:
    """Shuffled uint8 frame batches for the VAE.

    Holds all frames in RAM when they number at most ``max_in_memory`` (100k frames = 1.23 GB);
    otherwise streams: shards in a random order, ``shards_in_flight`` at a time, shuffled together.
    """

    def __init__(self, data_dir: Path, max_in_memory: int, shards_in_flight: int = 4):
        self.data_dir = data_dir
        self.manifest = complete_manifest(data_dir)
        self.num_frames = sum(s["frames"] for s in self.manifest["shards"])
        self.streaming = self.num_frames > max_in_memory
        self.shards_in_flight = shards_in_flight
        self.frames = None if self.streaming else load_all_frames(data_dir, self.manifest)
        self.frame_shape = (64, 64, 3) if self.frames is None else self.frames.shape[1:]
        self._meta: tuple[np.ndarray, np.ndarray] | None = None  # in memory: (lengths, rewards) of every shard, once

    def batches(self, batch_size: int, rng: np.random.Generator, previous: bool = False,
                near_pay: bool = False, pays: bool = False) -> Iterator[Any]:
        """One epoch of (B, H, W, 3) uint8 batches (the last, smaller one dropped when streaming). With ``previous``,
        (B, 2, H, W, 3): each frame beside the frame before it in its episode (itself at an episode's start), in the
        same order and from the same random numbers as without. With ``near_pay`` as well, (frames, (B,) bool) pairs:
        whether each frame is next to a paying step (``near_pay_frames``); with ``pays`` instead, (frames, (B, 2) bool)
        pairs: ``pay_labels``."""
        if near_pay and pays:
            raise ValueError("batches: near_pay or pays, not both")
        flags_of = near_pay_frames if near_pay else pay_labels if pays else None
        keys = ("lengths", "rewards") if flags_of else ("lengths",)

        def batch(group: np.ndarray, idx: np.ndarray, prev: np.ndarray | None, flags: np.ndarray | None) -> Any:
            frames = np.stack([group[idx], group[prev[idx]]], 1) if previous else group[idx]
            return (frames, flags[idx]) if flags_of else frames

        if self.frames is not None:
            prev = flags = None
            if previous or flags_of:
                if self._meta is None:
                    meta = [load_shard(p, ("lengths", "rewards")) for p in shard_paths(self.data_dir, self.manifest)]
                    self._meta = tuple(np.concatenate([m[k] for m in meta]) for k in ("lengths", "rewards"))
                lengths, rewards = self._meta
                prev = previous_frame_index(lengths) if previous else None
                flags = flags_of(lengths, rewards) if flags_of else None
            perm = rng.permutation(self.num_frames)
            for i in range(0, len(perm) - batch_size + 1 if len(perm) >= batch_size else 1, batch_size):
                yield batch(self.frames, np.sort(perm[i:i + batch_size]), prev, flags)
            return
        paths = shard_paths(self.data_dir, self.manifest)
        order = rng.permutation(len(paths))
        for g in range(0, len(order), self.shards_in_flight):
            shards = [load_shard(paths[j], ("obs", *keys)) for j in order[g:g + self.shards_in_flight]]
            group = np.concatenate([s["obs"] for s in shards])
            lengths = np.concatenate([s["lengths"] for s in shards])
            prev = previous_frame_index(lengths) if previous else None
            flags = flags_of(lengths, np.concatenate([s["rewards"] for s in shards])) if flags_of else None
            perm = rng.permutation(len(group))
            for i in range(0, len(perm) - batch_size + 1, batch_size):
                yield batch(group, np.sort(perm[i:i + batch_size]), prev, flags)

    def __len__(self) -> int:
        return self.num_frames


# --------------------------------------------------------------------------- latent sequences


LATENT_KEYS = ("mu", "logvar", "actions", "rewards", "dones", "lives", "lengths")


@dataclass
class LatentData:
    """Encoded episodes, flat: frame-level (F, Z) mu/logvar and (F,) lives, step-level (S,) actions/rewards/dones.

    ``frame_start[e]`` / ``step_start[e]`` index episode e's first frame / step; it has
    ``lengths[e]`` steps and ``lengths[e] + 1`` frames.
    """

    mu: np.ndarray
    logvar: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    dones: np.ndarray
    lives: np.ndarray
    lengths: np.ndarray

    @property
    def frame_start(self) -> np.ndarray:
        return np.concatenate([[0], np.cumsum(self.lengths + 1)[:-1]]).astype(np.int64)

    @property
    def step_start(self) -> np.ndarray:
        return np.concatenate([[0], np.cumsum(self.lengths)[:-1]]).astype(np.int64)

    @property
    def step_frames(self) -> np.ndarray:
        """(S,) index of the frame each step starts from (step s goes from frame f to f + 1)."""
        return np.repeat(self.frame_start - self.step_start, self.lengths) + np.arange(int(self.lengths.sum()))

    @property
    def life_loss(self) -> np.ndarray:
        """(S,) bool: the step lost a life (the counter went down from its frame to the next)."""
        f = self.step_frames
        return self.lives[f + 1].astype(np.int64) < self.lives[f].astype(np.int64)

    def life_loss_at(self, shift: int = 0) -> np.ndarray:
        """(S,) bool: :attr:`life_loss` moved ``shift`` steps earlier within each episode (clamped at its first step):
        Space Invaders' lives counter drops about 32 agent steps after the cannon is hit (the explosion plays, the
        game frozen), so shift 32 labels the step of the hit."""
        return shift_events(self.life_loss, self.lengths, shift)

    def episodes(self, idx: np.ndarray) -> LatentData:
        """The episodes ``idx`` (in that order) as a LatentData of their own."""
        idx = np.asarray(idx, dtype=np.int64)
        frames = np.concatenate([np.arange(f, f + n + 1) for f, n in zip(self.frame_start[idx], self.lengths[idx])])
        steps = np.concatenate([np.arange(s, s + n) for s, n in zip(self.step_start[idx], self.lengths[idx])])
        return LatentData(mu=self.mu[frames], logvar=self.logvar[frames], actions=self.actions[steps], rewards=self.rewards[steps],
                          dones=self.dones[steps], lives=self.lives[frames], lengths=self.lengths[idx].copy())

    def save(self, path: Path, meta: dict[str, Any]) -> None:
        buf = io.BytesIO()
        np.savez(buf, **{k: getattr(self, k) for k in LATENT_KEYS})
        from utils.io import atomic_write_bytes

        atomic_write_bytes(path, buf.getvalue())
        atomic_write_json(path.with_suffix(".json"), meta)

    @classmethod
    def load(cls, path: Path) -> LatentData:
        try:
            with np.load(path, allow_pickle=False) as z:
                arrays = {k: z[k] for k in LATENT_KEYS if k != "lives" or k in z.files}
            # Caches of format-1 data have no lives: 0 (unknown), which only a model with a life head would read.
            arrays.setdefault("lives", np.zeros(len(arrays["mu"]), dtype=np.uint8))
            return cls(**arrays)
        except (zipfile.BadZipFile, ValueError, KeyError, OSError, EOFError) as e:
            raise UserError(f"latent cache {path} is corrupt or truncated ({type(e).__name__}); delete it and rerun: "
                            "the phase that needs it encodes the data again") from None


def shift_events(events: np.ndarray, lengths: np.ndarray, shift: int) -> np.ndarray:
    """(S,) bool events of flat episodes of ``lengths`` steps, each moved ``shift`` steps earlier within its episode
    (an event closer than that to the episode's start lands on its first step)."""
    if shift < 0:
        raise ValueError(f"shift must be >= 0, got {shift}")
    if shift == 0:
        return events.astype(bool)
    out = np.zeros_like(events, dtype=bool)
    step_start = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    idx = np.flatnonzero(events)
    episode = np.searchsorted(step_start, idx, side="right") - 1
    out[np.maximum(idx - shift, step_start[episode])] = True
    return out


class SequenceSampler:
    """Random windows of ``seq_len`` steps, gathered by index from the flat latent arrays.

    No overlapping copies are built: a batch is one fancy-index gather. Episodes shorter than the
    window are used whole, with the tail masked.
    """

    def __init__(self, data: LatentData, seq_len: int, life_shift: int = 0):
        self.data, self.L = data, seq_len
        self.frame_start, self.step_start = data.frame_start, data.step_start
        # Number of valid window starts per episode (at least 1), and sampling weights ~ that.
        self.n_starts = np.maximum(data.lengths - seq_len + 1, 1)
        self.p = self.n_starts / self.n_starts.sum()
        self.life_loss = data.life_loss_at(life_shift)  # the life head's target (see LatentData.life_loss_at)

    def sample(self, batch_size: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """mu/logvar (B, L+1, Z), actions (B, L), rewards (B, L), dones (B, L), life_loss (B, L), mask (B, L)."""
        ep = rng.choice(len(self.p), size=batch_size, p=self.p)
        start = (rng.random(batch_size) * self.n_starts[ep]).astype(np.int64)
        t = np.arange(self.L)
        valid = (start[:, None] + t[None]) < self.data.lengths[ep][:, None]  # (B, L)
        step_idx = self.step_start[ep][:, None] + np.minimum(start[:, None] + t[None], self.data.lengths[ep][:, None] - 1)
        tf = np.arange(self.L + 1)
        frame_idx = self.frame_start[ep][:, None] + np.minimum(start[:, None] + tf[None], self.data.lengths[ep][:, None])
        return {
            "mu": self.data.mu[frame_idx],
            "logvar": self.data.logvar[frame_idx],
            "actions": action_values(self.data.actions[step_idx]),
            "rewards": self.data.rewards[step_idx],
            "dones": self.data.dones[step_idx].astype(np.float32),
            "life_loss": self.life_loss[step_idx].astype(np.float32),
            "mask": valid.astype(np.float32),
        }

    def batches_per_epoch(self, batch_size: int) -> int:
        return max(1, int(self.data.lengths.sum()) // (batch_size * self.L))
