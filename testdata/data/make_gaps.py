#!/usr/bin/python3
"""Writes the fixtures of package data's tests of gaps, categories, time bins
and per-step labels (run with Debian's python3-numpy):

    /usr/bin/python3 testdata/data/make_gaps.py

The same stays, written three ways:

gaps/raw.csv       long form at irregular times: columns id, hours, hr, gcs,
                   temp, y. Cells are missing at random, spelled "", "NA",
                   "NaN" or "nan"; gcs holds category names; rows are
                   shuffled across stays; some times repeat within a stay.
                   A per-step label sits on a row of its own at its time,
                   with every feature missing.
gaps/episodes/     the episodes layout: listfile.csv (stay, period_length,
                   y_true: one row per label) and one file per stay with
                   the time column "Hours" and no label rows.
gaps/binned.npz    the stays binned here, with NumPy, into steps of one
                   hour: x [N, T, 3] (gcs as its category's index, NaN where
                   missing and past each length), lengths, and y [N, T] per
                   step (NaN where unlabelled).

Binning: step = floor(time / 1); rows sorted by time, ties kept in file
order; in each step the last non-missing value of each feature wins; a step
without rows is all missing; a stay runs from step 0 to its last row's
step. Output is deterministic (fixed seed, fixed zip timestamps).
"""
import io, os, zipfile
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "gaps")
rng = np.random.default_rng(20161202)
GCS = ["1 No Response", "2 To pain", "3 To speech", "4 Spontaneously"]
MISSING = ["", "NA", "NaN", "nan"]
N, F, W = 7, 3, 1.0


def savez(path, **arrays):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        for name, a in arrays.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.asanyarray(a))
            info = zipfile.ZipInfo(name + ".npy", date_time=(2016, 1, 1, 0, 0, 0))
            z.writestr(info, buf.getvalue())


def stay(i):
    """Rows (time, [hr, gcs index, temp] with NaN) in file order, and the
    per-step labels {period_length: label}."""
    n = int(rng.integers(1, 30))
    times = np.round(rng.uniform(0, 20, size=n) * 4) / 4  # quarter hours: ties happen
    if i == 0:
        times[:] = 0.5  # one bin only, every row tied
    vals = np.empty((n, F))
    vals[:, 0] = np.float32(rng.normal(80, 15, size=n))
    vals[:, 1] = rng.integers(0, len(GCS), size=n)
    vals[:, 2] = np.float32(rng.normal(37, 1, size=n))
    vals[rng.random((n, F)) < 0.45] = np.nan
    last = int(np.floor(times.max() / W))
    periods = rng.choice(np.arange(1, last + 4), size=min(3, last + 3), replace=False)
    labels = {float(p) + 0.5: int(rng.integers(0, 2)) for p in periods}
    return times, vals, labels


def cell(v, f):
    if np.isnan(v):
        return MISSING[rng.integers(0, len(MISSING))]
    if f == 1:
        return GCS[int(v)]
    return repr(float(np.float32(v)))


def binned(times, vals, labels):
    order = np.argsort(times, kind="stable")
    steps = np.floor(times / W).astype(int)
    n = max(steps.max(), max(int(np.floor(p / W)) for p in labels)) + 1
    x = np.full((n, F), np.nan)
    for r in order:
        for f in range(F):
            if not np.isnan(vals[r, f]):
                x[steps[r], f] = vals[r, f]
    y = np.full(n, np.nan)
    for p, lab in labels.items():
        y[int(np.floor(p / W))] = lab
    return x, y


def main():
    os.makedirs(os.path.join(OUT, "episodes"), exist_ok=True)
    stays = [stay(i) for i in range(N)]
    raw, listfile = [], ["stay,period_length,y_true"]
    for i, (times, vals, labels) in enumerate(stays):
        name = "%d_episode1_timeseries.csv" % (100 + i)
        rows = []
        for r in range(len(times)):
            rows.append([repr(float(times[r]))] + [cell(vals[r, f], f) for f in range(F)])
        with open(os.path.join(OUT, "episodes", name), "w") as out:
            out.write("Hours,hr,gcs,temp,unused\n")
            for r in rows:
                out.write(",".join(r) + ",x\n")
        for r in rows:
            raw.append(["s%d" % i] + r + [""])
        for p, lab in labels.items():
            raw.append(["s%d" % i, repr(p)] + [MISSING[rng.integers(0, 4)] for _ in range(F)] + [str(lab)])
            listfile.append("%s,%r,%d" % (name, p, lab))
    # Stays interleaved, and label rows among the others; file order within
    # a stay is kept, so that ties resolve the same way in every layout.
    owner = [r[0] for r in raw]
    picks = rng.permutation([o for o in owner])
    queues = {o: [r for r in raw if r[0] == o] for o in set(owner)}
    with open(os.path.join(OUT, "raw.csv"), "w") as out:
        out.write("id,hours,hr,gcs,temp,y\n")
        for o in picks:
            out.write(",".join(queues[o].pop(0)) + "\n")
    with open(os.path.join(OUT, "episodes", "listfile.csv"), "w") as out:
        out.write("\n".join(listfile) + "\n")

    xs, ys = [], []
    for times, vals, labels in stays:
        # In raw.csv the label rows come after the stay's other rows in
        # file order, with no observation: they only extend the stay.
        x, y = binned(times, vals, labels)
        xs.append(x)
        ys.append(y)
    T = max(len(x) for x in xs)
    X = np.full((N, T, F), np.nan, dtype=np.float32)
    Y = np.full((N, T), np.nan, dtype=np.float32)
    for i in range(N):
        X[i, : len(xs[i])] = xs[i]
        Y[i, : len(ys[i])] = ys[i]
    savez(os.path.join(OUT, "binned.npz"), x=X, lengths=np.array([len(x) for x in xs], dtype=np.int64), y=Y)


main()
