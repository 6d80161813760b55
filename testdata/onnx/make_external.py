#!/usr/bin/python3
"""Builds ONNX sequence classifiers the way a user would outside trnn, with
onnx.helper, and their expected outputs from a plain numpy implementation.

Run with Debian's python3 (onnx 1.12, numpy) from this folder:

    /usr/bin/python3 make_external.py

It writes, for each model NAME:

    NAME.onnx          the model (opset 17, random weights, fixed seed)
    NAME.input.pb      a padded batch x  float32 [N, T, F]   (TensorProto)
    NAME.seq_lens.pb   its lengths       int32   [N]
    NAME.output.pb     the expected probabilities float32 [N, K]

Models (inputs "input" [N, T, F] and "seq_lens" [N], output "output" [N, K]):

  lstm_classifier  Transpose -> LSTM(sequence_lens) -> Squeeze(Y_h) -> Gemm -> Sigmoid
  gru_classifier   Transpose -> GRU(bidirectional, linear_before_reset=1,
                   sequence_lens) -> Transpose(Y_h) -> Reshape [N, 2H] -> Gemm -> Sigmoid
  gru_forward_classifier  Transpose -> GRU(forward, linear_before_reset=0,
                   sequence_lens) -> Squeeze(Y_h) -> MatMul -> Add -> Softmax

The numpy reference follows the ONNX operator equations (gates i, o, f, c
for the LSTM, z, r, h for the GRU) and ONNX Runtime's rule for padded
steps: a row runs only its first len steps (the reverse direction runs
them backwards), Y_h is the state after its last valid step, and a row of
length 0 gives zeros.
"""

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

F, H, K = 5, 8, 3
N, T = 6, 7
LENS = np.array([7, 3, 0, 5, 1, 7], dtype=np.int32)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def lstm_ref(x, lens, W, R, B):
    """x [T, N, I] time-major; W [1, 4H, I], R [1, 4H, H], B [1, 8H]. Returns Y_h [1, N, H]."""
    Hs = R.shape[2]
    w, r = W[0].astype(np.float64), R[0].astype(np.float64)
    b = (B[0, :4 * Hs] + B[0, 4 * Hs:]).astype(np.float64)
    yh = np.zeros((1, x.shape[1], Hs))
    for n in range(x.shape[1]):
        h, c = np.zeros(Hs), np.zeros(Hs)
        for t in range(lens[n]):
            g = w @ x[t, n].astype(np.float64) + r @ h + b
            i, o, f, cc = sigmoid(g[:Hs]), sigmoid(g[Hs:2 * Hs]), sigmoid(g[2 * Hs:3 * Hs]), np.tanh(g[3 * Hs:])
            c = f * c + i * cc
            h = o * np.tanh(c)
        yh[0, n] = h  # zeros for a row of length 0
    return yh


def gru_ref(x, lens, W, R, B, reverse):
    """One direction of a GRU with linear_before_reset = 1; W [3H, I], R [3H, H], B [6H]."""
    Hs = R.shape[1]
    w, r, b = W.astype(np.float64), R.astype(np.float64), B.astype(np.float64)
    wb, rb = b[:3 * Hs], b[3 * Hs:]
    yh = np.zeros((x.shape[1], Hs))
    for n in range(x.shape[1]):
        h = np.zeros(Hs)
        steps = range(lens[n])
        if reverse:
            steps = reversed(steps)
        for t in steps:
            gx = w @ x[t, n].astype(np.float64) + wb
            gh = r @ h + rb
            z = sigmoid(gx[:Hs] + gh[:Hs])
            rr = sigmoid(gx[Hs:2 * Hs] + gh[Hs:2 * Hs])
            hc = np.tanh(gx[2 * Hs:] + rr * gh[2 * Hs:])
            h = (1 - z) * hc + z * h
        yh[n] = h
    return yh


def gru0_ref(x, lens, W, R, B):
    """A forward GRU with linear_before_reset = 0 (ONNX's default): the reset
    gate scales H before R_h multiplies it. W [3H, I], R [3H, H], B [6H]."""
    Hs = R.shape[1]
    w, r, b = W.astype(np.float64), R.astype(np.float64), B.astype(np.float64)
    wb, rb = b[:3 * Hs], b[3 * Hs:]
    yh = np.zeros((x.shape[1], Hs))
    for n in range(x.shape[1]):
        h = np.zeros(Hs)
        for t in range(lens[n]):
            gx = w @ x[t, n].astype(np.float64) + wb
            z = sigmoid(gx[:Hs] + r[:Hs] @ h + rb[:Hs])
            rr = sigmoid(gx[Hs:2 * Hs] + r[Hs:2 * Hs] @ h + rb[Hs:2 * Hs])
            hc = np.tanh(gx[2 * Hs:] + r[2 * Hs:] @ (rr * h) + rb[2 * Hs:])
            h = (1 - z) * hc + z * h
        yh[n] = h
    return yh


def softmax(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def value(name, elem, dims):
    return helper.make_tensor_value_info(name, elem, dims)


def save(name, model, x, lens, out):
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, name + ".onnx")
    for suffix, arr, tname in [("input", x, "input"), ("seq_lens", lens, "seq_lens"), ("output", out, "output")]:
        with open("%s.%s.pb" % (name, suffix), "wb") as f:
            f.write(numpy_helper.from_array(arr, tname).SerializeToString())


def init(name, arr):
    return numpy_helper.from_array(arr, name)


def params(rng, gates, dirs, head_shape):
    """Random W, R, B of a recurrent layer with gates gate blocks in dirs
    directions, then the head's Wd (head_shape) and bd [K], drawn in that
    order."""
    W = rng.uniform(-0.5, 0.5, size=(dirs, gates * H, F)).astype(np.float32)
    R = rng.uniform(-0.5, 0.5, size=(dirs, gates * H, H)).astype(np.float32)
    B = rng.uniform(-0.5, 0.5, size=(dirs, 2 * gates * H)).astype(np.float32)
    Wd = rng.uniform(-1, 1, size=head_shape).astype(np.float32)
    bd = rng.uniform(-1, 1, size=(K,)).astype(np.float32)
    return W, R, B, Wd, bd


def build(name, nodes, weights, extra, x, out):
    """Checks and writes model name: nodes over the inputs input and
    seq_lens, the initializers W, R, B, Wd, bd (weights) and extra, and the
    expected output out for x."""
    inputs = [value("input", TensorProto.FLOAT, ["N", "T", F]), value("seq_lens", TensorProto.INT32, ["N"])]
    outputs = [value("output", TensorProto.FLOAT, ["N", K])]
    inits = [init(n, a) for n, a in zip(["W", "R", "B", "Wd", "bd"], weights)] + [init(n, a) for n, a in extra]
    graph = helper.make_graph(nodes, name, inputs, outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="onnx.helper")
    save(name, model, x, LENS, out)


def main():
    rng = np.random.default_rng(20160502)
    x = rng.uniform(-2, 2, size=(N, T, F)).astype(np.float32)
    for n in range(N):  # padding holds garbage: it must not matter
        x[n, LENS[n]:] = 1e3
    xt = np.transpose(x, (1, 0, 2))
    axes0 = ("axes0", np.array([0], dtype=np.int64))

    # LSTM classifier.
    W, R, B, Wd, bd = weights = params(rng, 4, 1, (K, H))
    nodes = [
        helper.make_node("Transpose", ["input"], ["x_tnf"], name="to_time_major", perm=[1, 0, 2]),
        helper.make_node("LSTM", ["x_tnf", "W", "R", "B", "seq_lens"], ["", "Y_h"], name="lstm", hidden_size=H),
        helper.make_node("Squeeze", ["Y_h", "axes0"], ["h"], name="drop_direction"),
        helper.make_node("Gemm", ["h", "Wd", "bd"], ["logits"], name="dense", transB=1),
        helper.make_node("Sigmoid", ["logits"], ["output"], name="probs"),
    ]
    h = lstm_ref(xt, LENS, W, R, B)[0]
    build("lstm_classifier", nodes, weights, [axes0], x, sigmoid(h @ Wd.T.astype(np.float64) + bd).astype(np.float32))

    # Bidirectional GRU classifier (linear_before_reset = 1, PyTorch's form).
    W, R, B, Wd, bd = weights = params(rng, 3, 2, (K, 2 * H))
    nodes = [
        helper.make_node("Transpose", ["input"], ["x_tnf"], name="to_time_major", perm=[1, 0, 2]),
        helper.make_node("GRU", ["x_tnf", "W", "R", "B", "seq_lens"], ["", "Y_h"], name="gru",
                         hidden_size=H, direction="bidirectional", linear_before_reset=1),
        helper.make_node("Transpose", ["Y_h"], ["h_n2h"], name="batch_first", perm=[1, 0, 2]),
        helper.make_node("Reshape", ["h_n2h", "flat_shape"], ["h"], name="concat_directions"),
        helper.make_node("Gemm", ["h", "Wd", "bd"], ["logits"], name="dense", transB=1),
        helper.make_node("Sigmoid", ["logits"], ["output"], name="probs"),
    ]
    fw = gru_ref(xt, LENS, W[0], R[0], B[0], reverse=False)
    bw = gru_ref(xt, LENS, W[1], R[1], B[1], reverse=True)
    h = np.concatenate([fw, bw], axis=1)
    build("gru_classifier", nodes, weights, [("flat_shape", np.array([0, -1], dtype=np.int64))], x,
          sigmoid(h @ Wd.T.astype(np.float64) + bd).astype(np.float32))

    # Forward GRU classifier (linear_before_reset = 0), MatMul + Add head.
    W, R, B, Wd, bd = weights = params(rng, 3, 1, (H, K))
    nodes = [
        helper.make_node("Transpose", ["input"], ["x_tnf"], name="to_time_major", perm=[1, 0, 2]),
        helper.make_node("GRU", ["x_tnf", "W", "R", "B", "seq_lens"], ["", "Y_h"], name="gru", hidden_size=H),
        helper.make_node("Squeeze", ["Y_h", "axes0"], ["h"], name="drop_direction"),
        helper.make_node("MatMul", ["h", "Wd"], ["hw"], name="dense"),
        helper.make_node("Add", ["hw", "bd"], ["logits"], name="dense_bias"),
        helper.make_node("Softmax", ["logits"], ["output"], name="probs", axis=-1),
    ]
    h = gru0_ref(xt, LENS, W[0], R[0], B[0])
    build("gru_forward_classifier", nodes, weights, [axes0], x, softmax(h @ Wd.astype(np.float64) + bd).astype(np.float32))


if __name__ == "__main__":
    main()
