package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/trnn/trnn"
	"github.com/trnn/trnn/compiler"
	"github.com/trnn/trnn/export"
	"github.com/trnn/trnn/internal/fileio"
	"github.com/trnn/trnn/runtime"
)

// openModel loads MODEL for eval and predict: an exported .onnx file, a
// trnn checkpoint (its best weights, exported in memory), or a run
// directory (its model.onnx, see modelPath), so both run
// through the same Go runtime path. It returns the session and a spec
// describing the model's data: the model's own resolved spec when it is a
// trnn model, else one built from the model's input and output shapes.
func openModel(path string) (*trnn.Session, *compiler.Spec, error) {
	p, perr := modelPath(path)
	if perr != nil {
		return nil, nil, perr
	}
	path = p
	head := make([]byte, 8)
	if f, err := os.Open(path); err == nil {
		f.Read(head)
		f.Close()
	} else {
		return nil, nil, fmt.Errorf("%s: %v", path, fileio.Bare(err))
	}
	var sess *trnn.Session
	if runtime.IsCheckpoint(path, head) {
		c, err := runtime.ReadCheckpoint(path)
		if err != nil {
			return nil, nil, err
		}
		prog, err := c.Program(path, true)
		if err != nil {
			return nil, nil, err
		}
		var buf bytes.Buffer
		if err := runtime.WriteModel(&buf, prog, export.Options{Version: version}); err != nil {
			return nil, nil, err
		}
		if sess, err = trnn.LoadBytes(path, buf.Bytes()); err != nil {
			return nil, nil, err
		}
		spec := *prog.Spec
		return sess, &spec, nil
	}
	sess, err := trnn.Load(path)
	if err != nil {
		return nil, nil, err
	}
	spec, err := modelSpec(path, sess)
	if err != nil {
		return nil, nil, err
	}
	return sess, spec, nil
}

// modelSpec describes the data a model expects.
func modelSpec(path string, sess *trnn.Session) (*compiler.Spec, error) {
	meta := sess.Metadata()
	if y, ok := meta["trnn.spec"]; ok {
		spec, err := compiler.Parse(path+" (metadata trnn.spec)", []byte(y))
		if err != nil {
			return nil, err
		}
		spec.Dir = filepath.Dir(path)
		return spec, nil
	}
	F, K, err := modelDims(path, sess)
	if err != nil {
		return nil, err
	}
	spec := &compiler.Spec{Name: filepath.Base(path)}
	spec.Inputs.Features, spec.Inputs.FeatureNames = F, compiler.DefaultFeatureNames(F)
	spec.Outputs.Labels, spec.Outputs.LabelNames = K, compiler.DefaultLabelNames(K)
	return spec, nil
}

// modelDims reads the feature count F from the model's float input
// [batch, time, F] and the label count K from its first output [batch, K].
func modelDims(path string, sess *trnn.Session) (F, K int, err error) {
	for _, v := range sess.Inputs() {
		if len(v.Shape) == 3 && v.Shape[2].Sym == "" {
			F = v.Shape[2].Size
		}
	}
	if outs := sess.Outputs(); len(outs) > 0 && len(outs[0].Shape) == 2 && outs[0].Shape[1].Sym == "" {
		K = outs[0].Shape[1].Size
	}
	if F == 0 || K == 0 {
		return 0, 0, fmt.Errorf("%s: %v", path, errors.New("cannot tell the feature and label counts: the model needs an input [batch, time, features] and an output [batch, labels] with fixed features and labels"))
	}
	return F, K, nil
}
