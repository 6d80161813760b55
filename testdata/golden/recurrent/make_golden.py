#!/usr/bin/python3
"""Writes the PyTorch golden files of trnn's fused LSTM and GRU kernels.

Run with Debian's python3 (python3-torch): /usr/bin/python3 make_golden.py
It writes lstm.json and gru.json next to this script.

Each file is one small case: a 2-layer stack (torch.nn.LSTM / torch.nn.GRU,
num_layers=2) over a right-padded batch with mixed lengths (1 and T
included), run through pack_padded_sequence so padded steps are skipped.
Parameters are drawn in float32 and the whole computation is then done in
float64, so the files hold the exact results for float32 inputs. The loss
reads every output through fixed random coefficients:

    L = sum(ay * y) + sum_l sum(ah[l] * h_n[l]) [+ sum_l sum(ac[l] * c_n[l])]

with y the top layer's output (0 at padded steps). A row of length 0 cannot
go through pack_padded_sequence; the Go test adds one itself.

Parameters and gradients are written in the kernels' (ONNX) layout:
  LSTM: PyTorch gate blocks i, f, g, o -> ONNX i, o, f, c; B = b_ih + b_hh
        (its gradient is that of b_ih, equal to that of b_hh). The sum is
        written in float64 and read by the kernel rounded to float32, a
        difference of ~3e-8, far inside the tolerance.
  GRU:  PyTorch r, z, n -> ONNX z, r, h; B = [b_ih, b_hh] (6H), and
        PyTorch's GRU is ONNX's linear_before_reset = 1.
Arrays are flat, row-major: x, y [B, T, width]; W [G*H, I]; R [G*H, H];
hT, cT [layers][B, H].
"""
import json
import os

import torch

HERE = os.path.dirname(os.path.abspath(__file__))


def blocks(t, perm, h):
    """Reorders the gate blocks (rows of h) of t: ONNX block k = torch block perm[k]."""
    return torch.cat([t[p * h:(p + 1) * h] for p in perm], 0)


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def make(kind, seed, B, T, I, H, lengths, layers=2):
    torch.manual_seed(seed)
    cls = torch.nn.LSTM if kind == "lstm" else torch.nn.GRU
    net = cls(I, H, num_layers=layers, batch_first=True)
    with torch.no_grad():
        for p in net.parameters():
            p.uniform_(-0.7, 0.7)  # float32 values, wider than the default init
    net = net.double()
    x = torch.zeros(B, T, I, dtype=torch.float64)
    for b, l in enumerate(lengths):
        x[b, :l] = torch.rand(l, I).mul(2).sub(1).double()
    x.requires_grad_(True)

    packed = torch.nn.utils.rnn.pack_padded_sequence(x, torch.tensor(lengths), batch_first=True, enforce_sorted=False)
    out, state = net(packed)
    y, _ = torch.nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=T)
    h_n, c_n = state if kind == "lstm" else (state, None)

    def coef(*shape):
        return torch.rand(*shape).mul(2).sub(1).double()  # float32 values

    ay = coef(B, T, H)
    for b, l in enumerate(lengths):
        ay[b, l:] = 0
    ah = coef(layers, B, H)
    loss = (ay * y).sum() + (ah * h_n).sum()
    ac = None
    if c_n is not None:
        ac = coef(layers, B, H)
        loss = loss + (ac * c_n).sum()
    loss.backward()

    perm = [0, 3, 1, 2] if kind == "lstm" else [1, 0, 2]
    params, grads = [], []
    for l in range(layers):
        w_ih, w_hh = getattr(net, f"weight_ih_l{l}"), getattr(net, f"weight_hh_l{l}")
        b_ih, b_hh = getattr(net, f"bias_ih_l{l}"), getattr(net, f"bias_hh_l{l}")
        if kind == "lstm":
            bias, dbias = blocks(b_ih + b_hh, perm, H), blocks(b_ih.grad, perm, H)
        else:
            bias = torch.cat([blocks(b_ih, perm, H), blocks(b_hh, perm, H)])
            dbias = torch.cat([blocks(b_ih.grad, perm, H), blocks(b_hh.grad, perm, H)])
        params.append({"W": flat(blocks(w_ih, perm, H)), "R": flat(blocks(w_hh, perm, H)), "B": flat(bias)})
        grads.append({"W": flat(blocks(w_ih.grad, perm, H)), "R": flat(blocks(w_hh.grad, perm, H)), "B": flat(dbias)})

    case = {
        "source": f"torch {torch.__version__} nn.{cls.__name__}(num_layers={layers}), float64, pack_padded_sequence",
        "kind": kind, "B": B, "T": T, "I": I, "H": H, "layers": layers, "lengths": lengths,
        "x": flat(x), "params": params,
        "ay": flat(ay), "ah": [flat(a) for a in ah], "ac": [flat(a) for a in ac] if ac is not None else None,
        "y": flat(y), "hT": [flat(h) for h in h_n], "cT": [flat(c) for c in c_n] if c_n is not None else None,
        "loss": float(loss),
        "grads": {"x": flat(x.grad), "params": grads},
    }
    path = os.path.join(HERE, f"{kind}.json")
    with open(path, "w") as f:
        json.dump(case, f, separators=(",", ":"))
        f.write("\n")
    print(path, os.path.getsize(path), "bytes")


if __name__ == "__main__":
    make("lstm", 1, B=5, T=6, I=3, H=5, lengths=[4, 1, 6, 3, 6])
    make("gru", 2, B=5, T=6, I=3, H=5, lengths=[2, 6, 1, 5, 6])
