package graph

// The ONNX contracts of the operators that slide a window over the spatial
// dimensions of X [N, C, D1, ..., Dn]: Conv, MaxPool and AveragePool, and
// the global pools that take the whole extent as their window.

// Values of the auto_pad attribute.
const (
	AutoPadNotSet    = "NOTSET"
	AutoPadSameUpper = "SAME_UPPER"
	AutoPadSameLower = "SAME_LOWER"
	AutoPadValid     = "VALID"
)

// windowAttrs are the attributes every windowed op shares, read from
// opset 1; pools add theirs.
func windowAttrs() map[string]AttrRule {
	return map[string]AttrRule{
		"auto_pad": {Kind: AttrString, Check: oneOf(AutoPadNotSet, AutoPadSameUpper, AutoPadSameLower, AutoPadValid),
			Default: Attr{Kind: AttrString, String: AutoPadNotSet}},
		"kernel_shape": {Kind: AttrInts, Check: positiveInts},
		"strides":      {Kind: AttrInts, Check: positiveInts},
		"dilations":    {Kind: AttrInts, Check: positiveInts},
		"pads":         {Kind: AttrInts, Check: checkPads},
	}
}

// convRule is Conv: X, W [M, C/group, k1, ..., kn] and an optional bias B
// [M].
func convRule() *ONNXRule {
	attrs := windowAttrs()
	attrs["group"] = AttrRule{Kind: AttrInt, Check: positive, Default: intAttr(1)}
	return &ONNXRule{Since: 1, MinIn: 2, MaxIn: 3, MinOut: 1, MaxOut: 1, Optional: []int{2}, Attrs: attrs, Check: checkWindow}
}

// poolRule is MaxPool (isMax) or AveragePool, with the opsets in which each
// attribute appeared. MaxPool's second output, the indices of the maxima,
// exists from opset 8.
func poolRule(isMax bool) *ONNXRule {
	attrs := windowAttrs()
	attrs["ceil_mode"] = AttrRule{Kind: AttrInt, Since: 10, Check: intIn(0, 1), Default: intAttr(0)}
	r := &ONNXRule{Since: 1, MinIn: 1, MaxIn: 1, MinOut: 1, MaxOut: 1, Attrs: attrs, Required: []string{"kernel_shape"}, Check: checkWindow}
	if isMax {
		attrs["dilations"] = AttrRule{Kind: AttrInts, Since: 10, Check: positiveInts}
		attrs["storage_order"] = AttrRule{Kind: AttrInt, Since: 8, Check: intIn(0, 1), Default: intAttr(0)}
		r.MaxOut = 2
		r.Check = checkMaxPool
	} else {
		attrs["dilations"] = AttrRule{Kind: AttrInts, Since: 19, Check: positiveInts}
		attrs["count_include_pad"] = AttrRule{Kind: AttrInt, Since: 7, Check: intIn(0, 1), Default: intAttr(0)}
	}
	return r
}

func positiveInts(name string, a Attr) error {
	for _, v := range a.Ints {
		if v < 1 || v > MaxElements {
			return malformed("attribute %s: expected positive integers, found %v", name, a.Ints)
		}
	}
	return nil
}

// checkPads accepts a begin and an end padding per spatial dimension.
// Negative pads (cropping, which opset 12's MaxPool mentions) are not
// implemented.
func checkPads(name string, a Attr) error {
	if len(a.Ints)%2 != 0 {
		return malformed("attribute %s: expected a begin and an end value per spatial dimension, found %d values", name, len(a.Ints))
	}
	for _, v := range a.Ints {
		if v < 0 {
			return unsupported("attribute %s: negative padding %v is not supported", name, a.Ints)
		}
		if v > MaxElements {
			return malformed("attribute %s: padding %d is too large", name, v)
		}
	}
	return nil
}

// checkWindow checks that the per-dimension attributes agree on the number
// of spatial dimensions, and that explicit pads come with auto_pad NOTSET:
// the specification forbids both at once. Zero pads beside auto_pad are
// accepted, since they pad nothing either way.
func checkWindow(n *Node, _ int) error {
	rank := -1
	for _, name := range []string{"kernel_shape", "strides", "dilations", "pads"} {
		a, ok := n.Attrs[name]
		if !ok {
			continue
		}
		r := len(a.Ints)
		if name == "pads" {
			r /= 2
		}
		if rank >= 0 && r != rank {
			return malformed("attribute %s: %v is for %d spatial dimensions, but the other window attributes are for %d", name, a.Ints, r, rank)
		}
		rank = r
	}
	if pads, ok := n.Attrs["pads"]; ok && n.Attrs["auto_pad"].String != "" && n.Attrs["auto_pad"].String != AutoPadNotSet {
		for _, v := range pads.Ints {
			if v != 0 {
				return malformed("attribute pads: explicit pads %v need auto_pad NOTSET, found %s", pads.Ints, n.Attrs["auto_pad"].String)
			}
		}
	}
	return nil
}

func checkMaxPool(n *Node, opset int) error {
	if len(n.Outputs) > 1 && opset < 8 {
		return malformed("MaxPool at opset %d takes 1 output, found %d", opset, len(n.Outputs))
	}
	return checkWindow(n, opset)
}
