package serve

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/trnn/trnn"
	"github.com/trnn/trnn/export"
	"github.com/trnn/trnn/export/onnxpb"
)

// x1 is a valid x for the model of TestInferErrors: one row of two steps of
// three features.
const x1 = `{"name": "x", "shape": [1, 2, 3], "datatype": "FP32", "data": [1, 2, 3, 4, 5, 6]}`

// lengths1 is the lengths that go with x1.
const lengths1 = `{"name": "lengths", "shape": [1], "datatype": "INT32", "data": [2]}`

func TestInferErrors(t *testing.T) {
	_, url := newServer(t, map[string]*trnn.Session{"qs": trnnModel(t, 3, export.Options{StepProbs: true})}, Options{})
	for _, c := range []struct {
		body   string
		status int
		err    string // a regexp the error message must match
	}{
		{`{"inputs": [`, 400, `^request body: unexpected end of JSON input$`},
		{`{"inputs": 3}`, 400, `^request body: json: cannot unmarshal number`},
		{`{"id": 3, "inputs": []}`, 400, `^request body: json: cannot unmarshal number into .* of type string`},
		{`{"inputs": []}`, 400, `^missing input "x" \(FP32 \[batch, time, 3\]\)$`},
		{`{"inputs": [` + x1 + `]}`, 400, `^missing input "lengths" \(INT32 \[batch\]\)$`},
		{`{"inputs": [` + x1 + `, ` + x1 + `]}`, 400, `^input "x" is given twice$`},
		{`{"inputs": [` + x1 + `, ` + lengths1 + `, {"name": "y"}]}`, 400, `^unknown input "y" \(the model's inputs are "x", "lengths"\)$`},
		{`{"inputs": [` + strings.Replace(x1, "FP32", "FP64", 1) + `, ` + lengths1 + `]}`, 400, `^input "x": datatype FP64, the model takes FP32$`},
		{`{"inputs": [` + x1 + `, ` + strings.Replace(lengths1, "INT32", "INT64", 1) + `]}`, 400, `^input "lengths": datatype INT64, the model takes INT32$`},
		{`{"inputs": [` + strings.Replace(x1, "[1, 2, 3]", "[1, 6]", 1) + `, ` + lengths1 + `]}`, 400, `^input "x": shape \[1, 6\] has rank 2, the model takes \[batch, time, 3\] \(rank 3\)$`},
		{`{"inputs": [` + strings.Replace(x1, "[1, 2, 3]", "[1, 3, 2]", 1) + `, ` + lengths1 + `]}`, 400, `^input "x": dimension 2 is 2, the model takes 3 \(shape \[batch, time, 3\]\)$`},
		{`{"inputs": [` + x1 + `, ` + strings.Replace(lengths1, `"shape": [1], "datatype": "INT32", "data": [2]`, `"shape": [2], "datatype": "INT32", "data": [2, 2]`, 1) + `]}`, 400, `^input "lengths": dimension 0 \(batch\) is 2, but batch is 1 in input "x"$`},
		{`{"inputs": [` + strings.Replace(x1, "[1, 2, 3]", "[1, -2, 3]", 1) + `, ` + lengths1 + `]}`, 400, `^input "x": shape \[1, -2, 3\] has a negative dimension$`},
		{`{"inputs": [` + strings.Replace(x1, "[1, 2, 3]", "[1, 4000000000, 3]", 1) + `, ` + lengths1 + `]}`, 400, `^input "x": shape \[1, 4000000000, 3\] holds over 2147483647 elements$`},
		{`{"inputs": [` + strings.Replace(x1, "5, 6]", "5]", 1) + `, ` + lengths1 + `]}`, 400, `^input "x": 5 values, shape \[1, 2, 3\] holds 6$`},
		{`{"inputs": [` + strings.Replace(x1, "5, 6]", "5, 6, 7]", 1) + `, ` + lengths1 + `]}`, 400, `^input "x": 7 values, shape \[1, 2, 3\] holds 6$`},
		{`{"inputs": [` + strings.Replace(x1, `"data": [1`, `"data": null, "x": [1`, 1) + `, ` + lengths1 + `]}`, 400, `^input "x": no data$`},
		{`{"inputs": [` + strings.Replace(x1, "4, 5", `4, "5"`, 1) + `, ` + lengths1 + `]}`, 400, `^input "x": element 4 is "5", expected a number$`},
		{`{"inputs": [` + strings.Replace(x1, "4, 5", `4, true`, 1) + `, ` + lengths1 + `]}`, 400, `^input "x": element 4 is true, expected a number$`},
		{`{"inputs": [` + strings.Replace(x1, "4, 5", `4, 1e39`, 1) + `, ` + lengths1 + `]}`, 400, `^input "x": element 4 is 1e39, outside the range of FP32$`},
		{`{"inputs": [` + strings.Replace(x1, "4, 5", `4, null`, 1) + `, ` + lengths1 + `]}`, 400, `^input "x": element 4 is null \(a missing value\), and the model does not impute missing values$`},
		{`{"inputs": [` + x1 + `, ` + strings.Replace(lengths1, "[2]}", "[2.5]}", 1) + `]}`, 400, `^input "lengths": element 0 is 2.5, expected an integer$`},
		{`{"inputs": [` + x1 + `, ` + strings.Replace(lengths1, "[2]}", "[3000000000]}", 1) + `]}`, 400, `^input "lengths": element 0 is 3000000000, outside the range of INT32$`},
		{`{"inputs": [` + x1 + `, ` + strings.Replace(lengths1, "[2]}", "[null]}", 1) + `]}`, 400, `^input "lengths": element 0 is null, expected an integer$`},
		{`{"inputs": [` + x1 + `, ` + strings.Replace(lengths1, "[2]}", "[3]}", 1) + `]}`, 400, `^input "lengths": element 0 is 3, outside 0..2, the steps of input "x"$`},
		{`{"inputs": [` + x1 + `, ` + strings.Replace(lengths1, "[2]}", "[-1]}", 1) + `]}`, 400, `^input "lengths": element 0 is -1, outside 0..2, the steps of input "x"$`},
		{`{"outputs": [{"name": "logits"}], "inputs": [` + x1 + `, ` + lengths1 + `]}`, 400, `^unknown output "logits" requested \(the model's outputs are .*"probs".*\)$`},
		// Nested data is flattened; this one is valid.
		{`{"inputs": [` + strings.Replace(x1, "[1, 2, 3, 4, 5, 6]", "[[[1, 2, 3], [4, 5, 6]]]", 1) + `, ` + lengths1 + `]}`, 200, ``},
	} {
		status, body := do(t, "POST", url+"/v2/models/qs/infer", c.body)
		if status != c.status {
			t.Errorf("%s: status %d (%s), expected %d", c.body, status, body, c.status)
			continue
		}
		if c.status == 200 {
			continue
		}
		var e struct{ Error string }
		if err := json.Unmarshal(body, &e); err != nil || !regexp.MustCompile(c.err).MatchString(e.Error) {
			t.Errorf("%s: error %s, expected one matching %s", c.body, body, c.err)
		}
	}
}

// TestMissingValues: a model that imputes missing values takes null (NaN);
// a NaN output is written null.
func TestMissingValues(t *testing.T) {
	sess := onnxModel(t, "lstm_classifier", func(m *onnxpb.ModelProto) {
		m.MetadataProps = append(m.MetadataProps, &onnxpb.StringStringEntryProto{Key: proto.String(metaMissing), Value: proto.String("zero")})
	})
	_, url := newServer(t, map[string]*trnn.Session{"m": sess}, Options{})
	data := strings.Repeat("0.5, ", 9) + "null"
	body := `{"inputs": [{"name": "input", "shape": [1, 2, 5], "datatype": "FP32", "data": [` + data + `]},
		{"name": "seq_lens", "shape": [1], "datatype": "INT32", "data": [2]}]}`
	status, b := do(t, "POST", url+"/v2/models/m/infer", body)
	// This model does not really impute: the NaN reaches the output.
	if status != 200 || !strings.Contains(string(b), `"data":[null,null,null]`) {
		t.Fatalf("%d %s", status, b)
	}
}
