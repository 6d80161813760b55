#!/usr/bin/env python3
"""Writes optim.json: parameter trajectories of torch.optim.SGD, Adam and AdamW
over a few steps with fixed gradients, the reference for runtime's optimizer
tests. Run with Debian's python3 (python3-torch)."""
import json
import numpy as np
import torch

rng = np.random.default_rng(7)
p0 = rng.standard_normal(6).astype(np.float32)
grads = rng.standard_normal((5, 6)).astype(np.float32)
cases = [
    ("sgd", dict(lr=0.1, momentum=0.0, weight_decay=0.0)),
    ("sgd", dict(lr=0.1, momentum=0.9, weight_decay=0.01)),
    ("adam", dict(lr=0.01, weight_decay=0.0)),
    ("adam", dict(lr=0.01, weight_decay=0.1)),
    ("adamw", dict(lr=0.01, weight_decay=0.1)),
]
out = {"p0": p0.tolist(), "grads": grads.tolist(), "cases": []}
for kind, kw in cases:
    p = torch.nn.Parameter(torch.tensor(p0))
    opt = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[kind]([p], **kw)
    traj = []
    for g in grads:
        opt.zero_grad()
        p.grad = torch.tensor(g)
        opt.step()
        traj.append(p.detach().numpy().astype(np.float32).tolist())
    out["cases"].append({"kind": kind, "lr": kw["lr"], "momentum": kw.get("momentum", 0.0),
                         "weight_decay": kw["weight_decay"], "params": traj})
with open("optim.json", "w") as f:
    json.dump(out, f, indent=1)
