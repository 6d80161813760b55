// Package stream measures what a stream saves (go test ./bench/stream
// -bench .): the time to score one new step of a 200-step sequence by
// pushing it into a trnn.Stream, against running the whole 200-step prefix
// through Session.Predict, on the quickstart's network (examples/
// quickstart.yaml: 3 features, an LSTM of 32 units, 1 label). The weights
// are the initialiser's: the work does not depend on their values.
package stream
