#!/usr/bin/python3
"""An independent PPO in Python (CleanRL ppo.py's algorithm and defaults) on
CartPole-v1, for same-run comparisons with the C++ PPO (bench/ppo_bench).

Uses only Debian's python3-torch and python3-numpy (no gymnasium here): the
CartPole-v1 dynamics are written below (the classic equations, 500-step time
limit), four envs with automatic reset, as gymnasium's SyncVectorEnv. One
torch thread, as the C++ side uses one core.

  /usr/bin/python3 bench/ppo_reference.py --steps 100000 --seed 1

Prints one line: "ppo_reference steps S seconds T steps_per_s R solved_at X
last10 L" (solved_at: first env step where the mean of the last 10 training
returns reaches 475, or -1).
"""
import argparse
import math
import time

import numpy as np
import torch
import torch.nn as nn
from torch.distributions.categorical import Categorical


class CartPoleVec:
    """num_envs CartPole-v1 envs (the classic-control equations)."""

    def __init__(self, num_envs, seed):
        self.n = num_envs
        self.rng = np.random.default_rng(seed)
        self.state = self.rng.uniform(-0.05, 0.05, size=(num_envs, 4))
        self.steps = np.zeros(num_envs, dtype=np.int64)
        self.returns = np.zeros(num_envs)

    def obs(self):
        return self.state.astype(np.float32)

    def step(self, actions):
        x, x_dot, theta, theta_dot = self.state.T
        force = np.where(actions == 1, 10.0, -10.0)
        cos, sin = np.cos(theta), np.sin(theta)
        temp = (force + 0.05 * theta_dot ** 2 * sin) / 1.1
        theta_acc = (9.8 * sin - cos * temp) / (0.5 * (4.0 / 3.0 - 0.1 * cos ** 2 / 1.1))
        x_acc = temp - 0.05 * theta_acc * cos / 1.1
        x = x + 0.02 * x_dot
        x_dot = x_dot + 0.02 * x_acc
        theta = theta + 0.02 * theta_dot
        theta_dot = theta_dot + 0.02 * theta_acc
        self.state = np.stack([x, x_dot, theta, theta_dot], axis=1)
        self.steps += 1
        self.returns += 1.0
        terminated = (np.abs(x) > 2.4) | (np.abs(theta) > 12 * 2 * math.pi / 360)
        truncated = (self.steps >= 500) & ~terminated
        done = terminated | truncated
        finished = [(self.returns[i]) for i in np.nonzero(done)[0]]
        if done.any():
            k = int(done.sum())
            self.state[done] = self.rng.uniform(-0.05, 0.05, size=(k, 4))
            self.steps[done] = 0
            self.returns[done] = 0
        return self.obs(), np.ones(self.n, dtype=np.float32), terminated, truncated, finished


def layer_init(layer, std=np.sqrt(2), bias_const=0.0):
    torch.nn.init.orthogonal_(layer.weight, std)
    torch.nn.init.constant_(layer.bias, bias_const)
    return layer


class Agent(nn.Module):
    def __init__(self):
        super().__init__()
        self.critic = nn.Sequential(layer_init(nn.Linear(4, 64)), nn.Tanh(),
                                    layer_init(nn.Linear(64, 64)), nn.Tanh(),
                                    layer_init(nn.Linear(64, 1), std=1.0))
        self.actor = nn.Sequential(layer_init(nn.Linear(4, 64)), nn.Tanh(),
                                   layer_init(nn.Linear(64, 64)), nn.Tanh(),
                                   layer_init(nn.Linear(64, 2), std=0.01))

    def get_value(self, x):
        return self.critic(x)

    def get_action_and_value(self, x, action=None):
        logits = self.actor(x)
        probs = Categorical(logits=logits)
        if action is None:
            action = probs.sample()
        return action, probs.log_prob(action), probs.entropy(), self.critic(x)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=500000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--clip_vloss", type=int, default=1,
                   help="1: CleanRL's clipped value loss (its default); 0: the plain squared error")
    p.add_argument("--norm_reward", type=int, default=0,
                   help="1: scale rewards by the running std of the discounted return, clipped to "
                        "+-10 (CleanRL ppo_continuous_action.py's NormalizeReward + clip)")
    p.add_argument("--verbose", action="store_true",
                   help="every 10 updates: mean policy/value loss, entropy, KL, clip fraction")
    a = p.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(a.seed)
    np.random.seed(a.seed)
    # The usual fast paths of a careful PyTorch PPO: no argument validation in
    # distributions, inference mode while acting, numpy arrays shared, not copied.
    torch.distributions.Distribution.set_default_validate_args(False)
    num_envs, num_steps, minibatches, epochs = 4, 128, 4, 4
    lr, gamma, lam, clip, ent_coef, vf_coef, max_grad = 2.5e-4, 0.99, 0.95, 0.2, 0.01, 0.5, 0.5
    batch = num_envs * num_steps
    mb_size = batch // minibatches
    iterations = a.steps // batch
    envs = CartPoleVec(num_envs, a.seed)
    agent = Agent()
    optimizer = torch.optim.Adam(agent.parameters(), lr=lr, eps=1e-5)
    obs = torch.zeros((num_steps, num_envs, 4))
    actions = torch.zeros((num_steps, num_envs))
    logprobs = torch.zeros((num_steps, num_envs))
    rewards = torch.zeros((num_steps, num_envs))
    dones = torch.zeros((num_steps, num_envs))
    values = torch.zeros((num_steps, num_envs))
    next_obs = torch.from_numpy(envs.obs())
    next_done = torch.zeros(num_envs)
    global_step = 0
    # Reward scaling state (--norm_reward), per env as CleanRL wraps each env:
    # the discounted return and a running variance of it (RunningMeanStd
    # updated with one sample at a time).
    ret = np.zeros(num_envs)
    ret_mean, ret_var, ret_count = np.zeros(num_envs), np.ones(num_envs), np.full(num_envs, 1e-4)
    episode_returns = []
    solved_at = -1
    start = time.time()
    for iteration in range(1, iterations + 1):
        optimizer.param_groups[0]["lr"] = (1.0 - (iteration - 1.0) / iterations) * lr
        for step in range(num_steps):
            global_step += num_envs
            obs[step] = next_obs
            dones[step] = next_done
            with torch.inference_mode():
                action, logprob, _, value = agent.get_action_and_value(next_obs)
                values[step] = value.flatten()
            actions[step] = action
            logprobs[step] = logprob
            o, r, term, trunc, finished = envs.step(action.numpy())
            if a.norm_reward:
                for e in range(num_envs):
                    ret[e] = ret[e] * gamma + r[e]
                    delta = ret[e] - ret_mean[e]
                    total = ret_count[e] + 1.0
                    ret_var[e] = (ret_var[e] * ret_count[e] + delta * delta * ret_count[e] / total) / total
                    ret_mean[e] += delta / total
                    ret_count[e] = total
                    r[e] = np.clip(r[e] / np.sqrt(ret_var[e] + 1e-8), -10, 10)
                    if term[e] or trunc[e]:
                        ret[e] = 0.0
            rewards[step] = torch.from_numpy(r)
            next_obs = torch.from_numpy(o)
            next_done = torch.from_numpy((term | trunc).astype(np.float32))
            for g in finished:
                episode_returns.append(g)
                if solved_at < 0 and len(episode_returns) >= 10 and np.mean(episode_returns[-10:]) >= 475:
                    solved_at = global_step
        with torch.no_grad():
            next_value = agent.get_value(next_obs).reshape(1, -1)
            advantages = torch.zeros_like(rewards)
            lastgaelam = 0
            for t in reversed(range(num_steps)):
                if t == num_steps - 1:
                    nextnonterminal = 1.0 - next_done
                    nextvalues = next_value
                else:
                    nextnonterminal = 1.0 - dones[t + 1]
                    nextvalues = values[t + 1]
                delta = rewards[t] + gamma * nextvalues * nextnonterminal - values[t]
                advantages[t] = lastgaelam = delta + gamma * lam * nextnonterminal * lastgaelam
            returns = advantages + values
        b_obs = obs.reshape((-1, 4))
        b_logprobs = logprobs.reshape(-1)
        b_actions = actions.reshape(-1)
        b_advantages = advantages.reshape(-1)
        b_returns = returns.reshape(-1)
        b_values = values.reshape(-1)
        b_inds = np.arange(batch)
        stats = np.zeros(5)
        for _ in range(epochs):
            np.random.shuffle(b_inds)
            for s in range(0, batch, mb_size):
                mb = b_inds[s:s + mb_size]
                _, newlogprob, entropy, newvalue = agent.get_action_and_value(b_obs[mb], b_actions.long()[mb])
                ratio = (newlogprob - b_logprobs[mb]).exp()
                mb_adv = b_advantages[mb]
                mb_adv = (mb_adv - mb_adv.mean()) / (mb_adv.std() + 1e-8)
                pg_loss = torch.max(-mb_adv * ratio, -mb_adv * torch.clamp(ratio, 1 - clip, 1 + clip)).mean()
                newvalue = newvalue.view(-1)
                v_unclipped = (newvalue - b_returns[mb]) ** 2
                if a.clip_vloss:
                    v_clipped = b_values[mb] + torch.clamp(newvalue - b_values[mb], -clip, clip)
                    v_loss = 0.5 * torch.max(v_unclipped, (v_clipped - b_returns[mb]) ** 2).mean()
                else:
                    v_loss = 0.5 * v_unclipped.mean()
                loss = pg_loss - ent_coef * entropy.mean() + v_loss * vf_coef
                with torch.no_grad():
                    logratio = newlogprob - b_logprobs[mb]
                    stats += [pg_loss.item(), v_loss.item(), entropy.mean().item(),
                              ((ratio - 1) - logratio).mean().item(),
                              ((ratio - 1.0).abs() > clip).float().mean().item()]
                optimizer.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(agent.parameters(), max_grad)
                optimizer.step()
        if a.verbose and iteration % 10 == 0:
            pg, v, ent, kl, cf = stats / (epochs * minibatches)
            print(f"step {global_step}: pg {pg:.4f} v {v:.4f} entropy {ent:.3f} kl {kl:.4f} "
                  f"clip {cf:.3f}", flush=True)
    seconds = time.time() - start
    last10 = float(np.mean(episode_returns[-10:])) if episode_returns else 0.0
    print(f"ppo_reference steps {global_step} seconds {seconds:.2f} steps_per_s "
          f"{global_step / seconds:.0f} solved_at {solved_at} last10 {last10:.1f}")


if __name__ == "__main__":
    main()
