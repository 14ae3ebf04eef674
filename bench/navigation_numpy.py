#!/usr/bin/python3
"""Navigation-v0's dynamics vectorised in numpy: the same-run reference for
bench/swarm_bench's env figures (docs/benchmarks.md, "Swarm navigation").

E envs of N agents stepped as one batch (numpy's best case: the per-call
overhead spread over E x N agents), random forces, no obstacles: Euler double integrator
(dt 0.03, mass 0.1, velocity clipped to +-0.5 per axis), all-pairs distances
for collisions (< 0.1) and sensing (< 0.5), the K = 8 nearest sensed agents'
relative states as the observation, progress reward, goal checks. Prints
`agents N envs E agent_steps_per_s X`.

    /usr/bin/python3 bench/navigation_numpy.py --agents 32 --envs 256 --seconds 2
"""
import argparse
import time

import numpy as np


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--agents", type=int, default=32)
    p.add_argument("--seconds", type=float, default=2.0)
    p.add_argument("--envs", type=int, default=256)
    p.add_argument("--observations", type=int, default=1,
                   help="1: build the K-nearest observation as the C++ env does; 0: dynamics, "
                        "collisions, rewards and goal checks only")
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    n, e, k = a.agents, a.envs, 8
    rng = np.random.default_rng(a.seed)
    side = 4.0 * np.sqrt(n / 8.0)
    dt, inv_m, vmax = 0.03, 10.0, 0.5
    pos = rng.uniform(0, side, (e, n, 2)).astype(np.float32)
    vel = np.zeros((e, n, 2), np.float32)
    goal = rng.uniform(0, side, (e, n, 2)).astype(np.float32)
    dist = np.linalg.norm(goal - pos, axis=2)
    actions = rng.uniform(-1, 1, (16, e, n, 2)).astype(np.float32)
    eye = np.eye(n, dtype=bool)[None]
    kk = min(k, n - 1)
    steps = 0
    start = time.perf_counter()
    while time.perf_counter() - start < a.seconds:
        for t in range(16):
            u = actions[t]
            pos += vel * dt
            vel = np.clip(vel + u * inv_m * dt, -vmax, vmax)
            rel = pos[:, None, :, :] - pos[:, :, None, :]       # [e, i, j] = p_j - p_i
            d2 = np.einsum("eijk,eijk->eij", rel, rel)
            d2 = np.where(eye, np.inf, d2)
            collide = (d2 < 0.01).any(axis=2)
            g = goal - pos
            d = np.linalg.norm(g, axis=2)
            reward = 10.0 * (dist - d) - 0.01 * (u * u).sum(axis=2) - 0.5 * collide
            dist = d
            if not a.observations:
                _ = (reward, d < 0.1)
                continue
            sensed = d2 < 0.25
            nearest = np.argpartition(d2, kk - 1, axis=2)[:, :, :kk]
            valid = np.take_along_axis(sensed, nearest, axis=2)
            rel_p = np.take_along_axis(rel, nearest[..., None], axis=2)
            vel_j = np.take_along_axis(vel[:, None, :, :].repeat(n, axis=1), nearest[..., None], axis=2)
            rel_v = vel_j - vel[:, :, None, :]
            slots = np.concatenate([valid[..., None], rel_p / 0.5, rel_v / 0.5], axis=3) * valid[..., None]
            ego = np.concatenate([g / 0.5, vel / 0.5, np.minimum(d, 2.0)[..., None] / 2], axis=2)
            obs = np.concatenate([ego, slots.reshape(e, n, -1)], axis=2)
            _ = (obs, reward, d < 0.1)
        steps += 16
    elapsed = time.perf_counter() - start
    print(f"agents {n} envs {e} observations {a.observations} agent_steps_per_s {steps * n * e / elapsed:.0f}")


if __name__ == "__main__":
    main()
