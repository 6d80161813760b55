// Times an ONNX model in ONNX Runtime (CPU, 2 intra-op threads) as
// ort_bench.js does, for a model whose inputs have other names than x and
// lengths (a model made outside trnn).
// usage: node ort_named.js MODEL.onnx XNAME X.bin N T F LNAME LENGTHS.bin [REPEAT]
//   X.bin: float32 little-endian [N,T,F]; LENGTHS.bin: int32 [N]. Prints
//   JSON: {"ms_per_run": F}.
const ort = require('onnxruntime-node');
const fs = require('fs');
(async () => {
  const [model, xname, xbin, N, T, F, lname, lbin, rep] = process.argv.slice(2);
  const n = +N, t = +T, f = +F, repeat = +(rep || 1);
  const xb = fs.readFileSync(xbin), lb = fs.readFileSync(lbin);
  const feeds = {};
  feeds[xname] = new ort.Tensor('float32', new Float32Array(xb.buffer, xb.byteOffset, n * t * f), [n, t, f]);
  feeds[lname] = new ort.Tensor('int32', new Int32Array(lb.buffer, lb.byteOffset, n), [n]);
  const s = await ort.InferenceSession.create(model, { intraOpNumThreads: 2, interOpNumThreads: 1 });
  await s.run(feeds);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < repeat; i++) await s.run(feeds);
  console.log(JSON.stringify({ ms_per_run: Number(process.hrtime.bigint() - t0) / 1e6 / repeat }));
})().catch(e => { console.error(String(e)); process.exit(1); });
