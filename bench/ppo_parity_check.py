#!/usr/bin/python3
"""One PPO update of the Python reference (bench/ppo_reference.py: CleanRL
ppo.py) from exactly the inputs the C++ learner had, compared with what the
C++ learner did (bench/ppo_parity_dump writes them).

  build/bin/ppo_parity_dump --seed=1 --update=0 --out=/tmp/parity
  /usr/bin/python3 bench/ppo_parity_check.py /tmp/parity

Same initial weights (C++'s flat layout mapped onto the reference's Agent),
same rollout, same Adam state, same learning rate, same minibatch order; the
GAE loop, the loss and the optimiser step are the reference's code (copied
from ppo_reference.py's main, which has them inline). Prints the max abs
differences of: the behaviour log-probabilities and values (acting), the
advantages and returns, the per-minibatch losses and gradient norms, and the
parameters after the update (absolute, and relative to the update's size).
Exits 1 when a difference is beyond float rounding (see --tolerance).
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ppo_reference import Agent  # noqa: E402


def load(d, name, dtype, shape=None):
    a = np.fromfile(os.path.join(d, name), dtype=dtype)
    return a.reshape(shape) if shape is not None else a


def set_flat(agent, flat, obs_dim, hidden, num_actions):
    """C++ layout: actor then critic, each [W0 (out x in), b0, W1, b1, W2, b2]."""
    at = 0
    for net, out_dim in ((agent.actor, num_actions), (agent.critic, 1)):
        linears = [m for m in net if isinstance(m, nn.Linear)]
        dims = [obs_dim] + list(hidden) + [out_dim]
        assert len(linears) == len(dims) - 1
        for layer, fi, fo in zip(linears, dims[:-1], dims[1:]):
            assert tuple(layer.weight.shape) == (fo, fi)
            with torch.no_grad():
                layer.weight.copy_(torch.from_numpy(flat[at:at + fo * fi].reshape(fo, fi)))
                at += fo * fi
                layer.bias.copy_(torch.from_numpy(flat[at:at + fo]))
                at += fo
    assert at == flat.size, (at, flat.size)


def get_flat(agent, out_like):
    parts = []
    for net in (agent.actor, agent.critic):
        for layer in (m for m in net if isinstance(m, nn.Linear)):
            parts += [layer.weight.detach().numpy().ravel(), layer.bias.detach().numpy().ravel()]
    flat = np.concatenate(parts).astype(np.float32)
    assert flat.size == out_like.size
    return flat


def flat_param_list(agent):
    """The agent's parameters in the C++ flat order (for the Adam state)."""
    ps = []
    for net in (agent.actor, agent.critic):
        for layer in (m for m in net if isinstance(m, nn.Linear)):
            ps += [layer.weight, layer.bias]
    return ps


def main():
    p = argparse.ArgumentParser()
    p.add_argument("dir")
    p.add_argument("--tolerance", type=float, default=1e-3,
                   help="max parameter difference relative to the update's largest change")
    p.add_argument("--use_cpp_advantages", action="store_true",
                   help="learn from the C++ advantages/returns instead of the reference's GAE")
    p.add_argument("--per_minibatch", action="store_true",
                   help="print each minibatch's losses and gradient norm, C++ / reference")
    a = p.parse_args()
    torch.set_num_threads(1)
    torch.distributions.Distribution.set_default_validate_args(False)
    d = a.dir
    meta = json.load(open(os.path.join(d, "meta.json")))
    n, t_len, obs_dim = meta["num_envs"], meta["num_steps"], meta["obs_dim"]
    m = n * t_len
    hidden, num_actions = meta["hidden"], meta["num_actions"]
    assert hidden == [64, 64] and obs_dim == 4 and num_actions == 2, "the reference is CartPole's"
    gamma, lam, clip = meta["gamma"], meta["gae_lambda"], meta["clip_coef"]
    ent_coef, vf_coef, max_grad = meta["ent_coef"], meta["vf_coef"], meta["max_grad_norm"]
    clip_vloss = meta["clip_value_loss"]
    epochs, minibatches = meta["update_epochs"], meta["num_minibatches"]
    mb_size = m // minibatches

    before = load(d, "params_before.f32", np.float32)
    after_cpp = load(d, "params_after.f32", np.float32)
    obs = load(d, "observations.f32", np.float32, (m, obs_dim))
    actions = load(d, "actions.f32", np.float32)
    log_probs = load(d, "log_probs.f32", np.float32)
    values = load(d, "values.f32", np.float32)
    rewards = load(d, "rewards.f32", np.float32)
    terminated = load(d, "terminated.u8", np.uint8).astype(bool)
    truncated = load(d, "truncated.u8", np.uint8).astype(bool)
    final_obs = load(d, "final_observations.f32", np.float32, (m, obs_dim))
    next_obs = load(d, "next_observations.f32", np.float32, (n, obs_dim))
    adv_cpp = load(d, "advantages.f32", np.float32)
    ret_cpp = load(d, "returns.f32", np.float32)
    orders = load(d, "orders.i64", np.int64, (epochs, m))
    adam_m = load(d, "adam_m.f32", np.float32)
    adam_v = load(d, "adam_v.f32", np.float32)

    agent = Agent()
    set_flat(agent, before, obs_dim, hidden, num_actions)
    assert np.array_equal(get_flat(agent, before), before)
    report = {}
    bad = []

    # Acting: the behaviour log-probabilities and values are the initial
    # model's (same weights, so they must agree to rounding).
    with torch.no_grad():
        _, lp, _, v = agent.get_action_and_value(torch.from_numpy(obs),
                                                 torch.from_numpy(actions).long())
    report["acting log_prob"] = np.abs(lp.numpy() - log_probs).max()
    report["acting value"] = np.abs(v.numpy().ravel() - values).max()

    # GAE, the reference's loop on (T, N) arrays: dones[t] is the done flag
    # entering step t (next_done after step t-1), done = terminated | truncated.
    # C++ arrays are unroll-major (env * T + t).
    tm = lambda x: torch.from_numpy(np.ascontiguousarray(x.reshape(n, t_len).T))  # noqa: E731
    done_steps = (terminated | truncated).astype(np.float32)
    done_tn = done_steps.reshape(n, t_len).T
    dones_t = torch.zeros((t_len, n))
    dones_t[1:] = torch.from_numpy(np.ascontiguousarray(done_tn[:-1]))
    next_done = torch.from_numpy(np.ascontiguousarray(done_tn[-1]))
    rewards_t, values_t = tm(rewards), tm(values)
    with torch.no_grad():
        next_value = agent.get_value(torch.from_numpy(next_obs)).reshape(1, -1)
        if meta["bootstrap_on_truncation"]:
            # Not the reference (CleanRL ends the return at a truncation): the
            # C++ option, bootstrapping from V(final observation).
            v_final = tm(agent.get_value(torch.from_numpy(final_obs)).numpy().ravel())
        advantages = torch.zeros_like(rewards_t)
        lastgaelam = 0
        for t in reversed(range(t_len)):
            if t == t_len - 1:
                nextnonterminal = 1.0 - next_done
                nextvalues = next_value
            else:
                nextnonterminal = 1.0 - dones_t[t + 1]
                nextvalues = values_t[t + 1]
            delta = rewards_t[t] + gamma * nextvalues * nextnonterminal - values_t[t]
            if meta["bootstrap_on_truncation"]:
                trunc = torch.from_numpy(truncated.reshape(n, t_len)[:, t].astype(np.float32))
                delta = delta + trunc * gamma * v_final[t]
            advantages[t] = lastgaelam = delta + gamma * lam * nextnonterminal * lastgaelam
        returns = advantages + values_t
    # Back to unroll-major.
    um = lambda x: x.T.reshape(-1)  # noqa: E731
    b_advantages, b_returns = um(advantages), um(returns)
    report["advantages"] = np.abs(b_advantages.numpy() - adv_cpp).max()
    report["returns"] = np.abs(b_returns.numpy() - ret_cpp).max()
    if a.use_cpp_advantages:
        b_advantages, b_returns = torch.from_numpy(adv_cpp), torch.from_numpy(ret_cpp)

    # The learning rate: C++ used lr_used; the reference's schedule for this
    # iteration of a run of the same length would give:
    iterations = meta["total_env_steps"] // m
    lr = meta["lr_used"]
    report["lr (C++) vs reference schedule"] = abs(
        lr - (1.0 - meta["update"] / (meta["total_env_steps"] // m)) * meta["learning_rate"])
    optimizer = torch.optim.Adam(agent.parameters(), lr=lr, eps=meta["adam_eps"])
    if meta["adam_steps_before"] > 0:
        at = 0
        for prm in flat_param_list(agent):
            k = prm.numel()
            optimizer.state[prm] = {
                "step": torch.tensor(float(meta["adam_steps_before"])),
                "exp_avg": torch.from_numpy(adam_m[at:at + k].reshape(prm.shape).copy()),
                "exp_avg_sq": torch.from_numpy(adam_v[at:at + k].reshape(prm.shape).copy()),
            }
            at += k

    b_obs = torch.from_numpy(obs)
    b_logprobs = torch.from_numpy(log_probs)
    b_actions = torch.from_numpy(actions)
    b_values = torch.from_numpy(values)
    py_stats, py_norms = [], []
    # Samples within float rounding of a clip boundary (|ratio - 1| or
    # |v - v_old| within 1e-5 of clip_coef): their clip decision, and so their
    # gradient, may differ between two correct implementations, after which
    # the two runs part by more than rounding.
    near_boundary = []
    for epoch in range(epochs):
        b_inds = orders[epoch]  # instead of np.random.shuffle: the C++ order
        for s in range(0, m, mb_size):
            mb = torch.from_numpy(b_inds[s:s + mb_size])
            # ---- from ppo_reference.py main() ----
            _, newlogprob, entropy, newvalue = agent.get_action_and_value(b_obs[mb], b_actions.long()[mb])
            ratio = (newlogprob - b_logprobs[mb]).exp()
            mb_adv = b_advantages[mb]
            mb_adv = (mb_adv - mb_adv.mean()) / (mb_adv.std() + 1e-8)
            pg_loss = torch.max(-mb_adv * ratio, -mb_adv * torch.clamp(ratio, 1 - clip, 1 + clip)).mean()
            newvalue = newvalue.view(-1)
            v_unclipped = (newvalue - b_returns[mb]) ** 2
            if clip_vloss:
                v_clipped = b_values[mb] + torch.clamp(newvalue - b_values[mb], -clip, clip)
                v_loss = 0.5 * torch.max(v_unclipped, (v_clipped - b_returns[mb]) ** 2).mean()
            else:
                v_loss = 0.5 * v_unclipped.mean()
            loss = pg_loss - ent_coef * entropy.mean() + v_loss * vf_coef
            with torch.no_grad():
                near = int(((ratio - 1).abs() - clip).abs().lt(1e-5).sum() +
                           (((newvalue - b_values[mb]).abs() - clip).abs().lt(1e-5).sum()
                            if clip_vloss else 0))
                if near:
                    near_boundary.append((len(py_norms), near))
                logratio = newlogprob - b_logprobs[mb]
                py_stats.append([pg_loss.item(), v_loss.item(), entropy.mean().item(),
                                 ((ratio - 1) - logratio).mean().item(),
                                 ((ratio - 1.0).abs() > clip).float().mean().item()])
            optimizer.zero_grad()
            loss.backward()
            py_norms.append(nn.utils.clip_grad_norm_(agent.parameters(), max_grad).item())
            optimizer.step()
            # ---- end ----
    names = ["policy_loss", "value_loss", "entropy", "approx_kl", "clip_fraction"]
    cpp_stats = np.array([[mbs[k] for k in names] for mbs in meta["minibatches"]])
    py_stats = np.array(py_stats)
    for j, k in enumerate(names):
        report[f"minibatch {k}"] = np.abs(cpp_stats[:, j] - py_stats[:, j]).max()
    if a.per_minibatch:
        print("minibatch: " + " ".join(names) + " grad_norm  (C++ / reference)")
        for k in range(len(py_norms)):
            print(f"  {k:3d} " + " ".join(f"{c:.6g}/{q:.6g}" for c, q in zip(cpp_stats[k], py_stats[k]))
                  + f" {meta['grad_norms'][k]:.6g}/{py_norms[k]:.6g}")
    report["minibatch grad_norm"] = np.abs(np.array(meta["grad_norms"]) - np.array(py_norms)).max()
    report["minibatch grad_norm (relative)"] = (
        np.abs(np.array(meta["grad_norms"]) - np.array(py_norms)) / np.array(py_norms)).max()

    after_py = get_flat(agent, after_cpp)
    change = np.abs(after_py - before).max()
    diff = np.abs(after_py - after_cpp)
    report["params after (abs)"] = diff.max()
    report["params after (relative to max |update|)"] = diff.max() / change
    report["max |update| (reference)"] = change
    report["max |update| (C++)"] = np.abs(after_cpp - before).max()
    # Per block (the C++ order).
    at, blocks = 0, []
    for net, out_dim in (("actor", num_actions), ("critic", 1)):
        dims = [obs_dim] + hidden + [out_dim]
        for l, (fi, fo) in enumerate(zip(dims[:-1], dims[1:])):
            for kind, size in (("W", fo * fi), ("b", fo)):
                blocks.append((f"{net}.{kind}{l}", at, at + size))
                at += size

    print(f"{d}: seed {meta['seed']} update {meta['update']}, {meta['terminations']} "
          f"terminations, {meta['truncations']} truncations, bootstrap_on_truncation "
          f"{meta['bootstrap_on_truncation']}")
    for k, v in report.items():
        print(f"  {k:45s} {v:.3e}")
    print("  per block: max |param diff| / max |update|")
    for name, lo, hi in blocks:
        ch = np.abs(after_py[lo:hi] - before[lo:hi]).max()
        print(f"    {name:10s} {diff[lo:hi].max():.3e} / {ch:.3e}")
    if near_boundary:
        print("  samples within 1e-5 of a clip boundary (minibatch, count): "
              + ", ".join(f"({k}, {c})" for k, c in near_boundary))
    rel = report["params after (relative to max |update|)"]
    if rel > a.tolerance or report["advantages"] > 1e-3:
        print(f"  DIFFERENT (relative parameter difference {rel:.2e} > {a.tolerance:g})"
              + ("; a clip decision at a boundary can explain it if the per-minibatch figures "
                 "agree up to that minibatch" if near_boundary else ""))
        return 1
    print("  same to float rounding")
    return 0


if __name__ == "__main__":
    sys.exit(main())
