// Package data reads, checks, writes and generates the sequence data sets
// trnn trains on, evaluates on and scores: labelled for training and
// evaluation, with or without labels for prediction.
//
// # The in-memory form
//
// A Dataset keeps only the valid steps of each sequence (ragged storage):
// padding never exists past the readers, so nothing downstream can mistake
// a padded step for data. Padded re-creates the right-padded batch the ONNX
// model takes.
//
// Shape legend used across the package's files:
//
//	N  sequences in a data set, B sequences in a batch
//	T  steps (the longest length in a file or batch), len_i the steps of sequence i
//	F  features per step, K labels per sequence
//
// # Files
//
// NPZ (Load, WriteNPZ): arrays x float32/float64 [N, T, F], lengths of any
// integer dtype [N] (optional: absent means every sequence has T steps), and
// y [N] or [N, K] of 0/1 in any numeric dtype or bool. The array headers
// are read through codeberg.org/sbinet/npyio after this package has checked
// every size they claim against the bytes the file really holds, so a small
// file claiming a huge array is refused before anything is allocated. The
// package inflates each entry itself and reads no more of it than its
// header declares, plus one byte that proves there is more (a Deflate bomb
// behind a small header is refused at that byte); every array's declared
// data must also stay within the size limit below and graph.MaxElements
// elements. Load checks x's feature count and y's label count against its
// Schema from the headers, before any data is inflated. Two entries of one
// array are refused: NumPy reads the last, other readers the first.
//
// CSV (Load, WriteCSV): long form, one row per step under a header row;
// Columns names the id column, an optional step column (ordering), the
// feature columns and the label columns. Rows of one id may be
// interleaved with other ids; sequences come out in order of first
// appearance. Labels are constant within an id. The step column's cells
// are kept as written (Dataset.StepValues), so that per-step output names
// steps as the input does.
//
// CSV rows reach the decoder through a recordSource, the interface a
// Parquet reader implements too, so that column roles, missing cells,
// categories, bins and per-step labels read the same whatever the format.
//
// Parquet (Load, WriteTable): the same long form and column roles as CSV,
// read through github.com/parquet-go/parquet-go row group by row group, a
// batch of rows at a time, never the whole file at once. The table must be
// flat; numbers, decimals, booleans and strings are read as the cells CSV
// would hold (null and NaN as missing, floats in their shortest exact
// form), other types are refused by column. The footer's row count times
// the columns must stay within graph.MaxElements and the values the file
// size limit holds, and a file whose pages hold more rows than its footer
// declares is refused; the library's panics on damaged files are
// recovered into an *Error naming the file.
//
// WriteTable and WriteEpisodes write data with missing values,
// categories, classes by name and per-step labels as CSV, Parquet or an
// episodes folder (TableOptions) that Load reads back as the NPZ form; an
// episodes listfile gives per-step labels a row per labelled step at its
// period_length, as mimic3-benchmarks does.
//
// A folder is read in the episodes layout of mimic3-benchmarks: a
// listfile.csv naming one CSV file per sequence, with an optional
// period_length and the labels (readEpisodes). Stay files are read in
// parallel, and the data set keeps listfile order.
//
// What the Schema adds to the counts and columns: missing values allowed
// (NaN in X), categorical features (their index in X), time bins (the
// step column is a time; the last observation of each feature in a bin
// wins; empty bins are all-missing steps), the label kind (0/1, a class
// index, a real target) and per-step labels (Dataset.YStep, NaN where a
// step has none).
//
// Labels are required unless the Schema's LabelMode says otherwise: new
// data scored by a trained model has none yet. A file read without labels
// (no y array, no label column) gives a Dataset whose Y is nil.
//
// Every data file must be a regular file (not a device, a pipe or a link to
// one) of at most fileio.MaxBytes: 2 GiB unless the environment variable
// TRNN_MAX_FILE_BYTES sets another number of bytes. The same limit bounds
// the data any one NPZ array may declare.
//
// Load picks the reader by the file's extension and checks the result
// against a Schema: the feature and label counts every file must have, and
// the CSV columns. The package knows nothing of specs; the runtime derives
// a Schema from one (runtime.DataSchema).
//
// # Errors
//
// Every defect in a file is reported as an *Error: one line naming the file,
// the place (a CSV line, an array element such as x[17, 3, 2], an id) and the
// rule broken with what was found, e.g.
//
//	train.npz: lengths[4]: must be in [1, 48], got 0
//	data.csv:45: column "hr": not a number: "abc"
//
// A message repeats at most 80 characters of what the file holds (a cell,
// an id, a column or array name), cut with "…", and escapes control
// characters and invalid UTF-8 as Go string literals do (a tab is \t), so
// it stays one short line whatever the file held.
//
// Readers stop at the first defect, in file order. No sequence is ever
// dropped or repaired silently: ±Inf in valid steps, NaN and empty cells
// (unless the Schema allows missing values), unknown categories, labels
// that break their kind's rule, per-sequence labels that change within
// one CSV id, negative times, lengths outside [1, T], count mismatches
// between arrays, empty data and truncated or corrupt files are all
// refused. Values in padded steps are not read. Of the stays of an
// episodes folder, the defect of the earliest in listfile order is
// reported.
//
// Functions given inconsistent in-memory values by their caller (a Dataset
// whose slices disagree, invalid SynthOptions) panic with a message prefixed
// "data: ": that is a programming error, never a user error.
//
// # Synthetic data
//
// Synth generates labelled sequences whose evidence for the label sits in
// the first few steps of long sequences, so that learning from the final
// step alone needs gradients through many steps and target replication
// visibly helps; see SynthOptions and docs/data.md for the generative story.
package data
