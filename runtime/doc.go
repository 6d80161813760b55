// Package runtime executes trnn graphs: it trains sequence-form graphs
// compiled from a spec and runs them for inference. Tensor-form graphs
// imported from ONNX are run by the subpackage interp.
//
// # Training
//
// A mini-batch is split into fixed shards of at most ShardRows sequences,
// interleaved by length so the shards carry equal work. Each shard is packed
// (ops.Packing: rows by descending length, time-major, padding removed) and
// runs forward, the objective and backward on one of the persistent workers
// with buffers planned once per capacity; shard gradients are then summed in
// shard order. The shard layout depends only on the batch, never on the
// number of cores or on scheduling, so a seed fixes every result bit for bit.
// Dropout masks come from generators seeded by (seed, epoch, batch, shard,
// node), so a resumed run draws exactly what an uninterrupted one would.
//
// A steady-state training step allocates nothing.
//
// Between epochs, the callbacks that watch the monitored validation metric
// run as Keras' do: early stopping (patience, min_delta) and the
// learning-rate schedule reduce_on_plateau. Their state is in the
// checkpoint, so a resumed run stops and lowers the rate at the same epochs.
//
// # The test set
//
// A spec's training.test holds sequences out before validation is drawn
// (a seeded split of the training file, or a file of its own): the trainer
// never sees them, they play no part in choosing the best epoch or in the
// normalisation statistics, and when training ends Train evaluates
// model.onnx, read back from the run directory, on them once and writes
// test.json. A resumed run holds out the same ones.
//
// # Errors
//
// Bad data and bad checkpoints are reported as errors naming the file and
// the place; a loss that becomes NaN or infinite stops training with an error
// naming the epoch and batch. Panics signal bugs (prefix "runtime: ").
package runtime
