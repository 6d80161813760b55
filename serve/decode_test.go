package serve

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/trnn/trnn"
	"github.com/trnn/trnn/export"
)

// decodeCases are request bodies: plain ones, which the hand-written parser
// reads itself, and others, valid or not, which it must leave to
// encoding/json.
var decodeCases = []struct {
	body  string
	plain bool // read by the parser, not encoding/json
}{
	{`{"inputs":[{"name":"x","shape":[1,2,3],"datatype":"FP32","data":[0.1,-0.3,1.2,0.4,0.2,-0.7]},{"name":"lengths","shape":[1],"datatype":"INT32","data":[2]}]}`, true},
	{" {\n \"id\" : \"42\" ,\t\"inputs\" : [ { \"data\" : [ [ [ 1e3 , -0 , 0.5E-2 ] ] ] , \"name\" : \"x\" , \"datatype\" : \"FP32\" , \"shape\" : [ 1 , 1 , 3 ] } ] ,\r\"outputs\" : [ { \"name\" : \"probs\" } ] } \n", true},
	{`{}`, true},
	{`{"inputs":[],"outputs":[]}`, true},
	{`{"id":null,"inputs":null,"outputs":null}`, true},
	{`{"inputs":[{}],"outputs":[{}]}`, true},
	{`{"inputs":[{"name":"x","shape":[],"data":[]}]}`, true},
	{`{"inputs":[{"name":"flags","datatype":"BOOL","shape":[3],"data":[true,false,null]}]}`, true},
	{`{"inputs":[{"name":"x","data":["5",1,"a b",""]}]}`, true},
	{`{"id":"é ü","inputs":[{"name":"größe","data":[1]}]}`, true},
	{`{"inputs":[{"name":"x","shape":[0,10,999999999999999],"data":[-1.5e-10,2E+5,0,-0.0]}]}`, true},

	// Valid JSON the parser leaves to encoding/json.
	{`{"id":"a\"b","inputs":[]}`, false},
	{`{"inputs":[{"name":"\u0078","data":[1]}]}`, false},
	{`{"Inputs":[{"NAME":"x","data":[1]}]}`, false},
	{`{"inputs":[{"name":"x","data":[1],"parameters":{"a":1}}],"parameters":{}}`, false},
	{`{"inputs":[],"inputs":[{"name":"x"}]}`, false},
	{`{"inputs":[{"name":"x","name":"y"}]}`, false},
	{`{"inputs":[{"name":"x","shape":null,"data":null}]}`, false},
	{`{"inputs":[{"name":"x","data":5}]}`, false},
	{`{"inputs":[{"name":"x","data":[{"a":1}]}]}`, false},
	{`{"inputs":[{"name":"x","shape":[-1,2]}]}`, false},
	{`{"inputs":[{"name":"x","shape":[1.0]}]}`, false},
	{`{"inputs":[{"name":"x","shape":[1e2]}]}`, false},
	{`{"inputs":[{"name":"x","shape":[99999999999999999999]}]}`, false},
	{`{"inputs":[{"name":"x","shape":[null]}]}`, false},
	{`{"outputs":[null]}`, false},
	{`{"outputs":[{"name":"probs","parameters":{}}]}`, false},
	{`{"inputs":[{"name":"x","data":["a\"b"]}]}`, false},
	{`{"inputs":[{"name":"x","data":` + strings.Repeat("[", 40) + "1" + strings.Repeat("]", 40) + `}]}`, false},

	// Not valid for encoding/json either.
	{``, false},
	{`[]`, false},
	{`{"inputs":[]} x`, false},
	{`{"inputs":[]`, false},
	{`{"inputs":[{"name":"x","data":[01]}]}`, false},
	{`{"inputs":[{"name":"x","data":[1.]}]}`, false},
	{`{"inputs":[{"name":"x","data":[.5]}]}`, false},
	{`{"inputs":[{"name":"x","data":[+1]}]}`, false},
	{`{"inputs":[{"name":"x","data":[1e]}]}`, false},
	{`{"inputs":[{"name":"x","data":[1e+]}]}`, false},
	{`{"inputs":[{"name":"x","data":[-]}]}`, false},
	{`{"inputs":[{"name":"x","data":[NaN]}]}`, false},
	{`{"inputs":[{"name":"x","data":[Infinity]}]}`, false},
	{`{"inputs":[{"name":"x","data":[nul]}]}`, false},
	{`{"inputs":[{"name":"x","data":[1,]}]}`, false},
	{`{"inputs":[{"name":"x","data":[1 2]}]}`, false},
	{`{"inputs":[{"name":"x","data":[0x10]}]}`, false},
	{`{"inputs":[{"name":"x","data":[1]]}]}`, false},
	{`{"inputs":[{"name":"x","data":["a` + "\n" + `"]}]}`, false},
	{`{"inputs":[{"name":"x` + "\xff" + `"}]}`, false},
	{`{"id":42}`, false},
	{`{"inputs":[{"name":"x",}]}`, false},
	{`{"inputs":[{"name" "x"}]}`, false},
	{`{"inputs":[{"name":"x","data":[1]}]}}`, false},
}

// TestDecodeRequest: the hand-written parser reads the plain bodies, and
// gives up on the others; either way decodeRequest gives what
// encoding/json gives, the same request or the same error.
func TestDecodeRequest(t *testing.T) {
	for _, c := range decodeCases {
		p := reqParser{b: []byte(c.body)}
		var fast inferRequest
		if got := p.request(&fast); got != c.plain {
			t.Errorf("%q: read by the parser %v, want %v", c.body, got, c.plain)
		}
		checkDecode(t, []byte(c.body))
	}
}

// checkDecode fails t when decodeRequest and encoding/json disagree on
// body, or when the parser accepts a body encoding/json refuses.
func checkDecode(t *testing.T, body []byte) {
	t.Helper()
	var got, want inferRequest
	err := decodeRequest(body, &got)
	wantErr := json.Unmarshal(body, &want)
	switch {
	case (err == nil) != (wantErr == nil):
		t.Fatalf("%q: error %v, encoding/json's %v", body, err, wantErr)
	case err != nil && err.Error() != wantErr.Error():
		t.Fatalf("%q: error %q, encoding/json's %q", body, err, wantErr)
	case err == nil && !reflect.DeepEqual(got, want):
		t.Fatalf("%q: decoded %s, encoding/json %s", body, describeRequest(got), describeRequest(want))
	}
	var fast inferRequest
	if p := (reqParser{b: body}); p.request(&fast) && wantErr != nil {
		t.Fatalf("%q: the parser read a body encoding/json refuses (%v)", body, wantErr)
	}
}

func describeRequest(r inferRequest) string {
	s := "{"
	if r.ID != nil {
		s += "id " + *r.ID + " "
	}
	for _, in := range r.Inputs {
		s += "input " + in.Name + " " + in.Datatype + " " + formatShape(in.Shape) + " " + string(in.Data) + "; "
	}
	return s + "}"
}

func FuzzDecodeRequest(f *testing.F) {
	for _, c := range decodeCases {
		f.Add([]byte(c.body))
	}
	f.Fuzz(func(t *testing.T, body []byte) { checkDecode(t, body) })
}

// TestParseFloat32: the fast path reads what it takes with the bits of
// strconv.ParseFloat, and leaves the rest to it.
func TestParseFloat32(t *testing.T) {
	for _, s := range []string{
		"0", "-0", "1", "-1", "0.1", "-0.3", "1.2", "0.0001", "1234567", "8388607", "8388608",
		"0.8388607", "1e10", "1e11", "1e-10", "1e-11", "1.5E+3", "2.5e-3", "123.456e-7",
		"0.30000001", "3.4028235e38", "1e", "1e+", "-", ".", "1.", ".5", "1e1000", "01.5",
		"12345678901234567890", "0.000000000000000000001", "9999999e10", "1.0000001",
	} {
		checkParseFloat32(t, s)
	}
}

func checkParseFloat32(t *testing.T, s string) {
	t.Helper()
	got, ok := parseFloat32([]byte(s))
	if !ok {
		return
	}
	want, err := strconv.ParseFloat(s, 32)
	if err != nil {
		t.Fatalf("%q: parseFloat32 read %v, strconv.ParseFloat refuses it: %v", s, got, err)
	}
	if math.Float32bits(got) != math.Float32bits(float32(want)) {
		t.Fatalf("%q: parseFloat32 gives %v (%#x), strconv.ParseFloat %v (%#x)",
			s, got, math.Float32bits(got), float32(want), math.Float32bits(float32(want)))
	}
}

func FuzzParseFloat32(f *testing.F) {
	for _, s := range []string{"0.1", "-1.5e-3", "8388607", "1e10", "3.1416"} {
		f.Add(s)
	}
	f.Add("1")
	f.Fuzz(func(t *testing.T, s string) { checkParseFloat32(t, s) })
}

// TestBodyForms: the server answers a request the same, bit for bit,
// whichever reader reads it (the parser, or encoding/json for a body in
// another form) and whatever its size (a body past the pooled buffers'),
// and gives the same error for the same mistake.
func TestBodyForms(t *testing.T) {
	sess := trnnModel(t, 3, export.Options{})
	_, url := newServer(t, map[string]*trnn.Session{"m": sess}, Options{})
	infer := url + "/v2/models/m/infer"
	rng := rand.New(rand.NewPCG(5, 5))
	data := make([]string, 7*3)
	for i := range data {
		data[i] = strconv.FormatFloat(rng.NormFloat64(), 'f', 4, 64)
	}
	body := func(inputs, xName, elems string) string {
		return `{"` + inputs + `":[{"name":"` + xName + `","shape":[1,7,3],"datatype":"FP32","data":[` + elems + `]},` +
			`{"name":"lengths","shape":[1],"datatype":"INT32","data":[6]}]}`
	}
	good := strings.Join(data, ",")
	forms := []string{
		body("inputs", "x", good),
		body("inputs", "x", good) + strings.Repeat(" ", 2*maxPooled),
		body("Inputs", "x", good),
		body("inputs", `\u0078`, good),
	}
	_, want := do(t, "POST", infer, forms[0])
	for i, f := range forms {
		if status, got := do(t, "POST", infer, f); status != 200 || string(got) != string(want) {
			t.Errorf("form %d: %d %s, expected 200 %s", i, status, got, want)
		}
	}
	bad := strings.Join(append(data[:20:20], `"5"`), ",")
	_, want = do(t, "POST", infer, body("inputs", "x", bad))
	if !strings.Contains(string(want), `element 20 is \"5\", expected a number`) {
		t.Fatalf("a string element: %s", want)
	}
	if _, got := do(t, "POST", infer, body("Inputs", "x", bad)); string(got) != string(want) {
		t.Errorf("a string element, read by encoding/json: %s, expected %s", got, want)
	}
}
