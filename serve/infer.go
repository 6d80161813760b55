package serve

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/trnn/trnn"
)

// infer answers POST /v2/models/{name}/infer, and records the answer in the
// metrics and the log.
func (s *Server) infer(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	if r.Method != http.MethodPost {
		methodNotAllowed(w, "POST")
		return
	}
	select {
	case s.slots <- struct{}{}:
		defer func() { <-s.slots }()
	default:
		w.Header().Set("Retry-After", "1")
		name := r.PathValue("name")
		if s.models[name] == nil {
			name = ""
		}
		s.answer(w, r, name, start, 0, &httpError{http.StatusTooManyRequests,
			fmt.Sprintf("too many requests in flight (the limit is %d)", s.opts.MaxInFlight)}, nil)
		return
	}
	s.metrics.inFlight.Inc()
	defer s.metrics.inFlight.Dec()
	m := s.model(w, r)
	if m == nil {
		s.metrics.answered("", http.StatusNotFound, time.Since(start).Seconds())
		return
	}
	c, id, err := s.parse(w, r, m)
	if err == nil {
		err = s.execute(r, m, c)
	}
	rows := 0
	if c != nil {
		rows = c.rows
	}
	out := getBuffer()
	defer putBuffer(out)
	if err == nil {
		*out, err = m.response(*out, id, c)
	}
	s.answer(w, r, m.name, start, rows, err, *out)
}

// parse reads and checks the request, and returns its call and id.
func (s *Server) parse(w http.ResponseWriter, r *http.Request, m *model) (*call, *string, error) {
	buf, err := s.readBody(w, r)
	if err != nil {
		return nil, nil, err
	}
	// The call holds tensors of its own: the body can go back to the pool.
	defer putBuffer(buf)
	var req inferRequest
	if err := decodeRequest(*buf, &req); err != nil {
		return nil, nil, badRequest("request body: %v", err)
	}
	c, err := m.newCall(&req, s.opts.MaxRows)
	return c, req.ID, err
}

// execute runs c: through the model's batcher, or here when the model is
// not batched, or c has no rows (nothing to merge).
func (s *Server) execute(r *http.Request, m *model, c *call) error {
	c.done = make(chan result, 1)
	switch {
	case !m.layout.batchable || c.rows == 0 || m.unbatched.Load():
		return m.runAlone(c)
	case m.batch == nil:
		m.run([]*call{c}) // answers on c.done, buffered
		return (<-c.done).err
	}
	c.arrived = time.Now()
	select {
	case m.batch.calls <- c:
	case <-s.quit:
		return &httpError{http.StatusServiceUnavailable, "the server is shutting down"}
	}
	select {
	case res := <-c.done:
		return res.err
	case <-r.Context().Done():
		// 499, nginx's "client closed request": nobody reads the answer,
		// but the metrics and the log tell it from the others.
		return &httpError{499, "the client closed the request"}
	case <-s.quit:
		return &httpError{http.StatusServiceUnavailable, "the server is shutting down"}
	}
}

// answer writes the response, or err's, and records it.
func (s *Server) answer(w http.ResponseWriter, r *http.Request, model string, start time.Time, rows int, err error, body []byte) {
	status := http.StatusOK
	if err != nil {
		status = http.StatusInternalServerError
		var he *httpError
		if errors.As(err, &he) {
			status = he.status
		}
		if status != 499 {
			writeError(w, status, err.Error())
		}
	} else {
		writeBody(w, status, body)
	}
	d := time.Since(start)
	s.metrics.answered(model, status, d.Seconds())
	level := slog.LevelDebug
	if status >= 500 {
		level = slog.LevelError
	}
	if !s.log.Enabled(r.Context(), level) {
		return // the common case: no line, and no attributes built for one
	}
	attrs := []any{"model", model, "status", status, "rows", rows, "seconds", d.Seconds(), "remote", r.RemoteAddr}
	if err != nil {
		attrs = append(attrs, "error", err.Error())
	}
	s.log.Log(r.Context(), level, "infer", attrs...)
}

// response appends to b the protocol's inference response for c's
// outputs: the ones the request asked for, in the model's order.
func (m *model) response(b []byte, id *string, c *call) ([]byte, error) {
	b = append(b, `{"model_name":`...)
	b = appendString(b, m.name)
	if id != nil {
		b = append(b, `,"id":`...)
		b = appendString(b, *id)
	}
	b = append(b, `,"outputs":[`...)
	first := true
	for o, v := range m.outputs {
		if !c.want[o] {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendOutput(b, v.Name, c.out[o])
		var err error
		if b, err = appendData(b, c.out[o]); err != nil {
			return nil, serverError("output %q: %v", v.Name, err)
		}
		b = append(b, '}')
	}
	return append(b, "]}"...), nil
}

// appendOutput appends an output's fields before its data.
func appendOutput(b []byte, name string, t *trnn.Tensor) []byte {
	b = append(b, `{"name":`...)
	b = appendString(b, name)
	b = append(b, `,"datatype":"`...)
	b = append(b, datatype(t.DType)...)
	b = append(b, `","shape":[`...)
	for d, size := range t.Shape {
		if d > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(size), 10)
	}
	return append(b, `],"data":`...)
}

// appendString appends s as a JSON string, as encoding/json writes it.
func appendString(b []byte, s string) []byte {
	for i := range len(s) {
		// Anything encoding/json escapes or checks (HTML characters,
		// control characters, UTF-8) goes to it.
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always encodes
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
