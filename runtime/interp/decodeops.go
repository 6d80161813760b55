package interp

import "github.com/trnn/trnn/graph"

// decodeModelOp decodes the operators of exported sequence models beyond
// the core set that decode handles itself (activations, reductions,
// softmax, norms, layout and index operators), or returns a nil kernel
// and error for another op.
func decodeModelOp(n *graph.Node, o operands) (kernel, error) {
	switch n.Op {
	case graph.OpErf, graph.OpSqrt, graph.OpExp, graph.OpLog, graph.OpReciprocal, graph.OpFloor, graph.OpCeil, graph.OpRound,
		graph.OpSin, graph.OpCos, graph.OpTan, graph.OpAsin, graph.OpAcos, graph.OpAtan,
		graph.OpSinh, graph.OpCosh, graph.OpAsinh, graph.OpAcosh, graph.OpAtanh,
		graph.OpSoftplus, graph.OpSoftsign, graph.OpHardSigmoid, graph.OpHardSwish, graph.OpLeakyRelu,
		graph.OpElu, graph.OpSelu, graph.OpCelu, graph.OpThresholdedRelu, graph.OpGelu:
		return decodeFloatFunc(n, o), nil
	case graph.OpNeg, graph.OpAbs, graph.OpSign:
		return &signedKernel{o, n.Op}, nil
	case graph.OpIsNaN, graph.OpIsInf:
		return &isKernel{operands: o, nan: n.Op == graph.OpIsNaN,
			neg: graph.AttrOr(n, "detect_negative").Int != 0, pos: graph.AttrOr(n, "detect_positive").Int != 0}, nil
	case graph.OpClip:
		return decodeClip(n, o), nil
	case graph.OpPow:
		return &powKernel{o}, nil
	case graph.OpMod:
		return &modKernel{o, graph.AttrOr(n, "fmod").Int != 0}, nil
	case graph.OpPRelu:
		return &preluKernel{o}, nil
	case graph.OpGreaterOrEqual, graph.OpLessOrEqual, graph.OpOr, graph.OpXor:
		return &logicKernel{o, n.Op}, nil
	case graph.OpMax, graph.OpMin, graph.OpSum, graph.OpMean:
		return &variadicKernel{o, n.Op}, nil
	case graph.OpReduceMean, graph.OpReduceSum, graph.OpReduceMax, graph.OpReduceMin, graph.OpReduceProd,
		graph.OpReduceL1, graph.OpReduceL2, graph.OpReduceLogSum, graph.OpReduceLogSumExp, graph.OpReduceSumSquare:
		return decodeReduce(n, o), nil
	case graph.OpArgMax, graph.OpArgMin:
		return decodeArg(n, o), nil
	case graph.OpCumSum:
		return &cumSumKernel{operands: o,
			exclusive: graph.AttrOr(n, "exclusive").Int != 0, reverse: graph.AttrOr(n, "reverse").Int != 0}, nil
	case graph.OpSoftmax, graph.OpLogSoftmax, graph.OpHardmax:
		return &softmaxKernel{o, n.Op, graph.AttrOr(n, "axis").Int}, nil
	case graph.OpLayerNormalization:
		return &layerNormKernel{o, graph.AttrOr(n, "axis").Int, float64(graph.AttrOr(n, "epsilon").Float)}, nil
	case graph.OpBatchNormalization:
		return &batchNormKernel{o, float64(graph.AttrOr(n, "epsilon").Float)}, nil
	case graph.OpConstantOfShape:
		return decodeConstantOfShape(n, o)
	case graph.OpSplit:
		return decodeSplit(n, o), nil
	case graph.OpTile:
		return &tileKernel{o}, nil
	case graph.OpPad:
		return decodePad(n, o), nil
	case graph.OpFlatten:
		return &flattenKernel{operands: o, axis: graph.AttrOr(n, "axis").Int}, nil
	case graph.OpSize:
		return &sizeKernel{o}, nil
	case graph.OpTrilu:
		return &triluKernel{o, graph.AttrOr(n, "upper").Int != 0}, nil
	case graph.OpCastLike:
		return &castLikeKernel{o}, nil
	case graph.OpDropout:
		return &dropoutKernel{o, graph.AttrOr(n, "ratio").Float}, nil
	case graph.OpNonZero:
		return &nonZeroKernel{o}, nil
	case graph.OpOneHot:
		return &oneHotKernel{o, graph.AttrOr(n, "axis").Int}, nil
	case graph.OpGatherElements:
		return &gatherElementsKernel{o, graph.AttrOr(n, "axis").Int}, nil
	case graph.OpScatterElements:
		return &scatterElementsKernel{o, graph.AttrOr(n, "axis").Int, graph.AttrOr(n, "reduction").String}, nil
	case graph.OpTopK:
		return &topKKernel{o, graph.AttrOr(n, "axis").Int, graph.AttrOr(n, "largest").Int != 0}, nil
	}
	return nil, nil
}
