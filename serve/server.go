package serve

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/trnn/trnn"
)

// Options configures a Server. A zero field takes its default.
type Options struct {
	// MaxBatch is the most rows a merged batch holds (DefaultMaxBatch); 1
	// runs every request on its own. A request with more rows runs alone.
	MaxBatch int
	// MaxDelay is the longest a request waits for others to join its
	// batch; 0 merges only the requests that queue while the workers are
	// busy.
	MaxDelay time.Duration
	// MaxBodyBytes bounds an infer request's body (DefaultMaxBodyBytes).
	MaxBodyBytes int64
	// MaxRows bounds the rows (the batch dimension) of a request
	// (DefaultMaxRows).
	MaxRows int
	// MaxInFlight bounds the infer requests being answered at once
	// (DefaultMaxInFlight); one more is answered 429.
	MaxInFlight int
	// Logger receives the server's structured logs; nil discards them.
	Logger *slog.Logger
	// Registry receives the server's metrics, which GET /metrics shows;
	// nil gives the server a registry of its own, with the Go runtime's
	// and the process's metrics too.
	Registry *prometheus.Registry
	// Version is the server version GET /v2 reports.
	Version string
}

// The defaults of Options.
const (
	DefaultMaxBatch     = 32
	DefaultMaxBodyBytes = 16 << 20
	DefaultMaxRows      = 1024
	DefaultMaxInFlight  = 128
)

// Server answers the protocol's requests for a fixed set of models. It is
// safe for concurrent use.
type Server struct {
	opts    Options
	models  map[string]*model
	names   []string // sorted
	log     *slog.Logger
	mux     *http.ServeMux
	slots   chan struct{} // one per infer request in flight
	metrics *metrics
	quit    chan struct{}
	once    sync.Once
}

// New returns a server for models, each under its name (the name in the
// request paths). Errors a model gives at run time are passed on to the
// client in a 400, and name the session as it was loaded: load sessions
// with trnn.LoadBytes and the model's name to keep file paths out of them.
func New(models map[string]*trnn.Session, opts Options) (*Server, error) {
	if len(models) == 0 {
		return nil, errors.New("serve: no models")
	}
	if err := opts.setDefaults(); err != nil {
		return nil, err
	}
	s := &Server{
		opts: opts, models: map[string]*model{}, names: slices.Sorted(maps.Keys(models)),
		log: opts.Logger, slots: make(chan struct{}, opts.MaxInFlight), quit: make(chan struct{}),
	}
	reg := opts.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
		s.opts.Registry = reg
	}
	var err error
	if s.metrics, err = newMetrics(reg, opts.Registry == nil); err != nil {
		return nil, fmt.Errorf("serve: metrics: %v", err)
	}
	for _, name := range s.names {
		if err := checkName(name, models[name]); err != nil {
			return nil, err
		}
		m := newModel(name, models[name], s.log)
		s.models[name] = m
		s.log.Info("model loaded", "model", name, "inputs", describe(m.inputs), "outputs", describe(m.outputs))
		if !m.layout.batchable {
			s.log.Info("model not batched: its inputs do not share a symbolic first dimension", "model", name)
			continue
		}
		// The probe runs whatever MaxBatch is, so that a request gets the
		// same answer with batching on or off.
		if err := m.probe(); err != nil {
			m.unbatched.Store(true)
			s.log.Info("model not batched", "model", name, "reason", err.Error())
			continue
		}
		if opts.MaxBatch > 1 {
			observe := func(rows int) { s.metrics.batch.WithLabelValues(name).Observe(float64(rows)) }
			m.batch = newBatcher(m, opts.MaxBatch, opts.MaxDelay, opts.MaxInFlight, observe)
		}
	}
	s.routes()
	return s, nil
}

func (o *Options) setDefaults() error {
	if o.MaxBatch < 0 || o.MaxDelay < 0 || o.MaxBodyBytes < 0 || o.MaxRows < 0 || o.MaxInFlight < 0 {
		return fmt.Errorf("serve: negative option in %+v", *o)
	}
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&o.MaxBatch, DefaultMaxBatch)
	def(&o.MaxRows, DefaultMaxRows)
	def(&o.MaxInFlight, DefaultMaxInFlight)
	if o.MaxBodyBytes == 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// checkName refuses a name that cannot be one segment of a request path.
func checkName(name string, sess *trnn.Session) error {
	if name == "" || name == "." || name == ".." || strings.Contains(name, "/") {
		return fmt.Errorf("serve: model name %q: expected a non-empty name without '/'", name)
	}
	if sess == nil {
		return fmt.Errorf("serve: model %q: no session", name)
	}
	return nil
}

// describe lists values for a log line: x FP32 [batch,time,3].
func describe(vs []trnn.Value) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = v.Name + " " + datatype(v.DType) + " " + declaredShape(v.Shape)
	}
	return strings.Join(parts, ", ")
}

// Close stops the batching goroutines. Call it once the requests in flight
// are answered (after http.Server.Shutdown returns): a request still
// waiting for its batch is answered 503.
func (s *Server) Close() {
	s.once.Do(func() {
		close(s.quit)
		for _, m := range s.models {
			if m.batch != nil {
				m.batch.stop()
			}
		}
	})
}

// ServeHTTP answers one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

func (s *Server) routes() {
	s.mux = http.NewServeMux()
	get := func(pattern string, h http.HandlerFunc) {
		s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodGet && r.Method != http.MethodHead {
				methodNotAllowed(w, "GET, HEAD")
				return
			}
			h(w, r)
		})
	}
	get("/v2", s.serverMetadata)
	get("/v2/health/live", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]bool{"live": true})
	})
	get("/v2/health/ready", s.serverReady)
	get("/v2/models/{name}", s.modelMetadata)
	get("/v2/models/{name}/ready", s.modelReady)
	get("/metrics", promhttp.HandlerFor(s.opts.Registry, promhttp.HandlerOpts{}).ServeHTTP)
	s.mux.HandleFunc("/v2/models/{name}/infer", s.infer)
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no endpoint %s", clip(r.URL.Path)))
	})
}

func methodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	writeError(w, http.StatusMethodNotAllowed, "method not allowed: use "+allow)
}

func (s *Server) serverMetadata(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"name": "trnn", "version": s.opts.Version, "extensions": []string{}})
}

func (s *Server) serverReady(w http.ResponseWriter, _ *http.Request) {
	if s.closed() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]bool{"ready": false})
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"ready": true})
}

func (s *Server) closed() bool {
	select {
	case <-s.quit:
		return true
	default:
		return false
	}
}

// model returns the model the request path names, or answers 404.
func (s *Server) model(w http.ResponseWriter, r *http.Request) *model {
	name := r.PathValue("name")
	if m := s.models[name]; m != nil {
		return m
	}
	quoted := make([]string, len(s.names))
	for i, n := range s.names {
		quoted[i] = fmt.Sprintf("%q", n)
	}
	writeError(w, http.StatusNotFound, fmt.Sprintf("unknown model %q (the models are %s)", clip(name), strings.Join(quoted, ", ")))
	return nil
}

func (s *Server) modelReady(w http.ResponseWriter, r *http.Request) {
	if m := s.model(w, r); m != nil {
		writeJSON(w, http.StatusOK, map[string]any{"name": m.name, "ready": true})
	}
}

// tensorMetadata is the protocol's description of an input or output.
type tensorMetadata struct {
	Name     string `json:"name"`
	Datatype string `json:"datatype"`
	Shape    []int  `json:"shape"`
}

func (s *Server) modelMetadata(w http.ResponseWriter, r *http.Request) {
	m := s.model(w, r)
	if m == nil {
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Name     string           `json:"name"`
		Platform string           `json:"platform"`
		Inputs   []tensorMetadata `json:"inputs"`
		Outputs  []tensorMetadata `json:"outputs"`
	}{m.name, "trnn_onnx", metadataOf(m.inputs), metadataOf(m.outputs)})
}

// metadataOf describes values as the protocol does: a symbolic dimension
// is -1, and so is the one dimension shown for a value of unknown rank.
func metadataOf(vs []trnn.Value) []tensorMetadata {
	out := make([]tensorMetadata, len(vs))
	for i, v := range vs {
		shape := []int{-1}
		if v.Shape != nil {
			shape = make([]int, len(v.Shape))
			for d, dim := range v.Shape {
				shape[d] = dim.Size
				if dim.Sym != "" {
					shape[d] = -1
				}
			}
		}
		out[i] = tensorMetadata{v.Name, datatype(v.DType), shape}
	}
	return out
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic("serve: " + err.Error()) // every value written is a plain struct or map
	}
	writeBody(w, status, b)
}

func writeBody(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b) // a client gone away is not the server's error
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// readBody reads an infer request's body within the size limit, into a
// buffer from the pool.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) (*[]byte, error) {
	limit := s.opts.MaxBodyBytes
	tooLarge := &httpError{http.StatusRequestEntityTooLarge, fmt.Sprintf("request body over the limit of %d bytes", limit)}
	if r.ContentLength > limit {
		return nil, tooLarge
	}
	buf := getBuffer()
	if r.ContentLength > 0 && int64(cap(*buf)) <= r.ContentLength {
		// One byte more than the body, so that reading to its end needs
		// no growing; past maxPooled the buffer grows as the bytes come,
		// so that a Content-Length alone allocates no more than that.
		*buf = make([]byte, 0, min(r.ContentLength+1, maxPooled))
	}
	err := readAll(buf, http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		putBuffer(buf)
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, tooLarge
		}
		return nil, badRequest("request body: %v", err)
	}
	return buf, nil
}

// readAll appends what rd holds to *buf, as io.ReadAll does.
func readAll(buf *[]byte, rd io.Reader) error {
	b := *buf
	defer func() { *buf = b }()
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := rd.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// buffers holds the byte slices of request and response bodies, which
// would otherwise be most of a request's garbage.
var buffers = sync.Pool{New: func() any { return new([]byte) }}

// maxPooled is the largest buffer kept for reuse: a rare large body is
// left to the garbage collector rather than held.
const maxPooled = 1 << 20

func getBuffer() *[]byte { return buffers.Get().(*[]byte) }

func putBuffer(b *[]byte) {
	if cap(*b) <= maxPooled {
		*b = (*b)[:0]
		buffers.Put(b)
	}
}
