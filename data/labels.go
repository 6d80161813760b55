package data

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// labelParser reads the label cells of a table as a Schema says: 0 or 1, a
// class's name or index, or a finite value; with per-step labels a missing
// cell is a step without a label (NaN).
type labelParser struct {
	kind    LabelKind
	classes []string
	index   map[string]int // class name (trimmed) to index
	perStep bool
}

func newLabelParser(s *Schema) labelParser {
	p := labelParser{kind: s.Target, classes: s.Classes, perStep: s.PerStep}
	if s.Target == LabelClass {
		p.index = make(map[string]int, len(s.Classes))
		for i, c := range s.Classes {
			if _, dup := p.index[strings.TrimSpace(c)]; !dup {
				p.index[strings.TrimSpace(c)] = i
			}
		}
	}
	return p
}

// parse reads a trimmed cell, returning a message when it breaks a rule. A
// class's name takes precedence over an index and over the spellings of a
// missing value.
func (p *labelParser) parse(cell string) (float32, string) {
	if i, ok := p.index[cell]; ok {
		return float32(i), ""
	}
	if p.perStep && missingCell(cell) {
		return float32(math.NaN()), ""
	}
	if cell == "" {
		return 0, "empty cell, want " + p.want()
	}
	v, err := parseDecimal(cell)
	if msg := p.check(v, err == nil || errors.Is(err, strconv.ErrRange)); msg != "" {
		return 0, msg + ", got " + quote(cell)
	}
	return float32(v), ""
}

// want is what a label cell must hold.
func (p *labelParser) want() string {
	switch p.kind {
	case LabelClass:
		return "a class (" + p.classList() + ")"
	case LabelValue:
		return "a target value"
	}
	return "a label 0 or 1"
}

// classList is the classes, quoted, and the range of their indices.
func (p *labelParser) classList() string {
	return fmt.Sprintf("%s, or an index from 0 to %d", listNames(p.classes), len(p.classes)-1)
}

// check returns the rule a label value v breaks (a number when isNum), or
// "".
func (p *labelParser) check(v float64, isNum bool) string {
	switch p.kind {
	case LabelClass:
		if !isNum || v != math.Trunc(v) || v < 0 || v >= float64(len(p.classes)) {
			return "unknown class (want " + p.classList() + ")"
		}
	case LabelValue:
		if !isNum || math.IsNaN(v) || math.IsInf(float64(float32(v)), 0) {
			return "targets must be finite float32 numbers"
		}
	default:
		if !isNum || v != 0 && v != 1 {
			return "labels must be 0 or 1"
		}
	}
	return ""
}

// checkExtras checks the fields a spec's preprocessing and heads add to a
// schema against each other; a spec that passed validation passes.
func (s *Schema) checkExtras() error {
	switch {
	case s.Categories != nil && len(s.Categories) != len(s.Columns.Features):
		return fmt.Errorf("categories are given for %d features, the columns name %d", len(s.Categories), len(s.Columns.Features))
	case math.IsNaN(s.Bin) || math.IsInf(s.Bin, 0) || s.Bin < 0:
		return fmt.Errorf("data.bin must be a positive number, got %v", s.Bin)
	case s.Target == LabelClass && len(s.Classes) == 0:
		return errors.New("no classes are named (outputs.classes)")
	case s.Target == LabelClass && len(s.Columns.Labels) > 1:
		return fmt.Errorf("classes are read from one label column, %d are named", len(s.Columns.Labels))
	}
	for f, c := range s.Categories {
		if c != nil && len(c) == 0 {
			return fmt.Errorf("feature %d is categorical with no categories", f)
		}
	}
	return nil
}
