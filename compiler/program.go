package compiler

import "github.com/trnn/trnn/graph"

// Program is what the compiler hands to the runtime and the exporter: the
// resolved spec (every default filled in) and the graph lowered from it.
type Program struct {
	Spec  *Spec
	Graph *graph.Graph
}
