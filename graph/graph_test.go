package graph

import (
	"fmt"
	"testing"
)

// TestParamLookupIsIndexed: once indexed, Param answers from a map, and
// stays right for copies whose parameters are replaced in place, for
// parameters added after indexing, and for graphs never indexed.
func TestParamLookupIsIndexed(t *testing.T) {
	const n = 50_000
	g := &Graph{}
	for i := range n {
		g.Params = append(g.Params, &Param{Name: fmt.Sprintf("layers.%d.W", i)})
	}
	g.Params = append(g.Params, &Param{Name: "layers.7.W"}) // a duplicate: the first wins
	find := func(g *Graph) {
		t.Helper()
		for i := 0; i < n; i += 997 {
			name := fmt.Sprintf("layers.%d.W", i)
			if p := g.Param(name); p == nil || p != g.Params[i] {
				t.Fatalf("Param(%s) = %v, want parameter %d", name, p, i)
			}
		}
		if g.Param("layers.7.W") != g.Params[7] || g.Param("nope") != nil {
			t.Fatal("duplicate or missing name answered wrongly")
		}
	}
	find(g) // a search
	g.IndexParams()
	if a := testing.AllocsPerRun(10, func() { g.Param("layers.49999.W") }); a != 0 || len(g.paramIndex) != n {
		t.Fatalf("indexed lookup: %v allocations, index of %d", a, len(g.paramIndex))
	}
	find(g)

	// A copy with its parameters replaced by new ones of the same names.
	c := *g
	c.Params = make([]*Param, len(g.Params))
	for i, p := range g.Params {
		q := *p
		c.Params[i] = &q
	}
	find(&c)
	// Parameters added after indexing are found too.
	c.Params = append(c.Params, &Param{Name: "extra"})
	if c.Param("extra") == nil {
		t.Fatal("a parameter added after indexing is not found")
	}
	find(&c)
	// A renamed parameter is not found under its old name.
	c.Params = c.Params[:len(c.Params)-1]
	c.Params[3] = &Param{Name: "renamed"}
	if c.Param("layers.3.W") != nil {
		t.Fatal("a renamed parameter is found under its old name")
	}
}
