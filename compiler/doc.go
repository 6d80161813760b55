// Package compiler turns a spec file into a Program: the spec language, its
// strict parser, validation, and the lowering of a spec to the op graph the
// runtime trains and the exporter writes as ONNX.
//
// # Stages
//
//	Parse     YAML (or JSON) → Spec, walking the YAML AST against the schema
//	          so that every problem has a file:line:col; defaults filled in
//	Validate  the rules of docs/spec.md, on Spec values (so they also run
//	          after command-line overrides)
//	Compile   Spec → graph.Graph (docs/graph.md): nodes, parameters
//	          allocated but not initialised, shape inference over every
//	          edge, then graph.Verify
//	Program.Initialize   the seeded initial values (init.go), drawn only
//	          when a run starts fresh
//	graph.Verify    a graph's invariants, for compiled (sequence form) and
//	          imported (tensor form) graphs alike
//
// Stages after the compiler only read the Program it returns (a trainer
// initialises a copy of its parameters).
//
// # Errors
//
// Problems in a spec are returned as an ErrorList: every problem found, not
// only the first, sorted by position, one line each,
//
//	spec.yaml:12:5: layers[0].lstm.units: must be a positive integer, got -3
//
// naming the field by its path, the rule broken and the value found. The
// parser never panics on any input: invalid YAML, binary files, duplicate
// keys, unknown fields (with the nearest known name suggested) and wrong
// types are all positioned errors. Errors from graph.Verify, and internal errors
// of Compile, mean a graph was built wrongly: they name the graph, the node
// and the edge at fault but have no position.
package compiler
