package export_test

// The Triton repository: config.pbtxt is parsed by a protobuf text-format
// parser against message definitions with Triton's names and field numbers
// (model_config.proto of triton-inference-server/common), built here as
// descriptors, so that a misspelt field, a wrong kind of value or a syntax
// error fails the parse as it would fail Triton's.

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/trnn/trnn/export"
	"github.com/trnn/trnn/graph"
)

// tritonField declares a field of a Triton message: its name, number, kind,
// and for a message or enum field, the type's full name.
func tritonField(name string, num int32, typ descriptorpb.FieldDescriptorProto_Type, repeated bool, typeName string) *descriptorpb.FieldDescriptorProto {
	label := descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL
	if repeated {
		label = descriptorpb.FieldDescriptorProto_LABEL_REPEATED
	}
	f := &descriptorpb.FieldDescriptorProto{Name: proto.String(name), Number: proto.Int32(num), Type: typ.Enum(), Label: label.Enum(), JsonName: proto.String(name)}
	if typeName != "" {
		f.TypeName = proto.String(".inference." + typeName)
	}
	return f
}

// tritonConfigType returns the descriptor of Triton's ModelConfig with the
// fields trnn writes and those next to them (model_config.proto, package
// inference, proto3).
func tritonConfigType(t *testing.T) protoreflect.MessageDescriptor {
	t.Helper()
	const (
		str   = descriptorpb.FieldDescriptorProto_TYPE_STRING
		i32   = descriptorpb.FieldDescriptorProto_TYPE_INT32
		i64   = descriptorpb.FieldDescriptorProto_TYPE_INT64
		u64   = descriptorpb.FieldDescriptorProto_TYPE_UINT64
		boolT = descriptorpb.FieldDescriptorProto_TYPE_BOOL
		enum  = descriptorpb.FieldDescriptorProto_TYPE_ENUM
		msg   = descriptorpb.FieldDescriptorProto_TYPE_MESSAGE
	)
	var dataTypes []*descriptorpb.EnumValueDescriptorProto
	for i, n := range []string{"TYPE_INVALID", "TYPE_BOOL", "TYPE_UINT8", "TYPE_UINT16", "TYPE_UINT32", "TYPE_UINT64", "TYPE_INT8", "TYPE_INT16",
		"TYPE_INT32", "TYPE_INT64", "TYPE_FP16", "TYPE_FP32", "TYPE_FP64", "TYPE_STRING", "TYPE_BF16"} {
		dataTypes = append(dataTypes, &descriptorpb.EnumValueDescriptorProto{Name: proto.String(n), Number: proto.Int32(int32(i))})
	}
	message := func(name string, fields ...*descriptorpb.FieldDescriptorProto) *descriptorpb.DescriptorProto {
		return &descriptorpb.DescriptorProto{Name: proto.String(name), Field: fields}
	}
	file := &descriptorpb.FileDescriptorProto{
		Name:     proto.String("model_config.proto"),
		Package:  proto.String("inference"),
		Syntax:   proto.String("proto3"),
		EnumType: []*descriptorpb.EnumDescriptorProto{{Name: proto.String("DataType"), Value: dataTypes}},
		MessageType: []*descriptorpb.DescriptorProto{
			message("ModelTensorReshape", tritonField("shape", 1, i64, true, "")),
			message("ModelInput",
				tritonField("name", 1, str, false, ""), tritonField("data_type", 2, enum, false, "DataType"),
				tritonField("dims", 4, i64, true, ""), tritonField("reshape", 5, msg, false, "ModelTensorReshape"),
				tritonField("is_shape_tensor", 6, boolT, false, ""), tritonField("allow_ragged_batch", 7, boolT, false, ""),
				tritonField("optional", 8, boolT, false, "")),
			message("ModelOutput",
				tritonField("name", 1, str, false, ""), tritonField("data_type", 2, enum, false, "DataType"),
				tritonField("dims", 3, i64, true, ""), tritonField("label_filename", 4, str, false, ""),
				tritonField("reshape", 5, msg, false, "ModelTensorReshape"), tritonField("is_shape_tensor", 6, boolT, false, "")),
			message("ModelDynamicBatching",
				tritonField("preferred_batch_size", 1, i32, true, ""), tritonField("max_queue_delay_microseconds", 2, u64, false, ""),
				tritonField("preserve_ordering", 3, boolT, false, "")),
			message("ModelConfig",
				tritonField("name", 1, str, false, ""), tritonField("platform", 2, str, false, ""),
				tritonField("max_batch_size", 4, i32, false, ""),
				tritonField("input", 5, msg, true, "ModelInput"), tritonField("output", 6, msg, true, "ModelOutput"),
				tritonField("dynamic_batching", 11, msg, false, "ModelDynamicBatching"),
				tritonField("backend", 17, str, false, "")),
		},
	}
	fd, err := protodesc.NewFile(file, nil)
	if err != nil {
		t.Fatalf("the Triton message definitions: %v", err)
	}
	return fd.Messages().ByName("ModelConfig")
}

// parseTritonConfig parses config.pbtxt as a ModelConfig.
func parseTritonConfig(t *testing.T, text []byte) protoreflect.Message {
	t.Helper()
	m := dynamicpb.NewMessage(tritonConfigType(t))
	if err := prototext.Unmarshal(text, m); err != nil {
		t.Fatalf("config.pbtxt does not parse as Triton's ModelConfig: %v\n%s", err, text)
	}
	return m
}

// tritonTensor is what a config declares for one input or output.
type tritonTensor struct {
	name, dataType string
	dims           []int64
	reshape        []int64 // nil: no reshape
}

// tritonWant is what a config must hold, field by field.
type tritonWant struct {
	name            string
	maxBatch        int32
	inputs, outputs []tritonTensor
	dynamicBatching bool
}

// checkTritonConfig compares every field of the parsed config with want,
// and checks that no other field is set.
func checkTritonConfig(t *testing.T, m protoreflect.Message, want tritonWant) {
	t.Helper()
	fields := m.Descriptor().Fields()
	str := func(name string) string { return m.Get(fields.ByName(protoreflect.Name(name))).String() }
	if got := str("name"); got != want.name {
		t.Errorf("name %q, want %q", got, want.name)
	}
	if p, b := str("platform"), str("backend"); p != "onnxruntime_onnx" || b != "onnxruntime" {
		t.Errorf("platform %q, backend %q; want onnxruntime_onnx, onnxruntime", p, b)
	}
	if got := int32(m.Get(fields.ByName("max_batch_size")).Int()); got != want.maxBatch {
		t.Errorf("max_batch_size %d, want %d", got, want.maxBatch)
	}
	db := fields.ByName("dynamic_batching")
	if m.Has(db) != want.dynamicBatching {
		t.Errorf("dynamic_batching set: %v, want %v", m.Has(db), want.dynamicBatching)
	} else if m.Has(db) {
		m.Get(db).Message().Range(func(f protoreflect.FieldDescriptor, _ protoreflect.Value) bool {
			t.Errorf("dynamic_batching sets %s; want the defaults", f.Name())
			return true
		})
	}
	for _, part := range []struct {
		field string
		want  []tritonTensor
	}{{"input", want.inputs}, {"output", want.outputs}} {
		list := m.Get(fields.ByName(protoreflect.Name(part.field))).List()
		if list.Len() != len(part.want) {
			t.Errorf("%d %ss, want %d", list.Len(), part.field, len(part.want))
			continue
		}
		for i, w := range part.want {
			checkTritonTensor(t, part.field, list.Get(i).Message(), w)
		}
	}
	m.Range(func(f protoreflect.FieldDescriptor, _ protoreflect.Value) bool {
		if !slices.Contains([]string{"name", "platform", "backend", "max_batch_size", "input", "output", "dynamic_batching"}, string(f.Name())) {
			t.Errorf("config sets %s", f.Name())
		}
		return true
	})
}

func checkTritonTensor(t *testing.T, field string, m protoreflect.Message, w tritonTensor) {
	t.Helper()
	fields := m.Descriptor().Fields()
	name := m.Get(fields.ByName("name")).String()
	dt := fields.ByName("data_type")
	dtName := string(dt.Enum().Values().ByNumber(m.Get(dt).Enum()).Name())
	var dims []int64
	l := m.Get(fields.ByName("dims")).List()
	for i := range l.Len() {
		dims = append(dims, l.Get(i).Int())
	}
	if name != w.name || dtName != w.dataType || !slices.Equal(dims, w.dims) {
		t.Errorf("%s: %s %s %v, want %s %s %v", field, name, dtName, dims, w.name, w.dataType, w.dims)
	}
	rf := fields.ByName("reshape")
	if m.Has(rf) != (w.reshape != nil) {
		t.Errorf("%s %s: reshape set %v, want %v", field, name, m.Has(rf), w.reshape != nil)
	} else if m.Has(rf) {
		if s := m.Get(rf).Message().Get(rf.Message().Fields().ByName("shape")).List(); s.Len() != len(w.reshape) {
			t.Errorf("%s %s: reshape shape of %d dims, want %v", field, name, s.Len(), w.reshape)
		}
	}
	m.Range(func(f protoreflect.FieldDescriptor, _ protoreflect.Value) bool {
		if !slices.Contains([]string{"name", "data_type", "dims", "reshape"}, string(f.Name())) {
			t.Errorf("%s %s sets %s", field, name, f.Name())
		}
		return true
	})
}

// TestTritonRepository writes trnn's models (plain, with step_probs, and
// stateful) into a repository and parses every config.pbtxt.
func TestTritonRepository(t *testing.T) {
	c := statefulCases()[1] // lstm7, dropout, gru5; F 4, K 3
	prog := testProgram(t, c)
	x := tritonTensor{name: "x", dataType: "TYPE_FP32", dims: []int64{-1, 4}}
	lengths := tritonTensor{name: "lengths", dataType: "TYPE_INT32", dims: []int64{1}, reshape: []int64{}}
	probs := tritonTensor{name: "probs", dataType: "TYPE_FP32", dims: []int64{3}}
	state := func(n string, H int64) tritonTensor {
		return tritonTensor{name: n, dataType: "TYPE_FP32", dims: []int64{H}}
	}
	cases := []struct {
		name string
		opts export.Options
		want tritonWant
	}{
		{"plain", export.Options{}, tritonWant{inputs: []tritonTensor{x, lengths}, outputs: []tritonTensor{probs}}},
		{"steps", export.Options{StepProbs: true}, tritonWant{inputs: []tritonTensor{x, lengths},
			outputs: []tritonTensor{probs, {name: "step_probs", dataType: "TYPE_FP32", dims: []int64{-1, 3}}}}},
		{"step.v2", export.Options{Stateful: true}, tritonWant{
			inputs:  []tritonTensor{x, lengths, state("h_in_0", 7), state("c_in_0", 7), state("h_in_1", 5)},
			outputs: []tritonTensor{probs, state("h_out_0", 7), state("c_out_0", 7), state("h_out_1", 5)}}},
	}
	repo := filepath.Join(t.TempDir(), "repo")
	for i, tc := range cases {
		model := exportBytes(t, prog, tc.opts)
		maxBatch := 16 * i // 0 for the first: batching off, full shapes
		if err := export.WriteTriton(repo, export.TritonModel{Name: tc.name, File: tc.name + ".onnx", ONNX: model, MaxBatchSize: maxBatch}); err != nil {
			t.Fatal(err)
		}
		if got, err := os.ReadFile(filepath.Join(repo, tc.name, "1", "model.onnx")); err != nil || !bytes.Equal(got, model) {
			t.Errorf("%s: 1/model.onnx is not the model (%v)", tc.name, err)
		}
		text, err := os.ReadFile(filepath.Join(repo, tc.name, "config.pbtxt"))
		if err != nil {
			t.Fatal(err)
		}
		want := tc.want
		want.name, want.maxBatch, want.dynamicBatching = tc.name, int32(maxBatch), maxBatch > 0
		if maxBatch == 0 {
			// Without batching, the batch dimension is declared, and
			// lengths is the vector it is.
			for _, l := range [][]tritonTensor{want.inputs, want.outputs} {
				for j := range l {
					l[j].dims, l[j].reshape = append([]int64{-1}, l[j].dims...), nil
					if l[j].name == "lengths" {
						l[j].dims = []int64{-1}
					}
				}
			}
		}
		checkTritonConfig(t, parseTritonConfig(t, text), want)
		if t.Failed() {
			t.Logf("%s/config.pbtxt:\n%s", tc.name, text)
		}
	}
	entries, _ := os.ReadDir(repo)
	if len(entries) != len(cases) {
		t.Errorf("the repository holds %d entries, want %d", len(entries), len(cases))
	}
}

// TestTritonConfigQuotesNames: value names with quotes, backslashes and
// bytes outside printable ASCII read back as they are.
func TestTritonConfigQuotesNames(t *testing.T) {
	odd := "in \"put\"\\ é\n"
	g := &graph.Graph{
		Inputs:  []graph.Value{{Name: odd, DType: graph.Int64, Shape: graph.Shape{graph.Sym("n"), graph.Fixed(2)}}},
		Outputs: []graph.Value{{Name: "ok", DType: graph.Bool, Shape: graph.Shape{graph.Sym("n")}}},
	}
	text, err := export.TritonConfig(g, "m", 8)
	if err != nil {
		t.Fatal(err)
	}
	checkTritonConfig(t, parseTritonConfig(t, text), tritonWant{
		name: "m", maxBatch: 8, dynamicBatching: true,
		inputs:  []tritonTensor{{name: odd, dataType: "TYPE_INT64", dims: []int64{2}}},
		outputs: []tritonTensor{{name: "ok", dataType: "TYPE_BOOL", dims: []int64{1}, reshape: []int64{}}},
	})
}

// TestTritonRefuses: what cannot be written is refused before anything is.
func TestTritonRefuses(t *testing.T) {
	model := exportBytes(t, testProgram(t, statefulCases()[0]), export.Options{})
	fixedBatch := &graph.Graph{Inputs: []graph.Value{{Name: "x", DType: graph.Float32, Shape: graph.Shape{graph.Fixed(1), graph.Fixed(3)}}}}
	noShape := &graph.Graph{Inputs: []graph.Value{{Name: "x", DType: graph.Float32}}}
	for _, tc := range []struct {
		what string
		err  func() error
		want string
	}{
		{"a path as name", func() error { _, err := export.TritonConfig(noShape, "../m", 0); return err }, `model name "../m"`},
		{"a hidden name", func() error { _, err := export.TritonConfig(noShape, ".m", 0); return err }, `model name ".m"`},
		{"an empty name", func() error { _, err := export.TritonConfig(noShape, "", 0); return err }, `model name ""`},
		{"a negative batch", func() error { _, err := export.TritonConfig(noShape, "m", -1); return err }, "max_batch_size -1"},
		{"no shape", func() error { _, err := export.TritonConfig(noShape, "m", 0); return err }, `input "x" has no declared shape`},
		{"a fixed batch", func() error { _, err := export.TritonConfig(fixedBatch, "m", 4); return err }, `input "x" has shape [1,3]: with batching`},
		{"not a model", func() error {
			return export.WriteTriton(t.TempDir(), export.TritonModel{Name: "m", File: "junk.onnx", ONNX: []byte("junk"), MaxBatchSize: 4})
		}, "not an ONNX model"},
	} {
		err := tc.err()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error containing %q", tc.what, err, tc.want)
		}
	}
	if _, err := export.TritonConfig(fixedBatch, "m", 0); err != nil {
		t.Errorf("a fixed batch without batching: %v", err)
	}
	repo := t.TempDir()
	if err := export.WriteTriton(repo, export.TritonModel{Name: "bad/name", File: "m.onnx", ONNX: model, MaxBatchSize: 4}); err == nil {
		t.Error("a name with a slash was accepted")
	}
	if entries, _ := os.ReadDir(repo); len(entries) != 0 {
		t.Errorf("a refused model left %d entries in the repository", len(entries))
	}
}
