from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import tiny_config

from utils.data import (
    FrameDataset,
    LatentData,
    SequenceSampler,
    collect_rollouts,
    complete_manifest,
    load_all_frames,
    load_shard,
    near_pay_frames,
    pay_labels,
    previous_frame_index,
    shard_paths,
)
from utils.io import UserError


@pytest.fixture(scope="module")
def collected(tmp_path_factory):
    cfg = tiny_config(tmp_path_factory.mktemp("data"), **{"data.num_rollouts": 5, "data.episodes_per_shard": 2})
    manifest = collect_rollouts(cfg, progress=False)
    return cfg, manifest


def test_shards_round_trip(collected):
    cfg, manifest = collected
    assert manifest["complete"] and len(manifest["shards"]) == 3  # 2 + 2 + 1 episodes
    assert sum(s["episodes"] for s in manifest["shards"]) == 5
    for entry, path in zip(manifest["shards"], shard_paths(cfg.data_path, manifest), strict=False):
        shard = load_shard(path)
        assert shard["obs"].dtype == np.uint8 and shard["obs"].shape[1:] == (64, 64, 3)
        assert len(shard["obs"]) == entry["frames"] == shard["lengths"].sum() + len(shard["lengths"])
        assert len(shard["actions"]) == len(shard["rewards"]) == len(shard["dones"]) == entry["steps"]
        assert shard["actions"].max() < 6 and shard["obs"].std() > 0
    frames = load_all_frames(cfg.data_path, manifest)
    assert len(frames) == sum(s["frames"] for s in manifest["shards"])


def test_held_random_policy_holds_actions(collected):
    cfg, manifest = collected
    actions = load_shard(shard_paths(cfg.data_path, manifest)[0])["actions"]
    changes = np.count_nonzero(np.diff(actions.astype(int)))
    assert changes < 0.5 * len(actions)  # held for several steps on average, not per-step noise
    assert len(np.unique(actions)) > 2


def test_dirichlet_preferences_concentrate_an_episode_on_few_actions():
    """alpha = 0 is the uniform policy, draw for draw as before the setting existed (an old manifest's data
    is the same data); a small alpha gives each episode its own few favourite actions (top action's
    share well above uniform's 1/6), a different mix per episode, and the same stream for the same RNG."""
    from utils.data import HeldRandomPolicy

    def stream(alpha, seed, n=3000):
        p = HeldRandomPolicy(6, 1, 8, np.random.default_rng(seed), alpha)
        return np.array([p() for _ in range(n)])

    rng, expected, left, a = np.random.default_rng(4), [], 0, 0  # the uniform policy written out
    for _ in range(3000):
        if left == 0:
            a, left = int(rng.integers(6)), int(rng.integers(1, 9))
        left -= 1
        expected.append(a)
    np.testing.assert_array_equal(stream(0.0, 4), expected)
    uniform_top = np.mean([np.bincount(stream(0.0, s), minlength=6).max() / 3000 for s in range(20)])
    skewed = [np.bincount(stream(0.2, s), minlength=6) / 3000 for s in range(20)]
    assert uniform_top < 0.22 and np.mean([c.max() for c in skewed]) > 0.5
    assert len({int(c.argmax()) for c in skewed}) >= 3  # episodes favour different actions
    np.testing.assert_array_equal(stream(0.2, 9), stream(0.2, 9))


def test_habits_are_drawn_again_every_habit_steps():
    """habit_steps > 0 draws new preferences exactly every habit_steps steps from the episode's RNG (and the next
    holds follow them); 0 keeps one draw per episode, draw for draw the stream of before the setting existed."""
    from utils.data import HeldRandomPolicy

    def run(habit_steps, n=200):
        p = HeldRandomPolicy(6, 1, 8, np.random.default_rng(7), 0.1, habit_steps)
        prefs, actions = [], []
        for _ in range(n):
            actions.append(p())
            prefs.append(p.prefs.copy())
        return np.array(prefs), np.array(actions)

    prefs, actions = run(50)
    changed = [t for t in range(1, 200) if not np.array_equal(prefs[t], prefs[t - 1])]
    assert changed == [50, 100, 150]  # the 51st, 101st and 151st actions are chosen with new preferences
    once, once_actions = run(0)
    assert (once == once[0]).all() and np.array_equal(once[0], prefs[0])
    np.testing.assert_array_equal(once_actions[:50], actions[:50])  # the same RNG stream until the first new draw
    tops = [int(np.bincount(actions[a:a + 50], minlength=6).argmax()) for a in range(0, 200, 50)]
    assert len(set(tops)) >= 2  # habits differ within one episode
    np.testing.assert_array_equal(run(50)[1], actions)


def test_action_alpha_is_part_of_the_data_signature(collected, tmp_path):
    """Data collected with other action preferences is not reused (one clear line); the default (0) keeps
    the signature of data collected before the setting existed."""
    from utils.data import data_signature

    cfg, _ = collected
    assert "action_alpha" not in data_signature(cfg)["data"] and "dilate" not in data_signature(cfg)["env"]
    assert "habit_steps" not in data_signature(cfg)["data"]
    assert data_signature(tiny_config(tmp_path, **{"data.habit_steps": 100}))["data"]["habit_steps"] == 100
    changed = tiny_config(tmp_path, **{"data.num_rollouts": 5, "data.episodes_per_shard": 2,
                                       "data.action_alpha": 0.5, "data.dir": str(cfg.data_path)})
    with pytest.raises(UserError, match="different config.*action_alpha"):
        collect_rollouts(changed, progress=False)
    # Collected with a small alpha (into its own dir): episodes lean on their favourite actions.
    skewed = tiny_config(tmp_path / "skewed", **{"data.num_rollouts": 4, "data.max_steps_per_rollout": 300,
                                                  "data.action_alpha": 0.1})
    shard = load_shard(shard_paths(skewed.data_path, collect_rollouts(skewed, progress=False))[0])
    starts = np.concatenate([[0], np.cumsum(shard["lengths"])])
    tops = [np.bincount(shard["actions"][a:b], minlength=6).max() / (b - a) for a, b in zip(starts[:-1], starts[1:])]
    assert np.mean(tops) > 0.5  # uniform: about 0.25 on 300 held steps


def test_collection_is_reproducible_and_independent_of_num_envs(collected, tmp_path):
    cfg, _ = collected
    other = tiny_config(tmp_path, **{"data.num_rollouts": 5, "data.episodes_per_shard": 2, "data.num_envs": 2})
    collect_rollouts(other, progress=False)
    a = load_shard(shard_paths(cfg.data_path, complete_manifest(cfg.data_path))[1])
    b = load_shard(shard_paths(other.data_path, complete_manifest(other.data_path))[1])
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])


def test_reuse_and_config_mismatch(collected, tmp_path):
    cfg, manifest = collected
    mtime = (cfg.data_path / "shard_00000.npz").stat().st_mtime_ns
    assert collect_rollouts(cfg, progress=False)["shards"] == manifest["shards"]
    assert (cfg.data_path / "shard_00000.npz").stat().st_mtime_ns == mtime  # reused, not rewritten
    changed = tiny_config(tmp_path, **{"data.num_rollouts": 5, "data.episodes_per_shard": 2,
                                       "data.action_hold_max": 3, "data.dir": str(cfg.data_path)})
    with pytest.raises(UserError, match="different config.*action_hold_max"):
        collect_rollouts(changed, progress=False)
    assert json.loads((cfg.data_path / "manifest.json").read_text())["shards"] == manifest["shards"]


def test_corrupt_shard_is_a_clear_error(collected, tmp_path):
    cfg, manifest = collected
    bad = tmp_path / "shard.npz"
    bad.write_bytes((cfg.data_path / manifest["shards"][0]["file"]).read_bytes()[:500])
    with pytest.raises(UserError, match="corrupt or truncated"):
        load_shard(bad)


def test_frame_dataset_in_memory_and_streaming_cover_all_frames(collected):
    cfg, manifest = collected
    total = sum(s["frames"] for s in manifest["shards"])
    mem = FrameDataset(cfg.data_path, max_in_memory=10**9)
    stream = FrameDataset(cfg.data_path, max_in_memory=10, shards_in_flight=2)
    assert not mem.streaming and stream.streaming and stream.frames is None
    rng = np.random.default_rng(0)
    got_mem = np.concatenate(list(mem.batches(7, rng)))
    got_stream = np.concatenate(list(stream.batches(1, rng)))
    assert len(got_mem) == total - total % 7 and len(got_stream) == total
    # Streaming sees every frame exactly once per epoch: compare multisets of per-frame checksums.
    all_frames = load_all_frames(cfg.data_path, manifest)
    def key(a):
        return np.sort(a.reshape(len(a), -1).astype(np.int64).sum(1) * 1_000_003 + a.reshape(len(a), -1)[:, ::97].astype(np.int64).sum(1))
    np.testing.assert_array_equal(key(got_stream), key(all_frames))


def test_previous_frames_are_the_frames_before_within_each_episode(collected, tmp_path):
    """previous=True pairs each frame with the one before it in its episode (an episode's first frame with itself),
    in memory and streaming, and draws the same frames in the same order as previous=False."""
    import shutil

    cfg, manifest = collected
    np.testing.assert_array_equal(previous_frame_index(np.array([2, 0, 1])), [0, 0, 1, 3, 4, 4])
    data = tmp_path / "data"
    shutil.copytree(cfg.data_path, data)
    lengths, offset = [], 0
    for s in manifest["shards"]:  # game frames repeat: stamp each stored frame with its global index instead
        shard = dict(np.load(data / s["file"]))
        n = len(shard["obs"])
        shard["obs"] = np.zeros_like(shard["obs"])
        shard["obs"][:, 0, 0, 0], shard["obs"][:, 0, 0, 1] = (offset + np.arange(n)) % 256, (offset + np.arange(n)) // 256
        np.savez(data / s["file"], **shard)
        lengths.append(shard["lengths"])
        offset += n
    starts = set(np.concatenate([[0], np.cumsum(np.concatenate(lengths) + 1)[:-1]]).tolist())
    for ds in (FrameDataset(data, max_in_memory=10**9), FrameDataset(data, max_in_memory=10, shards_in_flight=2)):
        pairs = np.concatenate(list(ds.batches(5, np.random.default_rng(3), previous=True)))
        plain = np.concatenate(list(ds.batches(5, np.random.default_rng(3))))
        np.testing.assert_array_equal(pairs[:, 0], plain)
        i = pairs[:, 0, 0, 0, 0].astype(int) + 256 * pairs[:, 0, 0, 0, 1].astype(int)
        j = pairs[:, 1, 0, 0, 0].astype(int) + 256 * pairs[:, 1, 0, 0, 1].astype(int)
        np.testing.assert_array_equal(j, [k if k in starts else k - 1 for k in i])
        assert len(starts) > 1 and len(set(i) & starts) > 0  # episode starts were drawn: both branches checked


def stamped_copy(collected, tmp_path, every: int, at: int) -> tuple:
    """A copy of the collected shards whose frames carry their global index in pixel (0, 0) and whose steps pay
    1 on every ``every``-th step (at ``at``); returns (data dir, all lengths, all rewards)."""
    import shutil

    cfg, manifest = collected
    data = tmp_path / "data"
    shutil.copytree(cfg.data_path, data)
    lengths, rewards, offset = [], [], 0
    for s in manifest["shards"]:
        shard = dict(np.load(data / s["file"]))
        n = len(shard["obs"])
        shard["obs"] = np.zeros_like(shard["obs"])
        shard["obs"][:, 0, 0, 0], shard["obs"][:, 0, 0, 1] = (offset + np.arange(n)) % 256, (offset + np.arange(n)) // 256
        shard["rewards"] = ((offset + np.arange(len(shard["rewards"]))) % every == at).astype(np.float32)
        np.savez(data / s["file"], **shard)
        lengths.append(shard["lengths"])
        rewards.append(shard["rewards"])
        offset += n
    return data, np.concatenate(lengths), np.concatenate(rewards)


def test_frames_next_to_a_paying_step_are_flagged_per_episode(collected, tmp_path):
    """near_pay_frames marks frames x_{t-1} .. x_{t+3} of a paying step t, clipped to its own episode; batches with
    near_pay=True hand each frame's flag beside the same frames as without, in memory and streaming."""
    # Episodes of 5 and 3 steps (6 and 4 frames): pay at step 2 of the first, step 0 of the second; a loss (-1) never counts.
    flags = near_pay_frames(np.array([5, 3]), np.array([-1, 0, 7, 0, 0, 5, 0, 0], dtype=np.float32))
    np.testing.assert_array_equal(flags, [0, 1, 1, 1, 1, 1, 1, 1, 1, 1])
    flags = near_pay_frames(np.array([8]), np.array([0, 0, 0, 0, 0, 0, 0, 9], dtype=np.float32))
    np.testing.assert_array_equal(flags, [0, 0, 0, 0, 0, 0, 1, 1, 1])  # the window stops at the episode's last frame
    data, lengths, rewards = stamped_copy(collected, tmp_path, every=7, at=3)
    truth = near_pay_frames(lengths, rewards)
    assert 0.3 < truth.mean() < 0.9
    for ds in (FrameDataset(data, max_in_memory=10**9), FrameDataset(data, max_in_memory=10, shards_in_flight=2)):
        got = list(ds.batches(5, np.random.default_rng(3), previous=True, near_pay=True))
        pairs = np.concatenate([g[0] for g in got])
        pay = np.concatenate([g[1] for g in got])
        np.testing.assert_array_equal(pairs, np.concatenate(list(ds.batches(5, np.random.default_rng(3), previous=True))))
        i = pairs[:, 0, 0, 0, 0].astype(int) + 256 * pairs[:, 0, 0, 0, 1].astype(int)
        np.testing.assert_array_equal(pay, truth[i])
        assert 0 < pay.sum() < len(pay)


def test_pay_labels_mark_the_frames_into_and_out_of_a_paying_step(collected, tmp_path):
    """pay_labels: column 0 on frame t+1 (the step into it paid), column 1 on frame t (the step out of it pays), per
    episode; batches with pays=True hand each frame's two labels beside the same frames as without, in memory and
    streaming; near_pay and pays together are refused."""
    # Episodes of 5 and 3 steps (6 and 4 frames): pay at step 2 of the first, step 0 of the second; a loss (-1) never counts.
    labels = pay_labels(np.array([5, 3]), np.array([-1, 0, 7, 0, 0, 5, 0, 0], dtype=np.float32))
    np.testing.assert_array_equal(labels[:, 0], [0, 0, 0, 1, 0, 0, 0, 1, 0, 0])
    np.testing.assert_array_equal(labels[:, 1], [0, 0, 1, 0, 0, 0, 1, 0, 0, 0])
    data, lengths, rewards = stamped_copy(collected, tmp_path, every=5, at=1)
    truth = pay_labels(lengths, rewards)
    assert truth.shape == (len(lengths) + lengths.sum(), 2) and 0.1 < truth.mean() < 0.3
    for ds in (FrameDataset(data, max_in_memory=10**9), FrameDataset(data, max_in_memory=10, shards_in_flight=2)):
        got = list(ds.batches(5, np.random.default_rng(3), pays=True))
        frames = np.concatenate([g[0] for g in got])
        labels = np.concatenate([g[1] for g in got])
        np.testing.assert_array_equal(frames, np.concatenate(list(ds.batches(5, np.random.default_rng(3)))))
        i = frames[:, 0, 0, 0].astype(int) + 256 * frames[:, 0, 0, 1].astype(int)
        np.testing.assert_array_equal(labels, truth[i])
        assert 0 < labels[:, 0].sum() < len(labels) and 0 < labels[:, 1].sum() < len(labels)
        with pytest.raises(ValueError, match="not both"):
            next(ds.batches(5, np.random.default_rng(3), near_pay=True, pays=True))

def test_sequence_sampler_alignment_without_copies():
    # Two episodes of 5 and 3 steps; mu encodes (episode, frame) so alignment can be checked.
    lengths = np.array([5, 3])
    mu = np.array([[e * 100 + t] for e, n in enumerate(lengths) for t in range(n + 1)], dtype=np.float32)
    actions = np.array([e * 100 + t for e, n in enumerate(lengths) for t in range(n)])
    data = LatentData(mu=mu, logvar=np.zeros_like(mu), actions=actions, rewards=actions.astype(np.float32),
                      dones=np.zeros(len(actions), bool), lives=np.full(len(mu), 3, np.uint8), lengths=lengths)
    s = SequenceSampler(data, seq_len=4)
    b = s.sample(64, np.random.default_rng(0))
    assert b["mu"].shape == (64, 5, 1) and b["actions"].shape == (64, 4)
    for i in range(64):
        n = int(b["mask"][i].sum())
        assert n == 4 or n == 3  # the 3-step episode is shorter than the window: masked tail
        start = b["mu"][i, 0, 0]
        np.testing.assert_array_equal(b["actions"][i, :n], start + np.arange(n))  # a_t pairs with z_t
        np.testing.assert_array_equal(b["mu"][i, : n + 1, 0], start + np.arange(n + 1))  # z_{t+1} follows
    assert np.shares_memory(data.mu, s.data.mu)


def test_life_loss_shifted_onto_the_hit_stays_in_its_episode():
    """Space Invaders' lives counter drops ~32 steps after the hit; life_shift moves each drop's label that many steps
    earlier, clamped at its episode's first step, never into the episode before; the sampler's target follows."""
    from utils.data import LatentData, SequenceSampler, shift_events

    lengths = np.array([6, 5])  # steps; frames 7 and 6
    lives = np.array([3, 3, 3, 3, 2, 2, 1,  3, 2, 2, 2, 1, 1], dtype=np.uint8)  # drops: steps 3, 5 | 0, 3 of ep 2
    data = LatentData(mu=np.arange(13, dtype=np.float32)[:, None].repeat(2, 1), logvar=np.zeros((13, 2), np.float32),
                      actions=np.zeros(11, np.uint8), rewards=np.zeros(11, np.float32), dones=np.zeros(11, bool),
                      lives=lives, lengths=lengths)
    assert np.flatnonzero(data.life_loss).tolist() == [3, 5, 6, 9]
    assert np.flatnonzero(data.life_loss_at(2)).tolist() == [1, 3, 6, 7]  # ep 2's step 0 stays at 0 (index 6)
    assert np.flatnonzero(data.life_loss_at(4)).tolist() == [0, 1, 6]  # 3 -> 0 (clamped), 5 -> 1; 6 and 9 -> 6
    np.testing.assert_array_equal(shift_events(data.life_loss, lengths, 0), data.life_loss)
    with pytest.raises(ValueError):
        shift_events(data.life_loss, lengths, -1)
    batch = SequenceSampler(data, seq_len=5, life_shift=2).sample(16, np.random.default_rng(0))
    first = batch["mu"][:, 0, 0].astype(int)  # the window's first frame index = episode frame start + window start
    for b in range(16):
        ep = int(first[b] >= 7)
        s0 = [0, 6][ep] + first[b] - [0, 7][ep]  # the window's first step
        n = int(batch["mask"][b].sum())
        np.testing.assert_array_equal(batch["life_loss"][b, :n], data.life_loss_at(2)[s0:s0 + n].astype(np.float32))
