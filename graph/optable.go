package graph

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// The op table: everything trnn knows about an op outside its kernels. Verify
// (sequence form), the compiler, the ONNX writer and reader, the trainer's
// node builder and the interpreter all read it through Info, so adding an op
// is one entry here plus its kernels.

// Opsets of ONNX's default domain.
const (
	// MinOpset and MaxOpset bound the opsets trnn writes, DefaultOpset is
	// the one it writes unless told otherwise.
	MinOpset     = 14
	MaxOpset     = 21
	DefaultOpset = 17
	// MinReadOpset and MaxReadOpset bound the opsets trnn reads. Above 21 no
	// op has been checked. Some ops need a later opset than MinReadOpset
	// (ONNXRule.Since): before it their semantics differed.
	MinReadOpset = 1
	MaxReadOpset = 21
)

// MaxElements bounds the number of elements of any tensor trnn reads or an
// ONNX kernel makes: 2³¹−1, the int32 limit ONNX Runtime shares.
const MaxElements = 1<<31 - 1

// Recurrent directions (ONNX LSTM and GRU attribute direction).
const (
	DirForward       = "forward"
	DirReverse       = "reverse"
	DirBidirectional = "bidirectional"
)

// OpInfo is one entry of the op table.
type OpInfo struct {
	Op   Op
	Name string    // the ONNX op_type for ONNX operators
	Seq  *SeqRule  // nil: the op cannot appear in a sequence-form graph
	ONNX *ONNXRule // nil: the op is not an ONNX operator
}

// SeqRule is an op's contract in a sequence-form (compiled) graph: the
// input x [batch, time, width] then parameters, one output.
type SeqRule struct {
	Params []string // roles of inputs 1.., each a parameter
	Attrs  []string // the attributes the node carries
	// Width returns the output's last dimension and the shape each parameter
	// must have, from the node's attributes, the input's width I and the
	// parameters' actual shapes; or an error naming the attribute at fault.
	// nil keeps the input's shape.
	Width func(n *Node, I int, params [][]int) (width int, want [][]int, err error)
	// Last marks LastStep: the output drops the time axis.
	Last bool
}

// ONNXRule is an op's contract as an ONNX operator in an imported or
// exported graph.
type ONNXRule struct {
	Since          int // first opset whose semantics trnn's kernels implement
	MinIn, MaxIn   int // input counts; MaxIn −1 is unbounded
	MinOut, MaxOut int
	// InputsAt overrides MinIn and MaxIn for ops whose inputs changed with
	// the opset.
	InputsAt func(opset int) (min, max int)
	Optional []int // input positions that may be "" (omitted)
	// OmitOutputs allows "" outputs (the recurrent ops' optional Y, Y_h, Y_c).
	OmitOutputs bool
	Attrs       map[string]AttrRule
	Required    []string
	// Check applies the rules that involve several attributes or inputs.
	Check func(n *Node, opset int) error
}

// Inputs returns the input counts the op takes at opset.
func (r *ONNXRule) Inputs(opset int) (min, max int) {
	if r.InputsAt != nil {
		return r.InputsAt(opset)
	}
	return r.MinIn, r.MaxIn
}

// AttrRule is one attribute an op accepts: its kind, the opsets in which it
// exists ([Since, Until), Until 0 = still current), an optional check of its
// value, and the value an absent attribute has.
type AttrRule struct {
	Kind         AttrKind
	Since, Until int
	Check        func(name string, a Attr) error
	Default      Attr // Kind 0: no default (absent means "not given")
}

// RuleError is a node breaking a rule of the op table. Unsupported marks
// valid ONNX that trnn does not implement.
type RuleError struct {
	Msg         string
	Unsupported bool
}

func (e *RuleError) Error() string { return e.Msg }

func malformed(format string, args ...any) error {
	return &RuleError{Msg: fmt.Sprintf(format, args...)}
}

func unsupported(format string, args ...any) error {
	return &RuleError{Msg: fmt.Sprintf(format, args...), Unsupported: true}
}

// Info returns op's entry of the op table, or nil for an op outside it.
func Info(op Op) *OpInfo {
	if op <= OpInvalid || op >= numOps {
		return nil
	}
	return &opTable[op]
}

// AttrOr returns n's attribute name, or the op table's default for it when
// the node leaves it out (a zero Attr when there is none).
func AttrOr(n *Node, name string) Attr {
	if a, ok := n.Attrs[name]; ok {
		return a
	}
	if info := Info(n.Op); info != nil && info.ONNX != nil {
		return info.ONNX.Attrs[name].Default
	}
	return Attr{}
}

// Attribute values used as defaults.
func intAttr(v int64) Attr     { return Attr{Kind: AttrInt, Int: v} }
func floatAttr(v float32) Attr { return Attr{Kind: AttrFloat, Float: v} }

var (
	unaryOp  = ONNXRule{MinIn: 1, MaxIn: 1, MinOut: 1, MaxOut: 1}
	binaryOp = ONNXRule{Since: 7, MinIn: 2, MaxIn: 2, MinOut: 1, MaxOut: 1}
	// Max, Min, Sum and Mean broadcast from opset 8; before, their operands
	// had one shape, which broadcasting leaves unchanged.
	variadicOp = ONNXRule{Since: 6, MinIn: 1, MaxIn: -1, MinOut: 1, MaxOut: 1}
)

func rule(r ONNXRule) *ONNXRule { return &r }

func since(r ONNXRule, opset int) *ONNXRule {
	r.Since = opset
	return &r
}

// opTable is indexed by Op.
var opTable = [numOps]OpInfo{
	OpNormalize: {Name: "Normalize", Seq: &SeqRule{Params: []string{"mean", "std"}, Width: normalizeWidth}},
	OpLSTM: {Name: "LSTM",
		Seq:  &SeqRule{Params: []string{"W", "R", "B"}, Attrs: []string{AttrNameHiddenSize}, Width: lstmWidth},
		ONNX: rnnRule(8, 3, "input_forget", AttrRule{Kind: AttrInt, Check: intIn(0)})},
	OpGRU: {Name: "GRU",
		Seq: &SeqRule{Params: []string{"W", "R", "B"},
			Attrs: []string{AttrNameHiddenSize, AttrNameLinearBeforeReset}, Width: gruWidth},
		ONNX: rnnRule(6, 2, "linear_before_reset", AttrRule{Kind: AttrInt, Default: intAttr(0)})},
	OpDropout: {Name: "Dropout", Seq: &SeqRule{Attrs: []string{AttrNameRate}, Width: dropoutWidth},
		ONNX: dropoutRule()},
	OpDense:    {Name: "Dense", Seq: &SeqRule{Params: []string{"W", "b"}, Width: denseWidth}},
	OpSigmoid:  {Name: "Sigmoid", Seq: &SeqRule{}, ONNX: rule(unaryOp)},
	OpLastStep: {Name: "LastStep", Seq: &SeqRule{Last: true}},
	OpPreprocess: {Name: "Preprocess", Seq: &SeqRule{Params: []string{"mean", "std"},
		Attrs: []string{AttrNameMissing, AttrNameCategories, AttrNameIndicators, AttrNameNormalize}, Width: preprocessWidth}},
	// The heads other than the sigmoid: Softmax over the width (the
	// classes), Identity for regression, Denormalize for standardised
	// targets.
	OpDenormalize: {Name: "Denormalize", Seq: &SeqRule{Params: []string{"mean", "std"}, Width: normalizeWidth}},

	OpAdd:      {Name: "Add", ONNX: rule(binaryOp)},
	OpSub:      {Name: "Sub", ONNX: rule(binaryOp)},
	OpMul:      {Name: "Mul", ONNX: rule(binaryOp)},
	OpDiv:      {Name: "Div", ONNX: rule(binaryOp)},
	OpLess:     {Name: "Less", ONNX: rule(binaryOp)},
	OpGreater:  {Name: "Greater", ONNX: rule(binaryOp)},
	OpEqual:    {Name: "Equal", ONNX: rule(binaryOp)},
	OpAnd:      {Name: "And", ONNX: rule(binaryOp)},
	OpMatMul:   {Name: "MatMul", ONNX: since(binaryOp, 0)},
	OpTanh:     {Name: "Tanh", ONNX: rule(unaryOp)},
	OpRelu:     {Name: "Relu", ONNX: rule(unaryOp)},
	OpNot:      {Name: "Not", ONNX: rule(unaryOp)},
	OpIdentity: {Name: "Identity", Seq: &SeqRule{}, ONNX: rule(unaryOp)},
	OpGemm: {Name: "Gemm", ONNX: &ONNXRule{Since: 7, MinIn: 2, MaxIn: 3, MinOut: 1, MaxOut: 1, Optional: []int{2},
		Attrs: map[string]AttrRule{
			"alpha": {Kind: AttrFloat, Default: floatAttr(1)}, "beta": {Kind: AttrFloat, Default: floatAttr(1)},
			"transA": {Kind: AttrInt, Default: intAttr(0)}, "transB": {Kind: AttrInt, Default: intAttr(0)},
		}}},
	OpTranspose: {Name: "Transpose", ONNX: &ONNXRule{MinIn: 1, MaxIn: 1, MinOut: 1, MaxOut: 1,
		Attrs: map[string]AttrRule{"perm": {Kind: AttrInts, Check: checkPerm}}}},
	OpSqueeze: {Name: "Squeeze", ONNX: &ONNXRule{MinOut: 1, MaxOut: 1, Optional: []int{1},
		InputsAt: inputsFrom(13, 1, 2, 1, 1),
		Attrs:    map[string]AttrRule{"axes": {Kind: AttrInts, Until: 13}}}},
	OpUnsqueeze: {Name: "Unsqueeze", ONNX: &ONNXRule{MinOut: 1, MaxOut: 1,
		InputsAt: inputsFrom(13, 2, 2, 1, 1),
		Attrs:    map[string]AttrRule{"axes": {Kind: AttrInts, Until: 13}},
		Check:    checkUnsqueeze}},
	OpReshape: {Name: "Reshape", ONNX: &ONNXRule{Since: 5, MinIn: 2, MaxIn: 2, MinOut: 1, MaxOut: 1,
		Attrs: map[string]AttrRule{"allowzero": {Kind: AttrInt, Since: 14, Default: intAttr(0)}}}},
	OpGather: {Name: "Gather", ONNX: &ONNXRule{MinIn: 2, MaxIn: 2, MinOut: 1, MaxOut: 1,
		Attrs: map[string]AttrRule{"axis": {Kind: AttrInt, Default: intAttr(0)}}}},
	OpCast: {Name: "Cast", ONNX: &ONNXRule{Since: 6, MinIn: 1, MaxIn: 1, MinOut: 1, MaxOut: 1, Required: []string{"to"},
		Attrs: map[string]AttrRule{
			"to":       {Kind: AttrInt, Check: checkCastTo},
			"saturate": {Kind: AttrInt, Since: 19},
		}}},
	OpConstant: {Name: "Constant", ONNX: &ONNXRule{MinIn: 0, MaxIn: 0, MinOut: 1, MaxOut: 1, Check: checkConstant,
		Attrs: map[string]AttrRule{
			"value":         {Kind: AttrTensor},
			"value_float":   {Kind: AttrFloat, Since: 12},
			"value_floats":  {Kind: AttrFloats, Since: 12},
			"value_int":     {Kind: AttrInt, Since: 12},
			"value_ints":    {Kind: AttrInts, Since: 12},
			"value_string":  {Kind: AttrString, Since: 12, Check: notSupported},
			"value_strings": {Kind: AttrStrings, Since: 12, Check: notSupported},
		}}},
	OpShape: {Name: "Shape", ONNX: &ONNXRule{MinIn: 1, MaxIn: 1, MinOut: 1, MaxOut: 1,
		Attrs: map[string]AttrRule{
			"start": {Kind: AttrInt, Since: 15, Default: intAttr(0)}, "end": {Kind: AttrInt, Since: 15},
		}}},
	OpConcat: {Name: "Concat", ONNX: &ONNXRule{Since: 4, MinIn: 1, MaxIn: -1, MinOut: 1, MaxOut: 1, Required: []string{"axis"},
		Attrs: map[string]AttrRule{"axis": {Kind: AttrInt}}}},
	OpRange:  {Name: "Range", ONNX: &ONNXRule{MinIn: 3, MaxIn: 3, MinOut: 1, MaxOut: 1}},
	OpWhere:  {Name: "Where", ONNX: &ONNXRule{MinIn: 3, MaxIn: 3, MinOut: 1, MaxOut: 1}},
	OpExpand: {Name: "Expand", ONNX: &ONNXRule{MinIn: 2, MaxIn: 2, MinOut: 1, MaxOut: 1}},
	OpSlice: {Name: "Slice", ONNX: &ONNXRule{MinOut: 1, MaxOut: 1, Optional: []int{3, 4},
		InputsAt: inputsFrom(10, 3, 5, 1, 1),
		Attrs: map[string]AttrRule{
			"starts": {Kind: AttrInts, Until: 10},
			"ends":   {Kind: AttrInts, Until: 10},
			"axes":   {Kind: AttrInts, Until: 10},
		},
		Check: checkSliceAttrs}},

	OpConv:              {Name: "Conv", ONNX: convRule()},
	OpMaxPool:           {Name: "MaxPool", ONNX: poolRule(true)},
	OpAveragePool:       {Name: "AveragePool", ONNX: poolRule(false)},
	OpGlobalAveragePool: {Name: "GlobalAveragePool", ONNX: rule(unaryOp)},
	OpGlobalMaxPool:     {Name: "GlobalMaxPool", ONNX: rule(unaryOp)},
	OpLoop:              {Name: "Loop", ONNX: loopRule()},
	OpScan:              {Name: "Scan", ONNX: scanRule()},
	OpIf:                {Name: "If", ONNX: ifRule()},

	OpErf:             {Name: "Erf", ONNX: since(unaryOp, 9)},
	OpSqrt:            {Name: "Sqrt", ONNX: since(unaryOp, 6)},
	OpExp:             {Name: "Exp", ONNX: since(unaryOp, 6)},
	OpLog:             {Name: "Log", ONNX: since(unaryOp, 6)},
	OpNeg:             {Name: "Neg", ONNX: since(unaryOp, 6)},
	OpAbs:             {Name: "Abs", ONNX: since(unaryOp, 6)},
	OpReciprocal:      {Name: "Reciprocal", ONNX: since(unaryOp, 6)},
	OpSign:            {Name: "Sign", ONNX: since(unaryOp, 9)},
	OpFloor:           {Name: "Floor", ONNX: since(unaryOp, 6)},
	OpCeil:            {Name: "Ceil", ONNX: since(unaryOp, 6)},
	OpRound:           {Name: "Round", ONNX: since(unaryOp, 11)},
	OpSin:             {Name: "Sin", ONNX: since(unaryOp, 7)},
	OpCos:             {Name: "Cos", ONNX: since(unaryOp, 7)},
	OpTan:             {Name: "Tan", ONNX: since(unaryOp, 7)},
	OpAsin:            {Name: "Asin", ONNX: since(unaryOp, 7)},
	OpAcos:            {Name: "Acos", ONNX: since(unaryOp, 7)},
	OpAtan:            {Name: "Atan", ONNX: since(unaryOp, 7)},
	OpSinh:            {Name: "Sinh", ONNX: since(unaryOp, 9)},
	OpCosh:            {Name: "Cosh", ONNX: since(unaryOp, 9)},
	OpAsinh:           {Name: "Asinh", ONNX: since(unaryOp, 9)},
	OpAcosh:           {Name: "Acosh", ONNX: since(unaryOp, 9)},
	OpAtanh:           {Name: "Atanh", ONNX: since(unaryOp, 9)},
	OpSoftplus:        {Name: "Softplus", ONNX: since(unaryOp, 1)},
	OpSoftsign:        {Name: "Softsign", ONNX: since(unaryOp, 1)},
	OpHardSigmoid:     {Name: "HardSigmoid", ONNX: unaryWith(6, floats{"alpha": 0.2, "beta": 0.5})},
	OpHardSwish:       {Name: "HardSwish", ONNX: since(unaryOp, 14)},
	OpLeakyRelu:       {Name: "LeakyRelu", ONNX: unaryWith(6, floats{"alpha": 0.01})},
	OpElu:             {Name: "Elu", ONNX: unaryWith(6, floats{"alpha": 1})},
	OpSelu:            {Name: "Selu", ONNX: unaryWith(6, floats{"alpha": 1.67326319217681884765625, "gamma": 1.05070102214813232421875})},
	OpCelu:            {Name: "Celu", ONNX: unaryWith(12, floats{"alpha": 1})},
	OpThresholdedRelu: {Name: "ThresholdedRelu", ONNX: unaryWith(10, floats{"alpha": 1})},
	OpGelu: {Name: "Gelu", ONNX: &ONNXRule{Since: 20, MinIn: 1, MaxIn: 1, MinOut: 1, MaxOut: 1,
		Attrs: map[string]AttrRule{"approximate": {Kind: AttrString, Check: oneOf("none", "tanh"), Default: Attr{Kind: AttrString, String: "none"}}}}},
	OpIsNaN: {Name: "IsNaN", ONNX: since(unaryOp, 9)},
	OpIsInf: {Name: "IsInf", ONNX: &ONNXRule{Since: 10, MinIn: 1, MaxIn: 1, MinOut: 1, MaxOut: 1,
		Attrs: map[string]AttrRule{
			"detect_negative": {Kind: AttrInt, Check: intIn(0, 1), Default: intAttr(1)},
			"detect_positive": {Kind: AttrInt, Check: intIn(0, 1), Default: intAttr(1)},
		}}},
	// Clip's bounds are attributes before opset 11 and optional inputs from
	// it; absent bounds are the float range, as the specification says.
	OpClip: {Name: "Clip", ONNX: &ONNXRule{Since: 6, MinOut: 1, MaxOut: 1, Optional: []int{1, 2},
		InputsAt: inputsFrom(11, 1, 3, 1, 1),
		Attrs: map[string]AttrRule{
			"min": {Kind: AttrFloat, Until: 11, Default: floatAttr(-math.MaxFloat32)},
			"max": {Kind: AttrFloat, Until: 11, Default: floatAttr(math.MaxFloat32)},
		}}},
	OpPow: {Name: "Pow", ONNX: since(binaryOp, 7)},
	OpMod: {Name: "Mod", ONNX: &ONNXRule{Since: 10, MinIn: 2, MaxIn: 2, MinOut: 1, MaxOut: 1,
		Attrs: map[string]AttrRule{"fmod": {Kind: AttrInt, Check: intIn(0, 1), Default: intAttr(0)}}}},
	OpPRelu:              {Name: "PRelu", ONNX: since(binaryOp, 7)},
	OpGreaterOrEqual:     {Name: "GreaterOrEqual", ONNX: since(binaryOp, 12)},
	OpLessOrEqual:        {Name: "LessOrEqual", ONNX: since(binaryOp, 12)},
	OpOr:                 {Name: "Or", ONNX: rule(binaryOp)},
	OpXor:                {Name: "Xor", ONNX: rule(binaryOp)},
	OpMax:                {Name: "Max", ONNX: rule(variadicOp)},
	OpMin:                {Name: "Min", ONNX: rule(variadicOp)},
	OpSum:                {Name: "Sum", ONNX: rule(variadicOp)},
	OpMean:               {Name: "Mean", ONNX: rule(variadicOp)},
	OpReduceMean:         {Name: "ReduceMean", ONNX: reduceRule(18)},
	OpReduceSum:          {Name: "ReduceSum", ONNX: reduceRule(13)},
	OpReduceMax:          {Name: "ReduceMax", ONNX: reduceRule(18)},
	OpReduceMin:          {Name: "ReduceMin", ONNX: reduceRule(18)},
	OpReduceProd:         {Name: "ReduceProd", ONNX: reduceRule(18)},
	OpReduceL1:           {Name: "ReduceL1", ONNX: reduceRule(18)},
	OpReduceL2:           {Name: "ReduceL2", ONNX: reduceRule(18)},
	OpReduceLogSum:       {Name: "ReduceLogSum", ONNX: reduceRule(18)},
	OpReduceLogSumExp:    {Name: "ReduceLogSumExp", ONNX: reduceRule(18)},
	OpReduceSumSquare:    {Name: "ReduceSumSquare", ONNX: reduceRule(18)},
	OpArgMax:             {Name: "ArgMax", ONNX: argRule()},
	OpArgMin:             {Name: "ArgMin", ONNX: argRule()},
	OpSoftmax:            {Name: "Softmax", Seq: &SeqRule{}, ONNX: softmaxRule()},
	OpLogSoftmax:         {Name: "LogSoftmax", ONNX: softmaxRule()},
	OpHardmax:            {Name: "Hardmax", ONNX: softmaxRule()},
	OpConstantOfShape:    {Name: "ConstantOfShape", ONNX: constantOfShapeRule()},
	OpLayerNormalization: {Name: "LayerNormalization", ONNX: layerNormRule()},
	OpBatchNormalization: {Name: "BatchNormalization", ONNX: batchNormRule()},
	OpCumSum: {Name: "CumSum", ONNX: &ONNXRule{Since: 11, MinIn: 2, MaxIn: 2, MinOut: 1, MaxOut: 1,
		Attrs: map[string]AttrRule{
			"exclusive": {Kind: AttrInt, Check: intIn(0, 1), Default: intAttr(0)},
			"reverse":   {Kind: AttrInt, Check: intIn(0, 1), Default: intAttr(0)},
		}}},
	OpSplit: {Name: "Split", ONNX: &ONNXRule{Since: 2, MinOut: 1, MaxOut: math.MaxInt32, Optional: []int{1},
		InputsAt: inputsFrom(13, 1, 2, 1, 1),
		Attrs: map[string]AttrRule{
			"axis":        {Kind: AttrInt, Default: intAttr(0)},
			"split":       {Kind: AttrInts, Until: 13},
			"num_outputs": {Kind: AttrInt, Since: 18, Check: positive},
		},
		Check: checkSplit}},
	OpTile: {Name: "Tile", ONNX: &ONNXRule{Since: 6, MinIn: 2, MaxIn: 2, MinOut: 1, MaxOut: 1}},
	OpPad:  {Name: "Pad", ONNX: padRule()},
	OpFlatten: {Name: "Flatten", ONNX: &ONNXRule{MinIn: 1, MaxIn: 1, MinOut: 1, MaxOut: 1,
		Attrs: map[string]AttrRule{"axis": {Kind: AttrInt, Default: intAttr(1)}}}},
	OpSize: {Name: "Size", ONNX: rule(unaryOp)},
	OpTrilu: {Name: "Trilu", ONNX: &ONNXRule{Since: 14, MinIn: 1, MaxIn: 2, MinOut: 1, MaxOut: 1, Optional: []int{1},
		Attrs: map[string]AttrRule{"upper": {Kind: AttrInt, Check: intIn(0, 1), Default: intAttr(1)}}}},
	OpCastLike: {Name: "CastLike", ONNX: &ONNXRule{Since: 15, MinIn: 2, MaxIn: 2, MinOut: 1, MaxOut: 1,
		Attrs: map[string]AttrRule{"saturate": {Kind: AttrInt, Since: 19}}}},
	OpNonZero: {Name: "NonZero", ONNX: since(unaryOp, 9)},
	OpOneHot: {Name: "OneHot", ONNX: &ONNXRule{Since: 9, MinIn: 3, MaxIn: 3, MinOut: 1, MaxOut: 1,
		Attrs: map[string]AttrRule{"axis": {Kind: AttrInt, Default: intAttr(-1)}}}},
	OpGatherElements: {Name: "GatherElements", ONNX: &ONNXRule{Since: 11, MinIn: 2, MaxIn: 2, MinOut: 1, MaxOut: 1,
		Attrs: map[string]AttrRule{"axis": {Kind: AttrInt, Default: intAttr(0)}}}},
	OpScatterElements: {Name: "ScatterElements", ONNX: &ONNXRule{Since: 11, MinIn: 3, MaxIn: 3, MinOut: 1, MaxOut: 1,
		Attrs: map[string]AttrRule{
			"axis":      {Kind: AttrInt, Default: intAttr(0)},
			"reduction": {Kind: AttrString, Since: 16, Check: oneOf("none", "add", "mul", "max", "min"), Default: Attr{Kind: AttrString, String: "none"}},
		},
		Check: checkScatterReduction}},
	OpTopK: {Name: "TopK", ONNX: &ONNXRule{Since: 10, MinIn: 2, MaxIn: 2, MinOut: 2, MaxOut: 2,
		Attrs: map[string]AttrRule{
			"axis":    {Kind: AttrInt, Default: intAttr(-1)},
			"largest": {Kind: AttrInt, Since: 11, Check: intIn(0, 1), Default: intAttr(1)},
			"sorted":  {Kind: AttrInt, Since: 11, Check: intIn(0, 1), Default: intAttr(1)},
		}}},
}

func init() {
	for i := range opTable {
		opTable[i].Op = Op(i)
	}
	opTable[OpInvalid].Name = "Invalid"
}

// inputsFrom is an InputsAt for an op whose inputs changed at opset v.
func inputsFrom(v, minNew, maxNew, minOld, maxOld int) func(int) (int, int) {
	return func(opset int) (int, int) {
		if opset >= v {
			return minNew, maxNew
		}
		return minOld, maxOld
	}
}

// rnnRule is the ONNX contract of LSTM (maxIn 8, 3 outputs) and GRU (6, 2),
// which share every attribute but one.
func rnnRule(maxIn, maxOut int, extra string, extraRule AttrRule) *ONNXRule {
	attrs := map[string]AttrRule{
		"hidden_size":      {Kind: AttrInt, Check: positive},
		"direction":        {Kind: AttrString, Check: oneOf(DirForward, DirReverse, DirBidirectional), Default: Attr{Kind: AttrString, String: DirForward}},
		"layout":           {Kind: AttrInt, Since: 14, Check: intIn(0, 1), Default: intAttr(0)},
		"activations":      {Kind: AttrStrings},
		"activation_alpha": {Kind: AttrFloats},
		"activation_beta":  {Kind: AttrFloats},
		"clip":             {Kind: AttrFloat, Check: notSupported},
		extra:              extraRule,
	}
	optional := make([]int, 0, maxIn-3)
	for i := 3; i < maxIn; i++ {
		optional = append(optional, i)
	}
	return &ONNXRule{Since: 7, MinIn: 3, MaxIn: maxIn, MinOut: 0, MaxOut: maxOut, Optional: optional,
		OmitOutputs: true, Attrs: attrs, Check: checkActivations}
}

// floats are float attributes with their defaults, for unaryWith.
type floats map[string]float32

// unaryWith is a unary operator from opset v whose attributes are floats
// with defaults (LeakyRelu's alpha, ...).
func unaryWith(v int, defaults floats) *ONNXRule {
	r := since(unaryOp, v)
	r.Attrs = make(map[string]AttrRule, len(defaults))
	for name, d := range defaults {
		r.Attrs[name] = AttrRule{Kind: AttrFloat, Default: floatAttr(d)}
	}
	return r
}

// reduceRule is the contract of the Reduce ops: the axes are an attribute
// before opset v (18, or 13 for ReduceSum) and an optional input from it,
// where noop_with_empty_axes appears.
func reduceRule(v int) *ONNXRule {
	return &ONNXRule{Since: 1, MinOut: 1, MaxOut: 1, Optional: []int{1},
		InputsAt: inputsFrom(v, 1, 2, 1, 1),
		Attrs: map[string]AttrRule{
			"axes":                 {Kind: AttrInts, Until: v},
			"keepdims":             {Kind: AttrInt, Check: intIn(0, 1), Default: intAttr(1)},
			"noop_with_empty_axes": {Kind: AttrInt, Since: v, Check: intIn(0, 1), Default: intAttr(0)},
		}}
}

func argRule() *ONNXRule {
	return &ONNXRule{Since: 1, MinIn: 1, MaxIn: 1, MinOut: 1, MaxOut: 1,
		Attrs: map[string]AttrRule{
			"axis":              {Kind: AttrInt, Default: intAttr(0)},
			"keepdims":          {Kind: AttrInt, Check: intIn(0, 1), Default: intAttr(1)},
			"select_last_index": {Kind: AttrInt, Since: 12, Check: intIn(0, 1), Default: intAttr(0)},
		}}
}

// softmaxRule is Softmax, LogSoftmax and Hardmax. From opset 13 they work
// along one axis, as trnn's kernels do. Before 13 they flattened the input
// to 2-D at the axis (default 1), a different function: the ONNX reader
// writes such a node as Flatten, the opset-13 op and Reshape. From opset 5,
// where Reshape takes its shape as an input.
func softmaxRule() *ONNXRule {
	return &ONNXRule{Since: 5, MinIn: 1, MaxIn: 1, MinOut: 1, MaxOut: 1,
		Attrs: map[string]AttrRule{"axis": {Kind: AttrInt, Default: intAttr(-1)}}}
}

func constantOfShapeRule() *ONNXRule {
	zero := &Tensor{DType: Float32, Shape: []int{1}, F32: []float32{0}}
	return &ONNXRule{Since: 9, MinIn: 1, MaxIn: 1, MinOut: 1, MaxOut: 1,
		Attrs: map[string]AttrRule{"value": {Kind: AttrTensor, Check: oneElement, Default: Attr{Kind: AttrTensor, Tensor: zero}}}}
}

// layerNormRule: Mean and InvStdDev are optional outputs, and only the
// float32 statistics (stash_type 1) are implemented.
func layerNormRule() *ONNXRule {
	return &ONNXRule{Since: 17, MinIn: 2, MaxIn: 3, MinOut: 1, MaxOut: 3, Optional: []int{2}, OmitOutputs: true,
		Attrs: map[string]AttrRule{
			"axis":       {Kind: AttrInt, Default: intAttr(-1)},
			"epsilon":    {Kind: AttrFloat, Default: floatAttr(1e-5)},
			"stash_type": {Kind: AttrInt, Check: intIn(1), Default: intAttr(1)},
		}}
}

// batchNormRule is BatchNormalization in inference mode, from opset 9
// (before, the spatial attribute changed the statistics' shapes). The
// outputs after Y exist only in training mode.
func batchNormRule() *ONNXRule {
	return &ONNXRule{Since: 9, MinIn: 5, MaxIn: 5, MinOut: 1, MaxOut: 5, OmitOutputs: true,
		Attrs: map[string]AttrRule{
			"epsilon":       {Kind: AttrFloat, Default: floatAttr(1e-5)},
			"momentum":      {Kind: AttrFloat, Default: floatAttr(0.9)},
			"training_mode": {Kind: AttrInt, Since: 14, Check: intIn(0), Default: intAttr(0)},
		},
		Check: checkBatchNorm}
}

// padRule: the pads and the constant are attributes before opset 11 and
// inputs from it; the axes input comes with opset 18.
func padRule() *ONNXRule {
	return &ONNXRule{Since: 2, MinOut: 1, MaxOut: 1, Optional: []int{2, 3},
		InputsAt: func(opset int) (int, int) {
			switch {
			case opset >= 18:
				return 2, 4
			case opset >= 11:
				return 2, 3
			}
			return 1, 1
		},
		Attrs: map[string]AttrRule{
			"mode":  {Kind: AttrString, Check: oneOf("constant", "reflect", "edge", "wrap"), Default: Attr{Kind: AttrString, String: "constant"}},
			"pads":  {Kind: AttrInts, Until: 11},
			"value": {Kind: AttrFloat, Until: 11, Default: floatAttr(0)},
		},
		Check: checkPad}
}

// dropoutRule is Dropout at inference, the identity (with an all-true
// mask). The ratio is an attribute before opset 12 and an input, with
// training_mode, from it; the kernel refuses training mode when the
// input asks for it. Opset 10 made the mask bool.
func dropoutRule() *ONNXRule {
	return &ONNXRule{Since: 10, MinOut: 1, MaxOut: 2, Optional: []int{1, 2},
		InputsAt: inputsFrom(12, 1, 3, 1, 1),
		Attrs: map[string]AttrRule{
			"ratio": {Kind: AttrFloat, Until: 12, Default: floatAttr(0.5)},
			"seed":  {Kind: AttrInt, Since: 12},
		}}
}

// ---- Sequence-form output widths.

func normalizeWidth(_ *Node, I int, _ [][]int) (int, [][]int, error) {
	return I, [][]int{{I}, {I}}, nil
}

// preprocessWidth is Σ_f (C_f if feature f is categorical else 1), plus F
// with indicators; mean and std are [F].
func preprocessWidth(n *Node, F int, _ [][]int) (int, [][]int, error) {
	p, err := PreprocessOf(n)
	if err != nil {
		return 0, nil, err
	}
	if len(p.Categories) != F {
		return 0, nil, fmt.Errorf("attribute categories has %d entries for %d features", len(p.Categories), F)
	}
	return p.Width(), [][]int{{F}, {F}}, nil
}

func lstmWidth(n *Node, I int, _ [][]int) (int, [][]int, error) {
	H, err := hiddenSize(n)
	if err != nil {
		return 0, nil, err
	}
	G := LSTMGates
	return H, [][]int{{G * H, I}, {G * H, H}, {G * H}}, nil
}

func gruWidth(n *Node, I int, _ [][]int) (int, [][]int, error) {
	H, err := hiddenSize(n)
	if err != nil {
		return 0, nil, err
	}
	if a, ok := n.Attrs[AttrNameLinearBeforeReset]; !ok || a.Kind != AttrInt || a.Int != 1 {
		return 0, nil, fmt.Errorf("attribute linear_before_reset must be the int 1")
	}
	G := GRUGates
	return H, [][]int{{G * H, I}, {G * H, H}, {2 * G * H}}, nil
}

func dropoutWidth(n *Node, I int, _ [][]int) (int, [][]int, error) {
	a, ok := n.Attrs[AttrNameRate]
	if !ok || a.Kind != AttrFloat || !(a.Float >= 0 && a.Float < 1) {
		return 0, nil, fmt.Errorf("attribute rate must be a float in [0, 1)")
	}
	return I, nil, nil
}

// denseWidth takes K from W [K, I].
func denseWidth(n *Node, I int, ps [][]int) (int, [][]int, error) {
	if len(ps[0]) != 2 || ps[0][1] != I || ps[0][0] < 1 {
		return 0, nil, fmt.Errorf("W %q has shape %s, want [K,%d]", n.Inputs[1], intsText(ps[0]), I)
	}
	K := ps[0][0]
	return K, [][]int{ps[0], {K}}, nil
}

func hiddenSize(n *Node) (int, error) {
	a, ok := n.Attrs[AttrNameHiddenSize]
	if !ok || a.Kind != AttrInt || a.Int < 1 || a.Int > MaxUnits {
		return 0, fmt.Errorf("attribute hidden_size must be an int from 1 to %d", MaxUnits)
	}
	return int(a.Int), nil
}

// ---- ONNX attribute checks.

func positive(name string, a Attr) error {
	if a.Int <= 0 || a.Int > MaxElements {
		return malformed("attribute %s: expected a positive integer, found %d", name, a.Int)
	}
	return nil
}

func oneOf(values ...string) func(string, Attr) error {
	return func(name string, a Attr) error {
		if !slices.Contains(values, a.String) {
			return malformed("attribute %s: expected one of %s, found %q", name, strings.Join(values, ", "), a.String)
		}
		return nil
	}
}

// intIn accepts the listed values. With one value, others are valid ONNX
// that trnn does not implement; with several, they are all ONNX allows.
func intIn(values ...int64) func(string, Attr) error {
	return func(name string, a Attr) error {
		if !slices.Contains(values, a.Int) {
			if len(values) == 1 {
				return unsupported("attribute %s = %d is not supported (only %d)", name, a.Int, values[0])
			}
			return malformed("attribute %s: expected one of %v, found %d", name, values, a.Int)
		}
		return nil
	}
}

func notSupported(name string, _ Attr) error {
	return unsupported("attribute %s is not supported", name)
}

func checkPerm(name string, a Attr) error {
	seen := make([]bool, len(a.Ints))
	for _, v := range a.Ints {
		if v < 0 || v >= int64(len(a.Ints)) || seen[v] {
			return malformed("attribute %s: %v is not a permutation of 0..%d", name, a.Ints, len(a.Ints)-1)
		}
		seen[v] = true
	}
	return nil
}

func checkCastTo(name string, a Attr) error {
	if a.Int < math.MinInt32 || a.Int > math.MaxInt32 {
		return malformed("attribute %s: unknown element type %d", name, a.Int)
	}
	if _, err := ONNXDType(int32(a.Int)); err != nil {
		re := err.(*RuleError)
		return &RuleError{Msg: "attribute " + name + ": " + re.Msg, Unsupported: re.Unsupported}
	}
	return nil
}

// ---- ONNX rules over several attributes.

func checkConstant(n *Node, _ int) error {
	count := 0
	for name := range n.Attrs {
		if strings.HasPrefix(name, "value") {
			count++
		}
	}
	if count != 1 {
		return malformed("exactly one value attribute is required, found %d", count)
	}
	return nil
}

func checkUnsqueeze(n *Node, opset int) error {
	if _, ok := n.Attrs["axes"]; opset < 13 && !ok {
		return malformed("attribute axes is required")
	}
	return nil
}

func checkSliceAttrs(n *Node, opset int) error {
	if opset >= 10 {
		return nil
	}
	_, s := n.Attrs["starts"]
	_, e := n.Attrs["ends"]
	if !s || !e {
		return malformed("attributes starts and ends are required")
	}
	return nil
}

func oneElement(name string, a Attr) error {
	if n := a.Tensor.Len(); n != 1 {
		return malformed("attribute %s: expected a tensor of one element, found %d", name, n)
	}
	return nil
}

func checkBatchNorm(n *Node, opset int) error {
	if opset >= 14 && len(n.Outputs) > 3 {
		return malformed("BatchNormalization at opset %d takes 1 to 3 outputs, found %d", opset, len(n.Outputs))
	}
	if n.Outputs[0] == "" {
		return malformed("output 0 has no name")
	}
	for i, out := range n.Outputs[1:] {
		if out != "" {
			return unsupported("output %d exists only in training mode, which is not supported", i+1)
		}
	}
	return nil
}

func checkPad(n *Node, opset int) error {
	if _, ok := n.Attrs["pads"]; opset < 11 && !ok {
		return malformed("attribute pads is required")
	}
	if m := n.Attrs["mode"]; m.String == "wrap" && opset < 19 {
		return malformed("attribute mode: wrap needs opset 19, found opset %d", opset)
	}
	return nil
}

// checkSplit: from opset 18 the parts are given by the split input or by
// num_outputs, not both, and num_outputs counts the node's outputs.
func checkSplit(n *Node, _ int) error {
	a, ok := n.Attrs["num_outputs"]
	if !ok {
		return nil
	}
	if len(n.Inputs) > 1 {
		return malformed("input split and attribute num_outputs are both given")
	}
	if a.Int != int64(len(n.Outputs)) {
		return malformed("attribute num_outputs is %d, but the node has %d outputs", a.Int, len(n.Outputs))
	}
	return nil
}

func checkScatterReduction(n *Node, opset int) error {
	if r := n.Attrs["reduction"].String; (r == "max" || r == "min") && opset < 18 {
		return malformed("attribute reduction: %s needs opset 18, found opset %d", r, opset)
	}
	return nil
}

// checkActivations accepts only the default activations (sigmoid, then
// tanh, per direction): the kernels implement no others.
func checkActivations(n *Node, _ int) error {
	a, ok := n.Attrs["activations"]
	if !ok {
		return nil
	}
	dirs := 1
	if n.Attrs["direction"].String == DirBidirectional {
		dirs = 2
	}
	per := 3
	if n.Op == OpGRU {
		per = 2
	}
	if len(a.Strings) != per*dirs {
		return malformed("attribute activations: expected %d functions, found %d", per*dirs, len(a.Strings))
	}
	for i, f := range a.Strings {
		want := "tanh"
		if i%per == 0 {
			want = "sigmoid"
		}
		if !strings.EqualFold(f, want) {
			return unsupported("attribute activations %v is not supported (only the defaults: Sigmoid, then Tanh)", a.Strings)
		}
	}
	return nil
}

// onnxTypeNames are ONNX's TensorProto.DataType names by number, for
// messages about types trnn does not read.
var onnxTypeNames = []string{"UNDEFINED", "FLOAT", "UINT8", "INT8", "UINT16", "INT16", "INT32", "INT64",
	"STRING", "BOOL", "FLOAT16", "DOUBLE", "UINT32", "UINT64", "COMPLEX64", "COMPLEX128", "BFLOAT16",
	"FLOAT8E4M3FN", "FLOAT8E4M3FNUZ", "FLOAT8E5M2", "FLOAT8E5M2FNUZ", "UINT4", "INT4", "FLOAT4E2M1"}

// DTypes lists the element types trnn reads, for messages.
const DTypes = "float32, float64, int32, int64 and bool"

// ONNXDType maps an ONNX element type number to a DType. The error is a
// *RuleError, Unsupported for a valid type trnn does not read.
func ONNXDType(t int32) (DType, error) {
	switch {
	case t == int32(Float32), t == int32(Float64), t == int32(Int32), t == int32(Int64), t == int32(Bool):
		return DType(t), nil
	case t == 0:
		return 0, malformed("element type is undefined")
	case t < 0 || int(t) >= len(onnxTypeNames):
		return 0, malformed("unknown element type %d", t)
	}
	return 0, unsupported("element type %s is not supported (trnn reads %s)", onnxTypeNames[t], DTypes)
}

// CheckedSize is Size for a shape from outside trnn (a file, an operator's
// computed output): it refuses a negative dimension and more than
// MaxElements elements, so that damaged data fails before it allocates.
func CheckedSize(shape []int) (int, error) {
	n := 1
	zero := false
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("negative dimension in shape %s", FormatShape(shape))
		}
		if d == 0 {
			zero = true
			continue
		}
		if n > MaxElements/d {
			return 0, fmt.Errorf("shape %s has more than %d elements", FormatShape(shape), MaxElements)
		}
		n *= d
	}
	if zero {
		return 0, nil
	}
	return n, nil
}

// CheckTensor reports whether t is well formed: an element type trnn reads,
// a shape CheckedSize accepts, and a data slice of exactly that many
// elements. Tensors from files and callers pass it before any kernel reads
// them.
func CheckTensor(t *Tensor) error {
	if t == nil {
		return fmt.Errorf("missing tensor")
	}
	switch t.DType {
	case Float32, Float64, Int32, Int64, Bool:
	default:
		return fmt.Errorf("unsupported element type %v", t.DType)
	}
	n, err := CheckedSize(t.Shape)
	if err != nil {
		return err
	}
	if t.Len() != n {
		return fmt.Errorf("%d elements for shape %s (%d expected)", t.Len(), FormatShape(t.Shape), n)
	}
	return nil
}

// FormatShape prints a tensor's shape as messages show it: [2, 3, 4]; a
// scalar is [].
func FormatShape(shape []int) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, d := range shape {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprint(&b, d)
	}
	b.WriteByte(']')
	return b.String()
}
