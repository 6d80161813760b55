package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/trnn/trnn"
	"github.com/trnn/trnn/internal/fileio"
	"github.com/trnn/trnn/serve"
)

func init() { subcommands = append(subcommands, newServeCmd) }

// serveFlags are trnn serve's options.
type serveFlags struct {
	addr        string
	maxBatch    int
	maxDelay    time.Duration
	maxBody     int64
	maxRows     int
	maxInFlight int
	drain       time.Duration
	logLevel    string
	logFormat   string
}

func newServeCmd() *cobra.Command {
	var f serveFlags
	c := &cobra.Command{
		Use:   "serve MODEL.onnx...",
		Short: "Serve models over HTTP with the Open Inference Protocol (KServe v2)",
		Long: `Serve answers the Open Inference Protocol's REST requests (KServe's V2
inference protocol, which Triton speaks too) for each MODEL: a model trnn
exported, or any ONNX model trnn reads. A model's name in the request paths
is its file's base name without .onnx.

  GET  /v2/health/live, /v2/health/ready       200 while serving
  GET  /v2/models/NAME, /v2/models/NAME/ready  metadata, readiness
  POST /v2/models/NAME/infer                   inference
  GET  /metrics                                Prometheus metrics

Concurrent infer requests are merged into batches of up to --max-batch rows,
each waiting at most --max-delay for others; every answer is bit for bit the
one the request gets alone (--max-batch 1), and a model for which merging
would change answers is not batched (the log says why). A request over
--max-body bytes or --max-rows rows is answered 413, one beyond
--max-in-flight at once 429, and a bad one 400, with a JSON body
{"error": "..."} naming the input and what is wrong.

Logs are structured, on standard error. SIGTERM or an interrupt stops
taking connections, answers the requests in flight (for up to
--drain-timeout), and exits 0. See docs/serving.md.`,
		Example: `  trnn serve runs/quickstart/model.onnx
  trnn serve mortality.onnx los.onnx --addr :8080 --max-batch 64 --max-delay 2ms
  curl -s localhost:8080/v2/models/model/infer -d '{"inputs": [
    {"name": "x", "shape": [1, 2, 3], "datatype": "FP32", "data": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]},
    {"name": "lengths", "shape": [1], "datatype": "INT32", "data": [2]}]}'`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError{fmt.Errorf("%s: expected one or more model files (see 'trnn %s --help')", c.CommandPath(), c.Name())}
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error { return runServe(c, args, &f) },
	}
	fl := c.Flags()
	fl.StringVar(&f.addr, "addr", "localhost:8080", "address to listen on, HOST:PORT (\":8080\" for every interface)")
	fl.IntVar(&f.maxBatch, "max-batch", serve.DefaultMaxBatch, "most rows in a merged batch; 1 runs each request alone")
	fl.DurationVar(&f.maxDelay, "max-delay", time.Millisecond, "longest a request waits for others to join its batch")
	fl.Int64Var(&f.maxBody, "max-body", serve.DefaultMaxBodyBytes, "largest infer request body, in bytes (413 beyond)")
	fl.IntVar(&f.maxRows, "max-rows", serve.DefaultMaxRows, "most rows (sequences) in one request (413 beyond)")
	fl.IntVar(&f.maxInFlight, "max-in-flight", serve.DefaultMaxInFlight, "most infer requests answered at once (429 beyond)")
	fl.DurationVar(&f.drain, "drain-timeout", 30*time.Second, "longest to wait for requests in flight after SIGTERM")
	fl.StringVar(&f.logLevel, "log-level", "info", "least severe log level written: debug (every request), info, warn or error")
	fl.StringVar(&f.logFormat, "log-format", "json", "log format: json or text")
	return c
}

// check refuses flag values out of range, as a usage error.
func (f *serveFlags) check(c *cobra.Command) error {
	bad := func(flag, want string, got any) error {
		return usageError{fmt.Errorf("%s: --%s: expected %s, found %v (see 'trnn %s --help')", c.CommandPath(), flag, want, got, c.Name())}
	}
	switch {
	case f.maxBatch < 1:
		return bad("max-batch", "a positive integer", f.maxBatch)
	case f.maxDelay < 0:
		return bad("max-delay", "a duration of 0 or more", f.maxDelay)
	case f.maxBody < 1:
		return bad("max-body", "a positive number of bytes", f.maxBody)
	case f.maxRows < 1:
		return bad("max-rows", "a positive integer", f.maxRows)
	case f.maxInFlight < 1:
		return bad("max-in-flight", "a positive integer", f.maxInFlight)
	case f.drain <= 0:
		return bad("drain-timeout", "a positive duration", f.drain)
	case f.logFormat != "json" && f.logFormat != "text":
		return bad("log-format", "json or text", f.logFormat)
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.logLevel)); err != nil {
		return bad("log-level", "debug, info, warn or error", f.logLevel)
	}
	return nil
}

// logger writes f's structured logs to w.
func (f *serveFlags) logger(w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(f.logLevel)) // checked
	opts := &slog.HandlerOptions{Level: level}
	if f.logFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// runServe loads the models, serves them until SIGTERM or an interrupt,
// then drains the requests in flight.
func runServe(c *cobra.Command, paths []string, f *serveFlags) error {
	if err := f.check(c); err != nil {
		return err
	}
	models, err := loadServed(c, paths)
	if err != nil {
		return err
	}
	log := f.logger(c.ErrOrStderr())
	srv, err := serve.New(models, serve.Options{
		MaxBatch: f.maxBatch, MaxDelay: f.maxDelay, MaxBodyBytes: f.maxBody, MaxRows: f.maxRows,
		MaxInFlight: f.maxInFlight, Logger: log, Version: version,
	})
	if err != nil {
		return err
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return fmt.Errorf("trnn serve: %v", err)
	}
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 10 * time.Second, // a client may not hold a connection by trickling headers
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	log.Info("listening", "addr", ln.Addr().String(), "models", len(models), "max_batch", f.maxBatch, "max_delay", f.maxDelay.String())
	select {
	case err := <-served:
		return fmt.Errorf("trnn serve: %v", err)
	case <-ctx.Done():
	}
	log.Info("draining", "timeout", f.drain.String())
	dctx, cancel := context.WithTimeout(context.Background(), f.drain)
	defer cancel()
	if err := hs.Shutdown(dctx); err != nil {
		return fmt.Errorf("trnn serve: requests still in flight after --drain-timeout %v: %v", f.drain, err)
	}
	log.Info("stopped")
	return nil
}

// loadServed loads each model under its name, its file's base name without
// .onnx. Sessions are named after the model, not the file, because their
// run-time errors reach clients, who have no business with server paths;
// load errors name the file.
func loadServed(c *cobra.Command, paths []string) (map[string]*trnn.Session, error) {
	models := map[string]*trnn.Session{}
	from := map[string]string{}
	for _, path := range paths {
		name := strings.TrimSuffix(filepath.Base(path), ".onnx")
		if prev, ok := from[name]; ok {
			return nil, usageError{fmt.Errorf("%s: %s and %s would both be served as model %q (see 'trnn %s --help')", c.CommandPath(), prev, path, name, c.Name())}
		}
		b, err := fileio.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", path, err)
		}
		sess, err := trnn.LoadBytes(name, b)
		if err != nil {
			return nil, fmt.Errorf("%s: %s", path, strings.TrimPrefix(err.Error(), name+": "))
		}
		models[name], from[name] = sess, path
	}
	return models, nil
}
