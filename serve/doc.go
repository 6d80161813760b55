// Package serve is trnn's HTTP inference server: the REST side of the Open
// Inference Protocol v2 (KServe's "V2 inference protocol", which Triton
// speaks too) over models loaded with trnn.Load. A Server is an
// http.Handler, so a Go program can mount it on its own mux; the trnn serve
// command runs one.
//
//	GET  /v2                        server metadata
//	GET  /v2/health/live            200 while the process runs
//	GET  /v2/health/ready           200 once every model is loaded
//	GET  /v2/models/{name}          model metadata: inputs and outputs
//	GET  /v2/models/{name}/ready    200 for a model the server has
//	POST /v2/models/{name}/infer    inference
//	GET  /metrics                   Prometheus text format
//
// # Requests
//
// An infer request names every input of the model once, with its datatype
// (FP32, FP64, INT32, INT64 or BOOL, the model's type of that input), its
// shape (the model's rank, its fixed dimensions, and one size for each
// symbolic dimension wherever it appears) and its data, in row-major order,
// flat or nested. JSON has no NaN: null stands for a missing value, which a
// float input takes only when the model imputes missing values (a trnn
// model whose spec sets inputs.missing); a NaN output is written null.
// Every check is made before the request joins a batch, and a failed one
// is a 4xx answer with a JSON body {"error": "..."} that names the input
// and what is wrong. A parser of the server's own reads the plain form of
// a body in one pass and leaves anything else to encoding/json, whose
// results and errors it gives (decode.go).
//
// # Batching
//
// A model is batchable when its inputs share a symbolic first dimension,
// the batch, and its outputs begin with a symbolic dimension too (planLayout):
// concurrent requests are then merged along it, up to Options.MaxBatch
// rows waiting at most Options.MaxDelay, and each request gets its own
// rows of the outputs back. Requests merge when their inputs' other
// dimensions agree; for a model trnn wrote, which never reads a padded
// step, requests of different lengths merge too: x is padded along time to
// the longest, the lengths come from the requests, and outputs with a time
// dimension are cut back to each request's steps. A model that is not
// batchable runs each request on its own.
//
// Batched answers are bit-identical to unbatched ones. That does not come
// for free: trnn's float32 GEMM takes a different kernel, and so rounds
// differently, depending on how many rows a product has and on whether a
// row is paired with another (chunk.go). The server therefore never runs
// the rows it is given as they come: it runs them in chunks whose shape
// puts every row through the same kernels whatever else is in the chunk,
// adding copies of rows where needed, and does so for a request alone
// (MaxBatch 1) exactly as for a merged batch. New checks that this holds
// for each model by running random rows alone and merged (probe.go); a
// model whose rows still change with their batch (one that pools its time
// axis into rows, say) runs every request on its own, as it is.
//
// # Limits
//
// A request body over Options.MaxBodyBytes, or an input with more rows than
// Options.MaxRows, is answered 413; an infer request arriving while
// Options.MaxInFlight are being answered is answered 429 at once. A model's
// error at run time is a 400 naming the model; the server itself never
// panics on a request.
//
// # Lifecycle
//
// New starts one batching goroutine per batchable model and a pool of
// workers; Close stops them once the requests in flight are answered, as
// after http.Server.Shutdown. Logs go to Options.Logger (log/slog).
package serve
