package graph

import "fmt"

// Op is the kind of a graph node. The set is closed: every graph trnn builds,
// compiles or imports is made of these operations.
//
// The first group are sequence ops: in a graph compiled from a spec
// (compiler.FormSequence) their inputs and outputs are batches of sequences
// [B, T, width], executed packed (see Packing), with the lengths implicit.
// The second group are ONNX operators with ONNX semantics, as found in
// imported models (compiler.FormTensor). LSTM, GRU and Sigmoid belong to both:
// the same kernels and the same parameter layout serve both forms.
type Op uint8

const (
	OpInvalid Op = iota

	// Sequence ops (spec-compiled graphs).
	OpNormalize // (x, mean[F], std[F]) → (x − mean) / std
	OpLSTM      // (x, W[4H,I], R[4H,H], B[4H]) → y[B,T,H]; ONNX form: ONNX LSTM
	OpGRU       // (x, W[3H,I], R[3H,H], B[6H]) → y[B,T,H]; ONNX form: ONNX GRU
	OpDropout   // (x) → x with inverted dropout while training; identity otherwise
	OpDense     // (x, W[K,I], b[K]) → x·Wᵀ + b at every step
	OpSigmoid   // elementwise logistic
	OpLastStep  // (x[B,T,K]) → x[B,K] at each row's last valid step
	// (x[B,T,F] raw with NaN gaps, mean[F], std[F]) → the imputed,
	// standardised, one-hot encoded features and their indicators (see
	// PreprocessWidth)
	OpPreprocess
	// OpDenormalize undoes the standardisation of regression targets:
	// (x, mean[K], std[K]) → x·std + mean.
	OpDenormalize

	// ONNX operators (imported graphs).
	OpAdd
	OpSub
	OpMul
	OpDiv
	OpMatMul
	OpGemm
	OpTanh
	OpRelu
	OpTranspose
	OpSqueeze
	OpUnsqueeze
	OpReshape
	OpGather
	OpCast
	OpConstant
	OpShape
	OpConcat
	OpIdentity
	OpRange
	OpLess
	OpGreater
	OpEqual
	OpWhere
	OpSlice
	OpExpand
	OpNot
	OpAnd

	// ONNX operators of exported sequence models: heads, attention, norms,
	// masks and reductions (runtime/interp's math, reduce, softmax, norm,
	// layout and index kernels).
	OpErf
	OpSqrt
	OpExp
	OpLog
	OpNeg
	OpAbs
	OpReciprocal
	OpSign
	OpFloor
	OpCeil
	OpRound
	OpSin
	OpCos
	OpTan
	OpAsin
	OpAcos
	OpAtan
	OpSinh
	OpCosh
	OpAsinh
	OpAcosh
	OpAtanh
	OpSoftplus
	OpSoftsign
	OpHardSigmoid
	OpHardSwish
	OpLeakyRelu
	OpElu
	OpSelu
	OpCelu
	OpThresholdedRelu
	OpGelu
	OpIsNaN
	OpIsInf
	OpClip
	OpPow
	OpMod
	OpPRelu
	OpGreaterOrEqual
	OpLessOrEqual
	OpOr
	OpXor
	OpMax
	OpMin
	OpSum
	OpMean
	OpReduceMean
	OpReduceSum
	OpReduceMax
	OpReduceMin
	OpReduceProd
	OpReduceL1
	OpReduceL2
	OpReduceLogSum
	OpReduceLogSumExp
	OpReduceSumSquare
	OpArgMax
	OpArgMin
	OpCumSum
	OpSoftmax
	OpLogSoftmax
	OpHardmax
	OpLayerNormalization
	OpBatchNormalization
	OpConstantOfShape
	OpSplit
	OpTile
	OpPad
	OpFlatten
	OpSize
	OpTrilu
	OpCastLike
	OpNonZero
	OpOneHot
	OpGatherElements
	OpScatterElements
	OpTopK

	// ONNX operators of convolutional front ends and control flow
	// (runtime/interp's conv, pool and control kernels).
	OpConv
	OpMaxPool
	OpAveragePool
	OpGlobalAveragePool
	OpGlobalMaxPool
	OpLoop
	OpScan
	OpIf

	numOps
)

// String returns the op's name; for ONNX operators it is the ONNX op_type.
func (o Op) String() string {
	if o < numOps {
		return opTable[o].Name
	}
	return fmt.Sprintf("Op(%d)", uint8(o))
}

// IsSequence reports whether o may appear in a spec-compiled (sequence form)
// graph.
func (o Op) IsSequence() bool { return Info(o) != nil && Info(o).Seq != nil }

// IsONNX reports whether o is an ONNX operator, valid in an imported (tensor
// form) graph.
func (o Op) IsONNX() bool { return Info(o) != nil && Info(o).ONNX != nil }

// OpByName returns the op with the given name (an ONNX op_type for ONNX
// operators) and whether it exists.
func OpByName(name string) (Op, bool) {
	for i := OpInvalid + 1; i < numOps; i++ {
		if opTable[i].Name == name {
			return i, true
		}
	}
	return OpInvalid, false
}

// LSTM gate blocks in W, R and B, in ONNX's order. Block g of W is rows
// g·H..(g+1)·H−1. Keras stores i, f, c, o and PyTorch i, f, g, o.
const (
	LSTMGateI = iota // input gate
	LSTMGateO        // output gate
	LSTMGateF        // forget gate
	LSTMGateC        // cell candidate
	LSTMGates        // number of gate blocks
)

// GRU gate blocks in W, R and each half of B, in ONNX's order.
const (
	GRUGateZ = iota // update gate
	GRUGateR        // reset gate
	GRUGateH        // candidate
	GRUGates        // number of gate blocks
)
