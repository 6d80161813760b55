#!/usr/bin/python3
"""Exports the corpus of sequence models the Go runtime must run: the
architectures people train in PyTorch and hand to a Go service, exported by
torch.onnx.export as a user would, with PyTorch's own outputs.

Run with Debian's python3 (python3-torch 1.13, python3-onnx) from the
module root:

    /usr/bin/python3 testdata/python/make_corpus.py

For each model NAME it writes, in the layout of ONNX's test data:

    testdata/corpus/NAME/model.onnx
    testdata/corpus/NAME/test_data_set_0/input_0.pb, input_1.pb, ...
    testdata/corpus/NAME/test_data_set_0/output_0.pb, ...

Inputs and outputs are TensorProto files named after the graph's inputs and
outputs, in the graph's order. Weights and inputs are seeded, so a rerun
writes the same tensors (the .onnx bytes may differ between PyTorch builds).

Conventions the Go tests rely on:
  - a float input x is [batch, time, features] (or [time, batch, features]
    when its axes are named so), zero-padded after each row's length, and
    the longest row fills the time axis, so that feeding the rows one by one
    (trnn predict) gives the same answers as the padded batch;
  - a model without a lengths input gets rows of full length;
  - dynamic axes are named "batch" and "time".
"""

import os
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as fn
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "corpus")
F = 6  # features per step
B = 8  # rows per batch
T = 10  # steps


def rows(seed, full=False, batch=B, steps=T, feats=F):
    """A padded batch x [batch, steps, feats] and its lengths (int64): the
    first row is full length; padding is zero."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, steps, feats)).astype(np.float32)
    if full:
        lengths = np.full(batch, steps, dtype=np.int64)
    else:
        lengths = rng.integers(1, steps + 1, size=batch).astype(np.int64)
        lengths[0] = steps
    for b, n in enumerate(lengths):
        x[b, n:] = 0
    return x, lengths


def last_valid(y, lengths):
    """y [batch, time, H] at each row's last valid step."""
    idx = (lengths - 1).view(-1, 1, 1).expand(-1, 1, y.size(2))
    return y.gather(1, idx).squeeze(1)


def valid_mask(lengths, steps):
    """[batch, time] bool, True at valid steps."""
    return torch.arange(steps).unsqueeze(0) < lengths.unsqueeze(1)


# ---------------------------------------------------------------------------
# Recurrent models.


class LSTMPaddedEnd(nn.Module):
    """LSTM, prediction from the padded end y[:, -1]; sigmoid head."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(F, 16, batch_first=True)
        self.head = nn.Linear(16, 3)

    def forward(self, x):
        y, _ = self.rnn(x)
        return torch.sigmoid(self.head(y[:, -1]))


class LSTMStackedHn(nn.Module):
    """Two stacked LSTM layers, prediction from h_n of the top layer; softmax."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(F, 16, num_layers=2, batch_first=True)
        self.head = nn.Linear(16, 4)

    def forward(self, x):
        _, (h, _) = self.rnn(x)
        return torch.softmax(self.head(h[-1]), dim=-1)


class LSTMStackedDynamic(nn.Module):
    """Three stacked LSTM layers on a dynamic batch, prediction from h_n of
    the top layer; sigmoid. The export sizes the initial states' zeros from
    x (ConstantOfShape, then a Slice for each layer) and concatenates every
    layer's Y_h into h_n, which h[-1] reads with a Gather."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(F, 16, num_layers=3, batch_first=True)
        self.head = nn.Linear(16, 2)

    def forward(self, x):
        _, (h, _) = self.rnn(x)
        return torch.sigmoid(self.head(h[-1]))


class LSTMBidirGather(nn.Module):
    """Bidirectional LSTM, outputs gathered at lengths − 1; sigmoid."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(F, 12, batch_first=True, bidirectional=True)
        self.head = nn.Linear(24, 2)

    def forward(self, x, lengths):
        y, _ = self.rnn(x)
        return torch.sigmoid(self.head(last_valid(y, lengths)))


class LSTMPackedHn(nn.Module):
    """pack_padded_sequence before the LSTM, prediction from h_n; log-softmax."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(F, 16, batch_first=True)
        self.head = nn.Linear(16, 3)

    def forward(self, x, lengths):
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        # Zero states sized from x: without them the export fixes the batch.
        h0 = x.new_zeros(1, x.size(0), 16)
        _, (h, _) = self.rnn(packed, (h0, h0))
        return torch.log_softmax(self.head(h[-1]), dim=-1)


class LSTMInitialStates(nn.Module):
    """LSTM whose initial states are inputs; returns y, h_n and c_n."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(F, 8, num_layers=2, batch_first=True)

    def forward(self, x, h0, c0):
        y, (h, c) = self.rnn(x, (h0, c0))
        return y, h, c


class GRUTimeMajor(nn.Module):
    """Two stacked GRU layers on time-major input [time, batch, F], the last
    step; log-softmax."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.GRU(F, 16, num_layers=2)
        self.head = nn.Linear(16, 3)

    def forward(self, x):
        y, _ = self.rnn(x)
        return torch.log_softmax(self.head(y[-1]), dim=-1)


class GRUBidirMeanPool(nn.Module):
    """Bidirectional GRU, mean over each row's valid steps; sigmoid."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.GRU(F, 10, batch_first=True, bidirectional=True)
        self.head = nn.Linear(20, 1)

    def forward(self, x, lengths):
        y, _ = self.rnn(x)
        m = valid_mask(lengths, x.size(1)).unsqueeze(-1).to(y.dtype)
        pooled = (y * m).sum(1) / lengths.unsqueeze(1).to(y.dtype)
        return torch.sigmoid(self.head(pooled))


class GRUInitialState(nn.Module):
    """GRU with a learned initial state broadcast over the batch; softmax."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.GRU(F, 12, batch_first=True)
        self.h0 = nn.Parameter(torch.randn(1, 1, 12) * 0.5)
        self.head = nn.Linear(12, 4)

    def forward(self, x, lengths):
        h0 = self.h0.expand(1, x.size(0), 12).contiguous()
        y, _ = self.rnn(x, h0)
        return torch.softmax(self.head(last_valid(y, lengths)), dim=-1)


# ---------------------------------------------------------------------------
# Convolutional front ends.


class ConvMaxPoolLSTM(nn.Module):
    """Conv1d + ReLU + MaxPool1d front end before an LSTM; sigmoid."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(F, 16, kernel_size=3, padding=1)
        self.pool = nn.MaxPool1d(2)
        self.rnn = nn.LSTM(16, 16, batch_first=True)
        self.head = nn.Linear(16, 2)

    def forward(self, x):
        z = self.pool(torch.relu(self.conv(x.transpose(1, 2))))
        _, (h, _) = self.rnn(z.transpose(1, 2))
        return torch.sigmoid(self.head(h[-1]))


class ConvAvgPoolGAP(nn.Module):
    """Dilated Conv1d + BatchNorm + AvgPool1d (padding counted), a grouped
    strided Conv1d, global average pooling; softmax."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv1d(F, 16, kernel_size=3, dilation=2, padding=2)
        self.bn = nn.BatchNorm1d(16)
        self.pool = nn.AvgPool1d(3, stride=2, padding=1, count_include_pad=True)
        self.conv2 = nn.Conv1d(16, 16, kernel_size=3, stride=2, groups=4)
        self.gap = nn.AdaptiveAvgPool1d(1)
        self.head = nn.Linear(16, 3)
        with torch.no_grad():
            self.bn.running_mean.uniform_(-0.5, 0.5)
            self.bn.running_var.uniform_(0.5, 2.0)

    def forward(self, x):
        z = self.pool(torch.relu(self.bn(self.conv1(x.transpose(1, 2)))))
        z = self.gap(torch.relu(self.conv2(z))).squeeze(-1)
        return torch.softmax(self.head(z), dim=-1)


class Conv2dSpectrogram(nn.Module):
    """A 2-D convolution over (time, feature) with zero padding, max and
    average pooling, then a GRU over time; sigmoid."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, kernel_size=(3, 3), padding=1)
        self.pool = nn.MaxPool2d((1, 2))
        self.avg = nn.AvgPool2d((1, 3), stride=(1, 3))
        self.rnn = nn.GRU(4, 8, batch_first=True)
        self.head = nn.Linear(8, 1)

    def forward(self, x):
        z = torch.relu(self.conv(x.unsqueeze(1)))  # [B, 4, T, F]
        z = self.avg(self.pool(z))  # [B, 4, T, 1]
        _, h = self.rnn(z.squeeze(-1).transpose(1, 2))
        return torch.sigmoid(self.head(h[-1]))


# ---------------------------------------------------------------------------
# Attention.


class TransformerGELU(nn.Module):
    """A Transformer encoder layer (attention, LayerNorm, GELU) with the key
    padding mask built from the lengths, masked mean pooling; sigmoid."""

    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(F, 16)
        # batch_first=False keeps PyTorch off its fused inference path, so
        # the reference runs the same operations the export records.
        self.enc = nn.TransformerEncoderLayer(16, 2, dim_feedforward=32, dropout=0.0, activation="gelu")
        self.head = nn.Linear(16, 2)

    def forward(self, x, lengths):
        pad = ~valid_mask(lengths, x.size(1))
        z = self.enc(self.proj(x).transpose(0, 1), src_key_padding_mask=pad).transpose(0, 1)
        m = (~pad).unsqueeze(-1).to(z.dtype)
        pooled = (z * m).sum(1) / lengths.unsqueeze(1).to(z.dtype)
        return torch.sigmoid(self.head(pooled))


class TransformerReLUFirst(nn.Module):
    """A pre-norm Transformer encoder layer with ReLU and a learned position
    table, no mask, predicting from the first step; log-softmax."""

    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(F, 16)
        self.pos = nn.Parameter(torch.randn(T, 16) * 0.1)
        self.enc = nn.TransformerEncoderLayer(16, 4, dim_feedforward=32, dropout=0.0, norm_first=True)
        self.head = nn.Linear(16, 3)

    def forward(self, x):
        z = self.proj(x) + self.pos[: x.size(1)]
        z = self.enc(z.transpose(0, 1))
        return torch.log_softmax(self.head(z[0]), dim=-1)


# ---------------------------------------------------------------------------
# Event codes.


class EmbeddingLSTM(nn.Module):
    """Event codes through an Embedding, an LSTM, gathered at lengths − 1;
    sigmoid."""

    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(40, 8, padding_idx=0)
        self.rnn = nn.LSTM(8, 16, batch_first=True)
        self.head = nn.Linear(16, 2)

    def forward(self, codes, lengths):
        y, _ = self.rnn(self.emb(codes))
        return torch.sigmoid(self.head(last_valid(y, lengths)))


class EmbeddingFeaturesGRU(nn.Module):
    """Event codes embedded and concatenated with numeric features, a GRU,
    the argmax class and its softmax probabilities."""

    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(30, 4)
        self.rnn = nn.GRU(F + 4, 16, batch_first=True)
        self.head = nn.Linear(16, 5)

    def forward(self, x, codes, lengths):
        z = torch.cat([x, self.emb(codes)], dim=-1)
        y, _ = self.rnn(z)
        p = torch.softmax(self.head(last_valid(y, lengths)), dim=-1)
        return p, p.argmax(dim=-1)


# ---------------------------------------------------------------------------
# Control flow: a masked LSTM written as a loop over steps (what Keras'
# masked LSTMs become in ONNX), scripted so that the export records Loop and
# If nodes with their subgraphs.


class MaskedLSTMLoop(nn.Module):
    """An LSTM cell run step by step; a masked step keeps the state, as
    Keras' Masking does. The head differs with the batch's longest row."""

    def __init__(self):
        super().__init__()
        self.cell = nn.LSTMCell(F, 12)
        self.head = nn.Linear(12, 2)
        self.alt = nn.Linear(12, 2)

    def forward(self, x, lengths):
        h = torch.zeros(x.size(0), 12)
        c = torch.zeros(x.size(0), 12)
        for t in range(x.size(1)):
            m = (lengths > t).unsqueeze(1)
            h2, c2 = self.cell(x[:, t], (h, c))
            h = torch.where(m, h2, h)
            c = torch.where(m, c2, c)
        if x.size(1) > 4:
            out = self.head(h)
        else:
            out = self.alt(h)
        return torch.sigmoid(out)


class MaskedBiGRUCells(nn.Module):
    """The reference of scan_masked_gru: a forward and a reverse GRU cell run
    step by step, a masked step keeping the state."""

    def __init__(self):
        super().__init__()
        self.fwd = nn.GRUCell(F, 10)
        self.bwd = nn.GRUCell(F, 10)
        self.head = nn.Linear(20, 2)

    def forward(self, x, lengths):
        B, T = x.size(0), x.size(1)
        h, g = torch.zeros(B, 10), torch.zeros(B, 10)
        states = []
        for t in range(T):
            m = (lengths > t).unsqueeze(1).to(x.dtype)
            h = h + m * (self.fwd(x[:, t], h) - h)
            states.append(h)
        for t in reversed(range(T)):
            m = (lengths > t).unsqueeze(1).to(x.dtype)
            g = g + m * (self.bwd(x[:, t], g) - g)
        probs = torch.sigmoid(self.head(torch.cat([h, g], dim=1)))
        return probs, torch.stack(states, dim=1)


def scan_masked_gru(model, path, opset):
    """Builds with onnx.helper what converters emit for a masked
    bidirectional GRU written as a step loop (Keras' Masking layer): two
    Scan nodes over x [batch, time, F] along axis 1 with the mask, the
    second reversed, whose bodies are the GRU cell equations reading the
    weights from the enclosing graph."""
    H = 10
    inits = [numpy_helper.from_array(v, k) for k, v in {
        "head_W": model.head.weight.detach().numpy(), "head_b": model.head.bias.detach().numpy(),
        "zero": np.array([0], dtype=np.int64), "one": np.array([1], dtype=np.int64),
        "axis1": np.array([1], dtype=np.int64), "axis2": np.array([2], dtype=np.int64),
        "start0": np.array(0, dtype=np.int64), "step1": np.array(1, dtype=np.int64),
    }.items()]
    for tag, cell in (("f", model.fwd), ("b", model.bwd)):
        inits += [numpy_helper.from_array(cell.weight_ih.detach().numpy().T.copy(), tag + "_Wi"),
                  numpy_helper.from_array(cell.weight_hh.detach().numpy().T.copy(), tag + "_Wh"),
                  numpy_helper.from_array(cell.bias_ih.detach().numpy(), tag + "_bi"),
                  numpy_helper.from_array(cell.bias_hh.detach().numpy(), tag + "_bh")]
        for g, (a, b) in enumerate(((0, H), (H, 2 * H), (2 * H, 3 * H))):
            inits += [numpy_helper.from_array(np.array([a], dtype=np.int64), "%s_s%d" % (tag, g)),
                      numpy_helper.from_array(np.array([b], dtype=np.int64), "%s_e%d" % (tag, g))]
    nodes = [
        helper.make_node("Shape", ["x"], ["x_shape"]),
        helper.make_node("Gather", ["x_shape", "one"], ["T1"], axis=0),
        helper.make_node("Squeeze", ["T1", "zero"], ["T"]),
        helper.make_node("Gather", ["x_shape", "zero"], ["B1"], axis=0),
        helper.make_node("Range", ["start0", "T", "step1"], ["steps"]),
        helper.make_node("Unsqueeze", ["steps", "zero"], ["steps_row"]),
        helper.make_node("Unsqueeze", ["lengths", "axis1"], ["len_col"]),
        helper.make_node("Less", ["steps_row", "len_col"], ["valid"]),
        helper.make_node("Cast", ["valid"], ["valid_f"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["valid_f", "axis2"], ["mask"]),
        # h0 = zeros [B, H], built as Expand of a scalar.
        helper.make_node("Constant", [], ["h0_dim"], value=numpy_helper.from_array(np.array([H], dtype=np.int64))),
        helper.make_node("Concat", ["B1", "h0_dim"], ["h0_dims"], axis=0),
        helper.make_node("Constant", [], ["zero_f"], value=numpy_helper.from_array(np.array(0, dtype=np.float32))),
        helper.make_node("Expand", ["zero_f", "h0_dims"], ["h0"]),
        helper.make_node("Scan", ["h0", "x", "mask"], ["h_f", "states"], body=gru_body("f", H), num_scan_inputs=2,
                         scan_input_axes=[1, 1], scan_output_axes=[1]),
        helper.make_node("Scan", ["h0", "x", "mask"], ["h_b", "states_b"], body=gru_body("b", H), num_scan_inputs=2,
                         scan_input_axes=[1, 1], scan_input_directions=[1, 1], scan_output_directions=[1]),
        helper.make_node("Concat", ["h_f", "h_b"], ["h_cat"], axis=1),
        helper.make_node("Gemm", ["h_cat", "head_W", "head_b"], ["logits"], transB=1),
        helper.make_node("Sigmoid", ["logits"], ["probs"]),
    ]
    g = helper.make_graph(nodes, "scan_masked_gru", [
        helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "time", F]),
        helper.make_tensor_value_info("lengths", TensorProto.INT64, ["batch"]),
    ], [
        helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["batch", 2]),
        helper.make_tensor_value_info("states", TensorProto.FLOAT, ["batch", "time", H]),
    ], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], producer_name="make_corpus.py")
    onnx.save(m, path)


def gru_body(tag, H):
    """One masked GRU step: (h, x_t, m_t) -> (h', h'), PyTorch's gate order
    r, z, n. The weights tag_* and the constant "one" are read from the
    enclosing graph; the body's own names start with tag/, since ONNX
    names are unique across a model and its subgraphs."""
    def v(name):
        return tag + "/" + name

    def node(op, ins, out):
        return helper.make_node(op, [i if i.startswith(tag + "_") or i == "one" else v(i) for i in ins], [v(out)])

    def gate(src, g):
        return helper.make_node("Slice", [v(src), "%s_s%d" % (tag, g), "%s_e%d" % (tag, g), "one"], [v("%s%d" % (src, g))])

    n = [
        node("MatMul", ["x_t", tag + "_Wi"], "xi"),
        node("Add", ["xi", tag + "_bi"], "gi"),
        node("MatMul", ["h_in", tag + "_Wh"], "hh"),
        node("Add", ["hh", tag + "_bh"], "gh"),
    ]
    n += [gate(src, g) for src in ("gi", "gh") for g in range(3)]
    n += [
        node("Add", ["gi0", "gh0"], "r_pre"),
        node("Sigmoid", ["r_pre"], "r"),
        node("Add", ["gi1", "gh1"], "z_pre"),
        node("Sigmoid", ["z_pre"], "z"),
        node("Mul", ["r", "gh2"], "rh"),
        node("Add", ["gi2", "rh"], "n_pre"),
        node("Tanh", ["n_pre"], "n"),
        node("Sub", ["h_in", "n"], "h_minus_n"),
        node("Mul", ["z", "h_minus_n"], "z_h_minus_n"),
        node("Add", ["n", "z_h_minus_n"], "h_cell"),
        node("Sub", ["h_cell", "h_in"], "delta"),
        node("Mul", ["m_t", "delta"], "masked"),
        node("Add", ["h_in", "masked"], "h_out"),
        node("Identity", ["h_out"], "y_t"),
    ]
    return helper.make_graph(n, tag + "_gru_step", [
        helper.make_tensor_value_info(v("h_in"), TensorProto.FLOAT, ["batch", H]),
        helper.make_tensor_value_info(v("x_t"), TensorProto.FLOAT, ["batch", F]),
        helper.make_tensor_value_info(v("m_t"), TensorProto.FLOAT, ["batch", 1]),
    ], [
        helper.make_tensor_value_info(v("h_out"), TensorProto.FLOAT, ["batch", H]),
        helper.make_tensor_value_info(v("y_t"), TensorProto.FLOAT, ["batch", H]),
    ])


# ---------------------------------------------------------------------------
# The list: name, module, opset, input names and arrays, output names,
# dynamic axes (None: every axis fixed).

DYN = {0: "batch", 1: "time"}


def corpus():
    x, lens = rows(1)
    xf, _ = rows(2, full=True)
    codes_rng = np.random.default_rng(3)
    codes = codes_rng.integers(1, 40, size=(B, T)).astype(np.int64)
    for b, n in enumerate(lens):
        codes[b, n:] = 0
    xs, _ = rows(4, full=True)
    h0 = np.random.default_rng(5).standard_normal((2, B, 8)).astype(np.float32)
    c0 = np.random.default_rng(6).standard_normal((2, B, 8)).astype(np.float32)
    codes2 = np.random.default_rng(7).integers(0, 30, size=(B, T)).astype(np.int64)
    return [
        ("lstm_padded_end", LSTMPaddedEnd, 14, {"x": xf}, ["probs"], {"x": DYN}),
        ("lstm_stacked_hn", LSTMStackedHn, 15, {"x": xs}, ["probs"], None),
        ("lstm_bidir_gather", LSTMBidirGather, 17, {"x": x, "lengths": lens}, ["probs"],
         {"x": DYN, "lengths": {0: "batch"}}),
        ("lstm_packed_hn", LSTMPackedHn, 16, {"x": x, "lengths": lens}, ["log_probs"],
         {"x": DYN, "lengths": {0: "batch"}}),
        ("lstm_initial_states", LSTMInitialStates, 14, {"x": x, "h0": h0, "c0": c0}, ["y", "h_n", "c_n"],
         {"x": DYN, "h0": {1: "batch"}, "c0": {1: "batch"}}),
        ("gru_time_major", GRUTimeMajor, 17, {"x": np.ascontiguousarray(xf.transpose(1, 0, 2))}, ["log_probs"],
         {"x": {0: "time", 1: "batch"}}),
        ("gru_bidir_mean", GRUBidirMeanPool, 15, {"x": x, "lengths": lens}, ["probs"],
         {"x": DYN, "lengths": {0: "batch"}}),
        ("gru_initial_state", GRUInitialState, 16, {"x": x, "lengths": lens}, ["probs"],
         {"x": {0: "batch"}, "lengths": {0: "batch"}}),
        ("conv1d_maxpool_lstm", ConvMaxPoolLSTM, 17, {"x": xf}, ["probs"], {"x": DYN}),
        ("conv1d_avgpool_gap", ConvAvgPoolGAP, 14, {"x": xf}, ["probs"], {"x": {0: "batch"}}),
        ("conv2d_pool_gru", Conv2dSpectrogram, 17, {"x": xf}, ["probs"], {"x": DYN}),
        ("transformer_gelu", TransformerGELU, 17, {"x": x, "lengths": lens}, ["probs"],
         {"x": DYN, "lengths": {0: "batch"}}),
        ("transformer_relu_first", TransformerReLUFirst, 16, {"x": xf}, ["log_probs"], {"x": {0: "batch"}}),
        ("embedding_lstm", EmbeddingLSTM, 15, {"codes": codes, "lengths": lens}, ["probs"],
         {"codes": DYN, "lengths": {0: "batch"}}),
        ("embedding_features_gru", EmbeddingFeaturesGRU, 17, {"x": x, "codes": codes2, "lengths": lens},
         ["probs", "class"], {"x": DYN, "codes": DYN, "lengths": {0: "batch"}}),
        ("masked_lstm_loop", MaskedLSTMLoop, 16, {"x": x, "lengths": lens}, ["probs"],
         {"x": DYN, "lengths": {0: "batch"}}),
        ("scan_masked_gru", MaskedBiGRUCells, 14, {"x": x, "lengths": lens}, ["probs", "states"],
         {"x": DYN, "lengths": {0: "batch"}}),
        ("lstm_stacked_dynamic", LSTMStackedDynamic, 17, {"x": xf}, ["probs"], {"x": DYN}),
    ]


def export(name, cls, opset, inputs, outputs, dynamic, seed):
    torch.manual_seed(seed)
    model = cls().eval()
    if name == "masked_lstm_loop":
        model = torch.jit.script(model)
    args = tuple(torch.from_numpy(v) for v in inputs.values())
    with torch.no_grad():
        want = model(*args)
    if not isinstance(want, tuple):
        want = (want,)
    d = os.path.join(ROOT, name)
    s = os.path.join(d, "test_data_set_0")
    os.makedirs(s, exist_ok=True)
    path = os.path.join(d, "model.onnx")
    if name == "scan_masked_gru":
        scan_masked_gru(model, path, opset)
    else:
        torch.onnx.export(model, args, path, opset_version=opset, input_names=list(inputs),
                          output_names=outputs, dynamic_axes=dynamic)
    m = onnx.load(path)
    if name == "masked_lstm_loop":
        # Scripting loses the head's static width, which a consumer reads
        # the label count from; declare the output as tracing would.
        dims = m.graph.output[0].type.tensor_type.shape.dim
        dims[0].dim_param, dims[1].dim_value = "batch", want[0].shape[1]
        onnx.save(m, path)
    onnx.checker.check_model(m, full_check=True)
    for i, (k, v) in enumerate(inputs.items()):
        write_pb(os.path.join(s, "input_%d.pb" % i), k, v)
    for i, (k, v) in enumerate(zip(outputs, want)):
        write_pb(os.path.join(s, "output_%d.pb" % i), k, v.numpy())
    ops = sorted({n.op_type for n in m.graph.node} | {n.op_type for g in subgraphs(m.graph) for n in g.node})
    print("%-24s opset %d  %6d bytes  %s" % (name, opset, os.path.getsize(path), " ".join(ops)))


def subgraphs(g):
    for n in g.node:
        for a in n.attribute:
            if a.type == onnx.AttributeProto.GRAPH:
                yield a.g
                yield from subgraphs(a.g)


def write_pb(path, name, arr):
    with open(path, "wb") as f:
        f.write(numpy_helper.from_array(np.ascontiguousarray(arr), name).SerializeToString())


def main():
    only = set(sys.argv[1:])
    for seed, (name, cls, opset, inputs, outputs, dynamic) in enumerate(corpus()):
        if not only or name in only:
            export(name, cls, opset, inputs, outputs, dynamic, 100 + seed)


if __name__ == "__main__":
    main()
