#!/usr/bin/python3
"""Writes preprocess_golden.json: the input preprocessing of sequences with
gaps and categorical features (docs/graph.md, Preprocess) computed with
scikit-learn and NumPy. Run from this folder with Debian's python3-sklearn:

    /usr/bin/python3 gen_preprocess.py

Each case is a set of sequences of F = 4 raw features (NaN = missing);
features 1 and 3 are categorical (3 and 2 categories, given as indices,
some of which are no category). The statistics are StandardScaler's,
fitted on the observed values of the numeric features of every sequence
(it disregards NaN). The encoding of a step is, in feature order:
- numeric f: forward fill within the sequence (mode forward_fill; NumPy's
  maximum.accumulate over the indices of observed steps), then
  SimpleImputer (constant 0 for zero, the fitted mean otherwise), then
  StandardScaler.transform when normalize is set;
- categorical f: OneHotEncoder over categories 0..C-1 with
  handle_unknown="ignore" (missing values, after forward fill, become -1:
  all zeros);
then MissingIndicator(features="all") on the raw step, negated (1 =
observed), when indicators is set.
"""
import json

import numpy as np
import sklearn
from sklearn.impute import MissingIndicator, SimpleImputer
from sklearn.preprocessing import OneHotEncoder, StandardScaler

CATEGORIES = [0, 3, 0, 2]
NUMERIC = [f for f, c in enumerate(CATEGORIES) if c == 0]


def draw(rng, n, max_len, gap):
    seqs = []
    for i in range(n):
        T = 1 if i == 0 else int(rng.integers(1, max_len + 1))
        x = np.empty((T, len(CATEGORIES)), np.float32)
        for f, c in enumerate(CATEGORIES):
            if c:
                x[:, f] = rng.integers(0, c + 1, T)  # c itself is no category
            else:
                x[:, f] = rng.normal(5 * f, 1 + f, T)
        x[rng.random(x.shape) < gap] = np.nan
        seqs.append(x)
    return seqs


def forward_fill(x):
    observed = ~np.isnan(x)
    idx = np.where(observed, np.arange(len(x))[:, None], 0)
    np.maximum.accumulate(idx, axis=0, out=idx)
    filled = x[idx, np.arange(x.shape[1])]
    # before the first observation idx is 0, which holds NaN or a value
    # observed at step 0: keep NaN where nothing was observed yet
    seen = np.maximum.accumulate(observed, axis=0)
    return np.where(seen, filled, np.nan).astype(np.float32)


def encode(x, mode, indicators, normalize, scaler):
    src = forward_fill(x) if mode == "forward_fill" else x
    num = src[:, NUMERIC]
    if mode == "zero":
        imp = SimpleImputer(strategy="constant", fill_value=0.0, keep_empty_features=True)
        imp.fit(np.zeros((1, len(NUMERIC)), np.float32))
    else:
        imp = SimpleImputer(strategy="constant", keep_empty_features=True)
        imp.fit(np.zeros((1, len(NUMERIC)), np.float32))
        imp.statistics_ = scaler.mean_.astype(np.float32)
    num = imp.transform(num).astype(np.float32)
    if normalize:
        num = ((num - scaler.mean_.astype(np.float32)) / scaler.scale_.astype(np.float32)).astype(np.float32)
    cols, n = [], 0
    for f, c in enumerate(CATEGORIES):
        if c == 0:
            cols.append(num[:, n : n + 1])
            n += 1
            continue
        v = np.where(np.isnan(src[:, f]), -1, src[:, f]).astype(np.int64).reshape(-1, 1)
        ohe = OneHotEncoder(categories=[list(range(c))], handle_unknown="ignore", sparse_output=False)
        ohe.fit(np.arange(c).reshape(-1, 1))
        cols.append(ohe.transform(v).astype(np.float32))
    if indicators:
        mi = MissingIndicator(features="all").fit(x)
        cols.append((~mi.transform(x)).astype(np.float32))
    return np.concatenate(cols, axis=1)


def case(rng, mode, indicators, normalize, gap):
    seqs = draw(rng, 7, 9, gap)
    scaler = StandardScaler().fit(np.concatenate(seqs)[:, NUMERIC].astype(np.float64))
    mean = np.zeros(len(CATEGORIES), np.float32)
    std = np.ones(len(CATEGORIES), np.float32)
    mean[NUMERIC], std[NUMERIC] = scaler.mean_, scaler.scale_
    return {
        "missing": mode,
        "indicators": indicators,
        "normalize": normalize,
        "categories": CATEGORIES,
        "x": [[[None if np.isnan(v) else float(v) for v in step] for step in s] for s in seqs],
        "mean": mean.tolist(),
        "std": std.tolist(),
        "y": [encode(s, mode, indicators, normalize, scaler).tolist() for s in seqs],
    }


def main():
    rng = np.random.default_rng(12)
    cases = []
    for mode in ["zero", "mean", "forward_fill"]:
        for indicators in [False, True]:
            for normalize in [False, True]:
                cases.append(case(rng, mode, indicators, normalize, 0.35))
    with open("preprocess_golden.json", "w") as f:
        json.dump({"sklearn": sklearn.__version__, "cases": cases}, f)


main()
