package graph

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
)

// WriteGraph writes the listing `trnn check` prints: the graph's inputs,
// one line per node (name, op, inputs and outputs with their shapes,
// attributes), its outputs, what a Preprocess node makes of the inputs and
// the parameter count:
//
//	graph mortality (sequence form)
//	inputs:
//	  x        float32 [batch,time,13]
//	  lengths  int32 [batch]
//	nodes:
//	  normalize  Normalize  x[batch,time,13] inputs.mean[13] inputs.std[13] -> x_norm[batch,time,13]
//	  layers.0   LSTM       x_norm[batch,time,13] layers.0.W[256,13] layers.0.R[256,64] layers.0.B[256] -> layers.0.y[batch,time,64]  hidden_size=64
//	  ...
//	outputs:
//	  probs       float32 [batch,1]
//	inputs: 17 features (5 categorical → 37 one-hot channels), missing: forward_fill with indicators → 54 channels
//	parameters: 53083 (53057 trainable) in 10 tensors
func WriteGraph(w io.Writer, g *Graph) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "graph %s (%v form)\n", g.Name, g.Form)
	tw := tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "inputs:")
	for _, in := range g.Inputs {
		fmt.Fprintf(tw, "  %s\t%v %s\n", in.Name, in.DType, shapeText(in.Shape))
	}
	fmt.Fprintln(tw, "nodes:")
	for _, n := range g.Nodes {
		if n == nil {
			continue
		}
		ins := make([]string, len(n.Inputs))
		for i, in := range n.Inputs {
			ins[i] = valueText(g, in)
		}
		outs := make([]string, len(n.Outputs))
		for i, out := range n.Outputs {
			outs[i] = valueText(g, out)
		}
		line := strings.Join(ins, " ") + " -> " + strings.Join(outs, " ")
		if a := attrsText(n.Attrs); a != "" {
			line += "  " + a
		}
		fmt.Fprintf(tw, "  %s\t%v\t%s\n", n.Name, n.Op, line)
	}
	fmt.Fprintln(tw, "outputs:")
	for _, out := range g.Outputs {
		fmt.Fprintf(tw, "  %s\t%v %s\n", out.Name, out.DType, shapeText(out.Shape))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, n := range g.Nodes {
		if p, err := PreprocessOf(n); n != nil && n.Op == OpPreprocess && err == nil {
			fmt.Fprintf(bw, "inputs: %s\n", p.Summary())
		}
	}
	total, trainable := g.ParamCount()
	fmt.Fprintf(bw, "parameters: %d (%d trainable) in %d tensors\n", total, trainable, len(g.Params))
	return bw.Flush()
}

// valueText is a value's name and shape, "layers.0.W[256,13]", or the name
// alone when the shape is unknown; "" (an omitted ONNX input) prints as "-".
func valueText(g *Graph, name string) string {
	if name == "" {
		return "-"
	}
	if p := g.Param(name); p != nil && p.Tensor != nil {
		return name + intsText(p.Tensor.Shape)
	}
	if v := g.Values[name]; v != nil && v.Shape != nil {
		return name + shapeText(v.Shape)
	}
	return name
}

func shapeText(s Shape) string {
	if s == nil {
		return "[?]"
	}
	return s.String()
}

func intsText(dims []int) string {
	s := make([]string, len(dims))
	for i, d := range dims {
		s[i] = strconv.Itoa(d)
	}
	return "[" + strings.Join(s, ",") + "]"
}

// attrsText prints attributes sorted by name: "hidden_size=64 rate=0.5".
func attrsText(attrs map[string]Attr) string {
	names := make([]string, 0, len(attrs))
	for name := range attrs {
		names = append(names, name)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, name := range names {
		parts[i] = name + "=" + attrText(attrs[name])
	}
	return strings.Join(parts, " ")
}

func attrText(a Attr) string {
	switch a.Kind {
	case AttrInt:
		return strconv.FormatInt(a.Int, 10)
	case AttrFloat:
		return strconv.FormatFloat(float64(a.Float), 'g', -1, 32)
	case AttrString:
		return strconv.Quote(a.String)
	case AttrInts:
		s := make([]string, len(a.Ints))
		for i, x := range a.Ints {
			s[i] = strconv.FormatInt(x, 10)
		}
		return "[" + strings.Join(s, ",") + "]"
	case AttrFloats:
		s := make([]string, len(a.Floats))
		for i, x := range a.Floats {
			s[i] = strconv.FormatFloat(float64(x), 'g', -1, 32)
		}
		return "[" + strings.Join(s, ",") + "]"
	case AttrStrings:
		s := make([]string, len(a.Strings))
		for i, x := range a.Strings {
			s[i] = strconv.Quote(x)
		}
		return "[" + strings.Join(s, ",") + "]"
	case AttrTensor:
		if a.Tensor == nil {
			return "tensor(nil)"
		}
		return fmt.Sprintf("tensor(%v%s)", a.Tensor.DType, intsText(a.Tensor.Shape))
	case AttrGraph:
		if a.Graph == nil {
			return "graph(nil)"
		}
		return fmt.Sprintf("graph(%q, %d nodes)", a.Graph.Name, len(a.Graph.Nodes))
	}
	return "?"
}

// WriteDot writes the graph in Graphviz's dot language: graph inputs and
// outputs as ellipses, nodes as boxes listing their op, attributes and
// parameters, and edges labelled with the shape of the value they carry.
// Render with `dot -Tsvg`.
func WriteDot(w io.Writer, g *Graph) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "digraph %s {\n", dotQuote(g.Name))
	bw.WriteString("  rankdir=TB;\n  node [fontname=\"Helvetica\", fontsize=10];\n  edge [fontname=\"Helvetica\", fontsize=9];\n")
	producer := map[string]string{} // value → dot id of what defines it
	for _, in := range g.Inputs {
		id := "input:" + in.Name
		fmt.Fprintf(bw, "  %s [shape=ellipse, label=%s];\n", dotQuote(id), dotQuote(in.Name+"\n"+in.DType.String()+" "+shapeText(in.Shape)))
		producer[in.Name] = id
	}
	for i, n := range g.Nodes {
		if n == nil {
			continue
		}
		id := fmt.Sprintf("node:%d:%s", i, n.Name)
		lines := []string{n.Name, n.Op.String()}
		if a := attrsText(n.Attrs); a != "" {
			lines = append(lines, a)
		}
		for _, in := range n.Inputs {
			if p := g.Param(in); p != nil {
				lines = append(lines, valueText(g, in))
			}
		}
		fmt.Fprintf(bw, "  %s [shape=box, label=%s];\n", dotQuote(id), dotQuote(strings.Join(lines, "\n")))
		for _, in := range n.Inputs {
			if from, ok := producer[in]; ok {
				fmt.Fprintf(bw, "  %s -> %s [label=%s];\n", dotQuote(from), dotQuote(id), dotQuote(edgeLabel(g, in)))
			}
		}
		for _, out := range n.Outputs {
			if out != "" {
				producer[out] = id
			}
		}
	}
	for _, out := range g.Outputs {
		id := "output:" + out.Name
		fmt.Fprintf(bw, "  %s [shape=ellipse, label=%s];\n", dotQuote(id), dotQuote(out.Name+"\n"+out.DType.String()+" "+shapeText(out.Shape)))
		if from, ok := producer[out.Name]; ok {
			fmt.Fprintf(bw, "  %s -> %s [label=%s];\n", dotQuote(from), dotQuote(id), dotQuote(edgeLabel(g, out.Name)))
		}
	}
	bw.WriteString("}\n")
	return bw.Flush()
}

func edgeLabel(g *Graph, name string) string {
	if v := g.Values[name]; v != nil && v.Shape != nil {
		return name + " " + v.Shape.String()
	}
	return name
}

// dotQuote writes s as a dot string; newlines become centred line breaks.
func dotQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\n':
			b.WriteString(`\n`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
