#!/usr/bin/python3
"""Writes the NPZ and CSV fixtures of package data's tests with NumPy, the
library users' files come from (run with Debian's python3-numpy):

    /usr/bin/python3 testdata/data/make_data.py

good/NAME.npz  a well-formed file in one of the layouts users write (dtypes,
               byte orders, Fortran order, compression, optional lengths)
good/NAME.csv  the same sequences in long form, written here independently
               (columns id, step, f0.., y or y0..), steps in scrambled row
               order so that the reader must sort them
bad/NAME.npz   a file with one defect; the Go test holds the expected message

Values in padded steps are deliberately not zero (even NaN): readers must not
look at them. Output is deterministic (fixed seed, fixed zip timestamps).
"""
import io, os, zipfile
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20160101)


def savez(path, compress=False, pickle=False, **arrays):
    # np.savez with a fixed timestamp so that reruns give identical bytes.
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(path, "w", method) as z:
        for name, a in arrays.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.asanyarray(a), allow_pickle=pickle)
            info = zipfile.ZipInfo(name + ".npy", date_time=(2016, 1, 1, 0, 0, 0))
            info.compress_type = method
            z.writestr(info, buf.getvalue())


def sequences(n, t, f, k, padding=np.nan):
    lengths = rng.integers(1, t + 1, size=n)
    lengths[0] = t  # at least one full-length sequence: T is the file's T
    x = rng.standard_normal((n, t, f)) * 3
    for i in range(n):
        x[i, lengths[i]:] = padding
    y = (rng.random((n, k)) < 0.4).astype(np.int64)
    return x, lengths, y


def write_csv(path, x, lengths, y):
    n, t, f = x.shape
    k = y.shape[1]
    labels = ["y"] if k == 1 else ["y%d" % j for j in range(k)]
    rows = []
    for i in range(n):
        for s in range(lengths[i]):
            vals = ["%r" % float(np.float32(v)) for v in x[i, s]]
            rows.append([str(i), str(s)] + vals + ["%d" % v for v in y[i]])
    order = rng.permutation(len(rows))  # ids interleaved, steps out of order
    with open(path, "w") as out:
        out.write(",".join(["id", "step"] + ["f%d" % j for j in range(f)] + labels) + "\n")
        for r in order:
            out.write(",".join(rows[r]) + "\n")


def good(name, x, lengths, y, *, xdtype="<f4", ldtype="<i8", ydtype="<f8",
         y1d=False, fortran=False, compress=False, with_lengths=True):
    xa = x.astype(xdtype)
    ya = (y[:, 0] if y1d else y).astype(ydtype)
    if fortran:
        xa, ya = np.asfortranarray(xa), np.asfortranarray(ya)
    arrays = dict(x=xa, y=ya)
    if with_lengths:
        arrays["lengths"] = lengths.astype(ldtype)
    savez(os.path.join(HERE, "good", name + ".npz"), compress, **arrays)
    write_csv(os.path.join(HERE, "good", name + ".csv"), xa.astype(np.float32), lengths, y)


x, L, y = sequences(6, 5, 2, 1)
good("f32_i64_f64y", x, L, y, y1d=True)
x, L, y = sequences(5, 7, 3, 2)
good("f64_i16_booly", x, L, y, xdtype="<f8", ldtype="<i2", ydtype="|b1")
x, L, y = sequences(4, 3, 1, 1)
good("u8_lengths_u8y", x, L, y, ldtype="|u1", ydtype="|u1")
x, L, y = sequences(5, 4, 2, 3)
good("fortran_u64", x, L, y, ldtype="<u8", ydtype="<i4", fortran=True)
x, L, y = sequences(4, 6, 2, 1)
good("bigendian", x, L, y, xdtype=">f4", ldtype=">i4", ydtype=">f4", y1d=True)
x, L, y = sequences(8, 9, 4, 1, padding=0.0)
good("compressed", x, L, y, compress=True, ldtype="<i4", ydtype="<f4")
x, L, y = sequences(3, 4, 2, 1)
L[:] = 4
x = np.nan_to_num(x)
good("no_lengths", x, L, y, with_lengths=False, y1d=True, ydtype="|i1")


def bad(name, pickle=False, **arrays):
    savez(os.path.join(HERE, "bad", name + ".npz"), False, pickle, **arrays)


x, L, y = sequences(20, 13, 3, 1)
x32, y1 = x.astype(np.float32), y[:, 0].astype(np.float32)
L[17] = 12
xn = x32.copy(); xn[17, 3, 2] = np.nan; xn[17, 12, 0] = np.nan  # second one is padding
bad("nan_valid_step", x=xn, lengths=L, y=y1)
xi = x32.copy(); xi[2, 0, 1] = -np.inf
bad("inf_valid_step", x=xi, lengths=L, y=y1)
x64 = x.copy(); x64[5, 0, 0] = 1e39; x64[5, 12, 0] = 1e300; L[5] = 1
bad("float64_overflow", x=x64, lengths=L, y=y1)
L0 = L.copy(); L0[4] = 0
bad("length_zero", x=x32, lengths=L0, y=y1)
Lb = L.copy(); Lb[9] = 14
bad("length_too_long", x=x32, lengths=Lb, y=y1)
bad("x_2d", x=x32[:, :, 0], lengths=L, y=y1)
bad("y_rows", x=x32, lengths=L, y=y1[:19])
bad("lengths_rows", x=x32, lengths=np.append(L, 3), y=y1)
yh = y1.copy(); yh[3] = 0.5
bad("y_half", x=x32, lengths=L, y=yh)
y2 = y.astype(np.int8).repeat(2, axis=1); y2[3, 1] = 2
bad("y2d_two", x=x32, lengths=L, y=y2)
bad("missing_x", a=x32, b=y1)
bad("x_int", x=np.nan_to_num(x).astype(np.int32), lengths=L, y=y1)
bad("lengths_float", x=x32, lengths=L.astype(np.float64), y=y1)
bad("no_sequences", x=x32[:0], lengths=L[:0], y=y1[:0])
bad("y_3d", x=x32, lengths=L, y=y1.reshape(20, 1, 1))
bad("y_strings", x=x32, lengths=L, y=np.array(["a"] * 20))
bad("x_object", pickle=True, x=np.array([None] * 20, dtype=object).reshape(20, 1, 1), lengths=L, y=y1)
with open(os.path.join(HERE, "bad", "not_zip.npz"), "wb") as out:
    out.write(b"this is not a zip archive at all\n")

# Added later, at the end so that the files above keep their bytes.
xh, Lh, yh16 = sequences(5, 4, 2, 1)
good("f16y", xh, Lh, yh16, ydtype="<f2", y1d=True)
yq = y1.astype(np.float16); yq[6] = 0.25
bad("y_float16", x=x32, lengths=L, y=yq)
