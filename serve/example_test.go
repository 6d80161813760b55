package serve_test

import (
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/trnn/trnn"
	"github.com/trnn/trnn/serve"
)

// A Go program mounts the server as any http.Handler, here on a test
// server, and closes it after its http.Server has shut down.
func ExampleNew() {
	sess, err := trnn.Load("../testdata/onnx/lstm_classifier.onnx")
	if err != nil {
		log.Fatal(err)
	}
	srv, err := serve.New(map[string]*trnn.Session{"clf": sess}, serve.Options{MaxBatch: 32, MaxDelay: time.Millisecond})
	if err != nil {
		log.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer srv.Close()
	defer ts.Close()

	resp, err := http.Post(ts.URL+"/v2/models/clf/infer", "application/json", strings.NewReader(`{"inputs": [
		{"name": "input", "shape": [1, 2, 5], "datatype": "FP32", "data": [0.1, 0.2, 0.3, 0.4, 0.5, 0.5, 0.4, 0.3, 0.2, 0.1]},
		{"name": "seq_lens", "shape": [1], "datatype": "INT32", "data": [2]}]}`))
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	var answer struct {
		Outputs []struct {
			Name  string
			Shape []int
			Data  []float32
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil {
		log.Fatal(err)
	}
	o := answer.Outputs[0]
	fmt.Printf("%s %s %v %.4f\n", resp.Status, o.Name, o.Shape, o.Data)
	// Output:
	// 200 OK output [1 3] [0.6200 0.3488 0.3967]
}
