#!/usr/bin/python3
"""Writes tr_golden.json: the target-replication loss and its gradient
computed by PyTorch (torch.nn.functional.binary_cross_entropy_with_logits,
float64 autograd) for small padded batches. Run from this folder with
Debian's python3-torch:

    /usr/bin/python3 gen_tr.py

Each case holds padded logits [B, T, K] (float32 values; padded steps are 0
here, the Go test overwrites them with NaN), lengths [B] (non-increasing),
labels y [B, K], optional sequence weights w [B] and pos_weight [K], alpha and
the averaging, and the expected outputs: total = sum_b w_b L_b, per_seq L_b,
final_bce (final-step BCE, no weights), grad = d total / d logits [B, T, K].
"""
import json

import numpy as np
import torch
import torch.nn.functional as F


def step_gains(average, T):
    if average == "all_steps":
        return [1.0 / T] * T
    if average == "exclude_final":
        if T == 1:
            return [1.0]
        return [1.0 / (T - 1)] * (T - 1) + [0.0]
    if average == "linear_gain":
        s = T * (T + 1) / 2.0
        return [(t + 1) / s for t in range(T)]
    raise ValueError(average)


def case(name, rng, lengths, K, alpha, average, w=None, pos_weight=None, scale=2.0, logits=None):
    B, T = len(lengths), max(lengths)
    if logits is None:
        logits = (rng.standard_normal((B, T, K)) * scale).astype(np.float32)
    logits = np.asarray(logits, dtype=np.float32)
    for b, l in enumerate(lengths):
        logits[b, l:, :] = 0
    y = (rng.random((B, K)) < 0.5).astype(np.float32)
    y[0, 0] = 1  # both classes present in the first label
    y[-1, 0] = 0
    z = torch.tensor(logits.astype(np.float64), requires_grad=True)
    yt = torch.tensor(y.astype(np.float64))
    pw = None if pos_weight is None else torch.tensor(pos_weight, dtype=torch.float64)
    total = torch.zeros((), dtype=torch.float64)
    per_seq, final_bce = [], []
    for b, l in enumerate(lengths):
        zb = z[b, :l, :]                       # [T_b, K] valid steps only
        yb = yt[b].expand(l, K)
        steps = F.binary_cross_entropy_with_logits(zb, yb, pos_weight=pw, reduction="none").mean(dim=1)
        g = torch.tensor(step_gains(average, l), dtype=torch.float64)
        L = alpha * (g * steps).sum() + (1 - alpha) * steps[l - 1]
        wb = 1.0 if w is None else w[b]
        total = total + wb * L
        per_seq.append(L.item())
        final_bce.append(F.binary_cross_entropy_with_logits(zb[l - 1], yt[b]).item())
    total.backward()
    return {
        "name": name, "lengths": lengths, "K": K, "alpha": alpha, "average": average,
        "w": w, "pos_weight": pos_weight,
        "logits": logits.reshape(-1).astype(np.float64).tolist(),
        "y": y.reshape(-1).astype(np.float64).tolist(),
        "total": total.item(), "per_seq": per_seq, "final_bce": final_bce,
        "grad": z.grad.numpy().reshape(-1).tolist(),
    }


def main():
    rng = np.random.default_rng(20160502)
    cases = [
        case("binary_all_steps_class_weight", rng, [4, 3, 3, 1], 1, 0.5, "all_steps", w=[0.5, 4.0, 0.5, 4.0]),
        case("multilabel_exclude_final_pos_weight", rng, [5, 2, 1], 3, 0.3, "exclude_final", pos_weight=[2.0, 1.0, 3.5]),
        case("linear_gain", rng, [4, 4, 2, 1, 1], 2, 0.7, "linear_gain"),
        case("alpha0", rng, [6, 3, 2], 2, 0.0, "all_steps", w=[1.5, 0.25, 2.0]),
        case("alpha1_exclude_final", rng, [3, 2, 1], 2, 1.0, "exclude_final"),
        case("alpha1_linear_gain_pos_weight", rng, [7, 5, 5, 2], 4, 1.0, "linear_gain", pos_weight=[0.5, 3.0, 1.0, 8.0]),
        case("large_logits", rng, [3, 2], 2, 0.5, "all_steps", scale=1e4),
    ]
    with open("tr_golden.json", "w") as f:
        json.dump({"source": "PyTorch %s, binary_cross_entropy_with_logits in float64" % torch.__version__,
                   "cases": cases}, f, indent=1)


if __name__ == "__main__":
    main()
