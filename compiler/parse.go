package compiler

import (
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	yaml "github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"

	"github.com/trnn/trnn/graph"
	"github.com/trnn/trnn/internal/fileio"
)

// ParseFile reads and parses the spec file at path. See Parse.
func ParseFile(path string) (*Spec, error) {
	src, err := readSpec(path)
	if err != nil {
		return nil, ErrorList{{Pos: Pos{File: path}, Msg: "cannot read spec: " + fileio.Bare(err).Error()}}
	}
	return Parse(path, src)
}

// readSpec reads at most one byte more than a spec may hold, so that a huge
// file is refused rather than read whole. What is not a regular file is
// refused before it is read (fileio.Open): a device such as /dev/zero never
// ends, and opening a named pipe blocks until someone writes to it.
func readSpec(path string) ([]byte, error) {
	f, _, err := fileio.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, maxSpecBytes+1))
}

// Parse parses and validates a spec written in YAML (or JSON, which YAML
// reads too). filename names the file in error positions, and its folder
// becomes Spec.Dir. Every default is filled in.
//
// On failure the error is an ErrorList holding every problem found, sorted
// by position, each "file:line:col: field.path: what is wrong". Parse never
// panics, whatever src holds.
func Parse(filename string, src []byte) (*Spec, error) {
	d := &decoder{
		file: filename,
		src: &source{
			file: filename,
			pos:  map[string]Pos{},
			bad:  map[string]bool{},
			snap: map[string]string{},
		},
		spec: DefaultSpec(),
	}
	d.spec.src = d.src
	d.spec.Dir = filepath.Dir(filename)
	if filename == "" {
		d.spec.Dir = ""
	}
	src = d.checkText(src)
	if len(d.errs) > 0 {
		return nil, d.errs
	}
	body := d.parseYAML(src)
	if body == nil {
		return nil, d.errs
	}
	d.anchors = map[string]ast.Node{}
	collectAnchors(body, d.anchors)
	d.root(body)
	if d.classWeightNode != nil {
		d.classWeight(d.classWeightPath, d.classWeightNode)
	}
	d.spec.complete(filename, d.src)
	v := &validator{s: d.spec, src: d.src, record: true}
	v.run()
	d.errs = append(d.errs, v.errs...)
	if len(d.errs) > 0 {
		d.errs.RemoveMultiples()
		return nil, d.errs
	}
	return d.spec, nil
}

// source remembers where each field of a parsed spec was written, so that
// validation, which runs on Spec values, can point into the file.
type source struct {
	file string
	// pos is the position of every value written in the file, by field
	// path ("layers[0].lstm.units", "inputs.features[2]").
	pos map[string]Pos
	// bad holds the paths whose value the parser rejected: validation
	// skips them (and everything under them) so a problem is reported once.
	bad map[string]bool
	// snap is each validated field's value, printed, as the file had it.
	// A field whose value changed since (a command-line override) is
	// reported without a position, since the file is not at fault.
	snap map[string]string
	// origin names where a changed field's value came from, by path
	// ("--epochs"); see Spec.SetOrigin.
	origin map[string]string
}

// lookup returns the position of path's value, or of its nearest ancestor
// written in the file, or the file's first line.
func (s *source) lookup(path string) Pos {
	for p := path; ; p = parentPath(p) {
		if pos, ok := s.pos[p]; ok {
			return pos
		}
		if p == "" {
			return Pos{File: s.file, Line: 1, Col: 1}
		}
	}
}

// isBad reports whether path or one of its ancestors was rejected by the
// parser.
func (s *source) isBad(path string) bool {
	for p := path; ; p = parentPath(p) {
		if s.bad[p] {
			return true
		}
		if p == "" {
			return false
		}
	}
}

// written reports whether the file gave a value for path.
func (s *source) written(path string) bool {
	if s == nil {
		return false
	}
	_, ok := s.pos[path]
	return ok
}

// parentPath strips the last component of a field path: "a.b[2]" → "a.b",
// "a.b" → "a", "a" → "".
func parentPath(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}

// joinPath appends a field name to a path. A name that is not a plain
// identifier (only an unknown field can be one) is quoted, so that messages
// stay unambiguous.
func joinPath(path, name string) string {
	if !plainKey.MatchString(name) {
		name = quoteShort(name)
	}
	if path == "" {
		return name
	}
	return path + "." + name
}

var plainKey = regexp.MustCompile(`^[A-Za-z0-9_]+$`)

func indexPath(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

// decoder walks a YAML AST against the spec's schema, filling a Spec and
// collecting positioned errors as it goes.
type decoder struct {
	file    string
	src     *source
	spec    *Spec
	errs    ErrorList
	anchors map[string]ast.Node
	// classWeightNode is objective.class_weight, decoded after the rest.
	classWeightPath string
	classWeightNode ast.Node
}

func (d *decoder) errorf(pos Pos, format string, args ...any) {
	d.errs.Addf(pos, format, args...)
}

// checkText rejects sources that are not small UTF-8 text, and flow
// collections nested deeper than any spec needs (the YAML parser's time
// grows badly with depth). It returns src without a byte order mark.
func (d *decoder) checkText(src []byte) []byte {
	at := func(line, col int) Pos { return Pos{File: d.file, Line: line, Col: col} }
	if len(src) > maxSpecBytes {
		d.errorf(at(1, 1), "file too large for a spec: more than %d bytes", maxSpecBytes)
		return nil
	}
	src = []byte(strings.TrimPrefix(string(src), "\uFEFF"))
	line, col, depth := 1, 1, 0
	for i := 0; i < len(src); {
		r, size := utf8.DecodeRune(src[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			d.errorf(at(line, col), "not a text file: invalid UTF-8 byte 0x%02x", src[i])
			return nil
		case !printable(r):
			d.errorf(at(line, col), "not a text file: control character %U", r)
			return nil
		case r == '[' || r == '{':
			depth++
			if depth > maxFlowDepth {
				d.errorf(at(line, col), "nesting too deep: more than %d open brackets ([ or {)", maxFlowDepth)
				return nil
			}
		case r == ']' || r == '}':
			depth = max(depth-1, 0)
		}
		i += size
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return src
}

// printable reports whether YAML allows r in a stream (YAML 1.2 §5.1).
func printable(r rune) bool {
	switch {
	case r == '\t' || r == '\n' || r == '\r':
		return true
	case r < 0x20 || r == 0x7f:
		return false
	case r >= 0x80 && r <= 0x9f:
		return r == 0x85
	case r == 0xfffe || r == 0xffff:
		return false
	}
	return true
}

// parseYAML parses src and returns the body of its one document, or nil
// after reporting why there is none.
func (d *decoder) parseYAML(src []byte) (body ast.Node) {
	defer func() {
		// The YAML parser is not ours: should it ever panic, the user still
		// gets one positioned line rather than a stack trace.
		if r := recover(); r != nil {
			body = nil
			d.errs = ErrorList{{Pos: Pos{File: d.file, Line: 1, Col: 1}, Msg: fmt.Sprintf("cannot parse YAML: %v", r)}}
		}
	}()
	f, err := parser.ParseBytes(src, 0, parser.AllowDuplicateMapKey())
	if err != nil {
		pos := Pos{File: d.file, Line: 1, Col: 1}
		msg := err.Error()
		var ye yaml.Error
		if errors.As(err, &ye) {
			msg = ye.GetMessage()
			if tk := ye.GetToken(); tk != nil && tk.Position != nil && tk.Position.Line > 0 {
				pos.Line, pos.Col = tk.Position.Line, max(tk.Position.Column, 1)
			}
		}
		msg = strings.Join(strings.Fields(msg), " ")
		d.errorf(pos, "syntax error: %s", msg)
		return nil
	}
	var docs []ast.Node
	for _, doc := range f.Docs {
		if doc != nil && doc.Body != nil {
			docs = append(docs, doc.Body)
		}
	}
	if len(docs) == 0 {
		d.errorf(Pos{File: d.file, Line: 1, Col: 1}, "empty spec: expected a mapping with inputs, layers and outputs")
		return nil
	}
	if len(docs) > 1 {
		d.errorf(d.pos(docs[1]), "a spec is one YAML document, found %d", len(docs))
	}
	return docs[0]
}

// collectAnchors records every anchored node under n by name.
func collectAnchors(n ast.Node, anchors map[string]ast.Node) {
	switch v := n.(type) {
	case *ast.AnchorNode:
		if v.Name != nil {
			anchors[tokenValue(v.Name)] = v.Value
		}
		if v.Value != nil {
			collectAnchors(v.Value, anchors)
		}
	case *ast.MappingNode:
		for _, mv := range v.Values {
			collectAnchors(mv, anchors)
		}
	case *ast.MappingValueNode:
		if v.Key != nil {
			collectAnchors(v.Key, anchors)
		}
		if v.Value != nil {
			collectAnchors(v.Value, anchors)
		}
	case *ast.MappingKeyNode:
		if v.Value != nil {
			collectAnchors(v.Value, anchors)
		}
	case *ast.SequenceNode:
		for _, x := range v.Values {
			if x != nil {
				collectAnchors(x, anchors)
			}
		}
	case *ast.TagNode:
		if v.Value != nil {
			collectAnchors(v.Value, anchors)
		}
	}
}

// node returns the node n stands for: the anchored or tagged node itself,
// and the anchored node an alias names. An alias to an unknown anchor
// stays an AliasNode, which every decoder rejects.
func (d *decoder) node(n ast.Node) ast.Node {
	for range 16 {
		switch v := n.(type) {
		case *ast.AnchorNode:
			if v.Value == nil {
				return n
			}
			n = v.Value
		case *ast.TagNode:
			if v.Value == nil {
				return n
			}
			n = v.Value
		case *ast.AliasNode:
			if v.Value == nil {
				return n
			}
			target, ok := d.anchors[tokenValue(v.Value)]
			if !ok || target == nil {
				return n
			}
			n = target
		case *ast.MappingKeyNode:
			if v.Value == nil {
				return n
			}
			n = v.Value
		default:
			return n
		}
	}
	return n
}

// pos is the position where n starts in the file.
func (d *decoder) pos(n ast.Node) Pos {
	var tk *token.Token
	switch v := n.(type) {
	case nil:
	case *ast.MappingNode:
		if !v.IsFlowStyle && len(v.Values) > 0 && v.Values[0] != nil && v.Values[0].Key != nil {
			return d.pos(v.Values[0].Key)
		}
		tk = v.Start
	case *ast.MappingValueNode:
		if v.Key != nil {
			return d.pos(v.Key)
		}
		tk = v.Start
	case *ast.SequenceNode:
		tk = v.Start
	case *ast.AnchorNode:
		tk = v.Start
	case *ast.AliasNode:
		tk = v.Start
	case *ast.TagNode:
		tk = v.Start
	case *ast.LiteralNode:
		tk = v.Start
	case *ast.MappingKeyNode:
		tk = v.Start
	default:
		tk = n.GetToken()
	}
	if tk == nil || tk.Position == nil || tk.Position.Line < 1 {
		return Pos{File: d.file, Line: 1, Col: 1}
	}
	return Pos{File: d.file, Line: tk.Position.Line, Col: max(tk.Position.Column, 1)}
}

// describe says what a node holds, for "got ..." in messages.
func (d *decoder) describe(n ast.Node) string {
	switch v := d.node(n).(type) {
	case nil, *ast.NullNode:
		return "nothing (null)"
	case *ast.BoolNode:
		return strconv.FormatBool(v.Value)
	case *ast.IntegerNode, *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
		return tokenText(v)
	case *ast.StringNode:
		return quoteShort(v.Value)
	case *ast.LiteralNode:
		return "a block string"
	case *ast.SequenceNode:
		return "a list"
	case *ast.MappingNode:
		return "a mapping"
	case *ast.AliasNode:
		name := ""
		if v.Value != nil {
			name = tokenValue(v.Value)
		}
		if !oneLine(name) {
			name = quoteShort(name)
		}
		return "an alias to an undefined anchor *" + name
	case *ast.MergeKeyNode:
		return "a merge key (<<)"
	}
	return "an unsupported YAML node"
}

// tokenValue is the text of a node's token, or "".
func tokenValue(n ast.Node) string {
	if n == nil {
		return ""
	}
	if tk := n.GetToken(); tk != nil {
		return tk.Value
	}
	return ""
}

// tokenText is the text of a scalar as written, quoted if it is not one
// line of text, for messages.
func tokenText(n ast.Node) string {
	tk := n.GetToken()
	if tk == nil {
		return "?"
	}
	if !oneLine(tk.Value) {
		return quoteShort(tk.Value)
	}
	return tk.Value
}

// quoteShort quotes s for a message, cut to 40 characters.
func quoteShort(s string) string {
	if utf8.RuneCountInString(s) > 40 {
		r := []rune(s)
		return strconv.Quote(string(r[:40])) + "..."
	}
	return strconv.Quote(s)
}

// typeError reports that the value at path is not of the expected form and
// marks path as bad.
func (d *decoder) typeError(path string, n ast.Node, want string) {
	d.src.bad[path] = true
	d.errorf(d.pos(n), "%s: must be %s, got %s", nameOr(path, "spec"), want, d.describe(n))
}

// yamlFloat is a YAML 1.2 core-schema float (and integer). The YAML parser
// leaves some of them, such as 1e-06, as plain strings.
var yamlFloat = regexp.MustCompile(`^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`)

// number decodes a finite number.
func (d *decoder) number(path string, n ast.Node, want string) (float64, bool) {
	switch v := d.node(n).(type) {
	case *ast.IntegerNode:
		switch x := v.Value.(type) {
		case int64:
			return float64(x), true
		case uint64:
			return float64(x), true
		}
	case *ast.FloatNode:
		if !math.IsInf(v.Value, 0) && !math.IsNaN(v.Value) {
			return v.Value, true
		}
	case *ast.StringNode:
		if f, ok := plainNumber(v); ok {
			return f, true
		}
	}
	d.typeError(path, n, want)
	return 0, false
}

// plainNumber parses an unquoted scalar the YAML parser left as a string
// but YAML 1.2 reads as a number.
func plainNumber(v *ast.StringNode) (float64, bool) {
	if v.Token == nil || v.Token.Type != token.StringType || !yamlFloat.MatchString(v.Value) {
		return 0, false
	}
	f, err := strconv.ParseFloat(v.Value, 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// integer decodes an integer; a number with a zero fraction (64.0) counts.
func (d *decoder) integer(path string, n ast.Node, want string) (int, bool) {
	const limit = 1 << 53
	var f float64
	switch v := d.node(n).(type) {
	case *ast.IntegerNode:
		switch x := v.Value.(type) {
		case int64:
			if x > -limit && x < limit {
				return int(x), true
			}
			d.src.bad[path] = true
			d.errorf(d.pos(n), "%s: must be %s, got %s (out of range)", path, want, tokenText(v))
			return 0, false
		case uint64:
			if x < limit {
				return int(x), true
			}
			d.src.bad[path] = true
			d.errorf(d.pos(n), "%s: must be %s, got %s (out of range)", path, want, tokenText(v))
			return 0, false
		}
	case *ast.FloatNode:
		f = v.Value
	case *ast.StringNode:
		var ok bool
		if f, ok = plainNumber(v); !ok {
			d.typeError(path, n, want)
			return 0, false
		}
	default:
		d.typeError(path, n, want)
		return 0, false
	}
	if f != math.Trunc(f) || math.Abs(f) >= limit {
		d.typeError(path, n, want)
		return 0, false
	}
	return int(f), true
}

// seed decodes a non-negative integer of up to 64 bits.
func (d *decoder) seed(path string, n ast.Node) (uint64, bool) {
	const want = "a non-negative integer"
	if v, ok := d.node(n).(*ast.IntegerNode); ok {
		switch x := v.Value.(type) {
		case int64:
			if x >= 0 {
				return uint64(x), true
			}
		case uint64:
			return x, true
		}
		d.typeError(path, n, want)
		return 0, false
	}
	x, ok := d.integer(path, n, want)
	if !ok {
		return 0, false
	}
	if x < 0 {
		d.typeError(path, n, want)
		return 0, false
	}
	return uint64(x), true
}

// boolean decodes true or false.
func (d *decoder) boolean(path string, n ast.Node) (bool, bool) {
	if v, ok := d.node(n).(*ast.BoolNode); ok {
		return v.Value, true
	}
	d.typeError(path, n, "true or false")
	return false, false
}

// str decodes a one-line string. Unquoted numbers are taken as written
// (a column may be called 2024).
func (d *decoder) str(path string, n ast.Node, want string) (string, bool) {
	var s string
	switch v := d.node(n).(type) {
	case *ast.StringNode:
		s = v.Value
	case *ast.IntegerNode, *ast.FloatNode:
		s = v.GetToken().Value
	default:
		d.typeError(path, n, want)
		return "", false
	}
	for _, r := range s {
		if !printable(r) || r == '\t' || r == '\n' || r == '\r' || r == 0x85 {
			d.src.bad[path] = true
			d.errorf(d.pos(n), "%s: must be %s on one line, got %s (control character %U)", path, want, quoteShort(s), r)
			return "", false
		}
	}
	if !utf8.ValidString(s) {
		d.src.bad[path] = true
		d.errorf(d.pos(n), "%s: must be %s, got invalid UTF-8", path, want)
		return "", false
	}
	return s, true
}

// list returns the elements of a sequence, or reports want.
func (d *decoder) list(path string, n ast.Node, want string) ([]ast.Node, bool) {
	seq, ok := d.node(n).(*ast.SequenceNode)
	if !ok {
		d.typeError(path, n, want)
		return nil, false
	}
	for i, x := range seq.Values {
		d.src.pos[indexPath(path, i)] = d.pos(x)
	}
	return seq.Values, true
}

// strList decodes a list of strings. The result is non-nil on success,
// even for an empty list.
func (d *decoder) strList(path string, n ast.Node, want, elem string) ([]string, bool) {
	items, ok := d.list(path, n, want)
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(items))
	all := true
	for i, x := range items {
		s, ok := d.str(indexPath(path, i), x, elem)
		all = all && ok
		out = append(out, s)
	}
	if !all {
		d.src.bad[path] = true
		return nil, false
	}
	return out, true
}

// numList decodes a list of numbers.
func (d *decoder) numList(path string, n ast.Node, want, elem string) ([]float64, bool) {
	items, ok := d.list(path, n, want)
	if !ok {
		return nil, false
	}
	out := make([]float64, 0, len(items))
	all := true
	for i, x := range items {
		f, ok := d.number(indexPath(path, i), x, elem)
		all = all && ok
		out = append(out, f)
	}
	if !all {
		d.src.bad[path] = true
		return nil, false
	}
	return out, true
}

// field is one known key of a mapping and how to decode its value.
type field struct {
	name   string
	decode func(path string, v ast.Node)
}

// key returns the text of a mapping key.
func (d *decoder) key(path string, mv *ast.MappingValueNode) (string, Pos, bool) {
	if mv == nil || mv.Key == nil {
		return "", Pos{}, false
	}
	pos := d.pos(mv.Key)
	var name string
	switch k := d.node(mv.Key).(type) {
	case *ast.StringNode:
		name = k.Value
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode:
		name = k.GetToken().Value
	case *ast.MergeKeyNode:
		d.errorf(pos, "%s: merge keys (<<) are not supported, write the fields out", nameOr(path, "spec"))
		return "", pos, false
	default:
		d.errorf(pos, "%s: field names must be plain strings, got %s", nameOr(path, "spec"), d.describe(mv.Key))
		return "", pos, false
	}
	if !oneLine(name) {
		d.errorf(pos, "%s: field names must be one line of text, got %s", nameOr(path, "spec"), quoteShort(name))
		return "", pos, false
	}
	return name, pos, true
}

// oneLine reports whether s is valid UTF-8 without control characters.
func oneLine(s string) bool {
	for _, r := range s {
		if !printable(r) || r == '\t' || r == '\n' || r == '\r' || r == 0x85 {
			return false
		}
	}
	return utf8.ValidString(s)
}

// valuePos is where problems with a field's value as a whole are reported:
// at the value when it starts on the key's line, else at the key, so that a
// block list or mapping is reported on the line that names it.
func valuePos(key, val Pos) Pos {
	if val.Line > key.Line {
		return key
	}
	return val
}

func nameOr(path, alt string) string {
	if path == "" {
		return alt
	}
	return path
}

// mapping decodes a mapping whose keys are fields, reporting duplicate,
// unknown and missing fields. It returns false when n is not a mapping.
func (d *decoder) mapping(path string, n ast.Node, want string, fields []field, required ...string) bool {
	m, ok := d.node(n).(*ast.MappingNode)
	if !ok {
		d.typeError(path, n, want)
		return false
	}
	seen := map[string]Pos{}
	for _, mv := range m.Values {
		name, kpos, ok := d.key(path, mv)
		if !ok {
			continue
		}
		child := joinPath(path, name)
		if first, dup := seen[name]; dup {
			d.errorf(kpos, "%s: duplicate field, first given at line %d", child, first.Line)
			continue
		}
		seen[name] = kpos
		var f *field
		for i := range fields {
			if fields[i].name == name {
				f = &fields[i]
			}
		}
		if f == nil {
			known := make([]string, len(fields))
			for i, f := range fields {
				known[i] = f.name
			}
			if s := suggest(name, known); s != "" {
				d.errorf(kpos, "%s: unknown field, did you mean %s?", child, s)
			} else {
				d.errorf(kpos, "%s: unknown field, expected %s", child, oneOf(known))
			}
			continue
		}
		d.src.pos[child] = valuePos(kpos, d.pos(mv.Value))
		if mv.Value == nil {
			d.typeError(child, nil, "a value")
			continue
		}
		f.decode(child, mv.Value)
	}
	for _, r := range required {
		if _, ok := seen[r]; !ok {
			d.src.bad[joinPath(path, r)] = true
			if path == "" {
				d.errorf(d.pos(m), "missing required field %s", r)
			} else {
				d.errorf(d.pos(m), "%s: missing required field %s", path, r)
			}
		}
	}
	return true
}

// Field decoders that store into a destination.

func (d *decoder) setStr(dst *string, want string) func(string, ast.Node) {
	return func(p string, v ast.Node) {
		if s, ok := d.str(p, v, want); ok {
			*dst = s
		}
	}
}

func (d *decoder) setInt(dst *int, want string) func(string, ast.Node) {
	return func(p string, v ast.Node) {
		if x, ok := d.integer(p, v, want); ok {
			*dst = x
		}
	}
}

func (d *decoder) setNum(dst *float64, want string) func(string, ast.Node) {
	return func(p string, v ast.Node) {
		if x, ok := d.number(p, v, want); ok {
			*dst = x
		}
	}
}

func (d *decoder) setBool(dst *bool) func(string, ast.Node) {
	return func(p string, v ast.Node) {
		if x, ok := d.boolean(p, v); ok {
			*dst = x
		}
	}
}

// The schema, section by section. Each "want" phrase is what the rule asks
// for, so that a type error and a range error read the same way.

func (d *decoder) root(n ast.Node) {
	s := d.spec
	d.mapping("", n, "a mapping of fields (name, inputs, layers, outputs, ...)", []field{
		{"name", d.setStr(&s.Name, "a string")},
		{"inputs", d.inputs},
		{"layers", d.layers},
		{"outputs", d.outputs},
		{"objective", d.objective},
		{"training", d.training},
		{"data", d.data},
		{"export", d.export},
	}, "inputs", "layers", "outputs")
}

func (d *decoder) inputs(path string, n ast.Node) {
	in := &d.spec.Inputs
	d.mapping(path, n, "a mapping (features, normalize, categorical, missing, indicators)", []field{
		{"features", func(p string, v ast.Node) {
			d.countOrNames(p, v, &in.Features, &in.FeatureNames, "a positive integer or a list of feature names", "a feature name")
		}},
		{"normalize", d.setStr(&in.Normalize, oneOf(normalizeNames))},
		{"categorical", d.categorical},
		{"missing", d.setStr(&in.Missing, oneOf(missingNames))},
		{"indicators", d.setBool(&in.Indicators)},
	}, "features")
}

func (d *decoder) outputs(path string, n ast.Node) {
	out := &d.spec.Outputs
	d.mapping(path, n, "a mapping (labels or classes or targets, per_step, normalize_targets)", []field{
		{"labels", func(p string, v ast.Node) {
			d.countOrNames(p, v, &out.Labels, &out.LabelNames, "a positive integer or a list of label names", "a label name")
		}},
		{"classes", func(p string, v ast.Node) {
			if l, ok := d.strList(p, v, "a list of class names", "a class name"); ok {
				out.Classes = l
			}
		}},
		{"targets", func(p string, v ast.Node) {
			d.countOrNames(p, v, &out.Targets, &out.TargetNames, "a positive integer or a list of target names", "a target name")
		}},
		{"per_step", d.setBool(&out.PerStep)},
		{"normalize_targets", d.setBool(&out.NormalizeTargets)},
	})
}

// countOrNames decodes "13" or "[hr, sbp, ...]".
func (d *decoder) countOrNames(path string, n ast.Node, count *int, names *[]string, want, elem string) {
	if _, ok := d.node(n).(*ast.SequenceNode); ok {
		if list, ok := d.strList(path, n, want, elem); ok {
			*count, *names = len(list), list
		}
		return
	}
	if x, ok := d.integer(path, n, want); ok {
		*count, *names = x, nil
	}
}

func (d *decoder) layers(path string, n ast.Node) {
	const want = "a list of layers (- lstm: {units: N}, - gru: {units: N}, - dropout: {rate: R})"
	items, ok := d.list(path, n, want)
	if !ok {
		return
	}
	d.spec.Layers = make([]Layer, len(items))
	for i, item := range items {
		d.layer(indexPath(path, i), item, &d.spec.Layers[i])
	}
}

func (d *decoder) layer(path string, n ast.Node, l *Layer) {
	const want = "a mapping with one key, lstm, gru or dropout"
	m, ok := d.node(n).(*ast.MappingNode)
	if !ok {
		d.typeError(path, n, want)
		return
	}
	if len(m.Values) != 1 {
		d.src.bad[path] = true
		var keys []string
		for _, mv := range m.Values {
			if k, _, ok := d.key(path, mv); ok {
				keys = append(keys, k)
			}
		}
		d.errorf(d.pos(m), "%s: a layer has one key, lstm, gru or dropout, got %d (%s)", path, len(m.Values), strings.Join(keys, ", "))
		return
	}
	mv := m.Values[0]
	kind, kpos, ok := d.key(path, mv)
	if !ok {
		d.src.bad[path] = true
		return
	}
	child := joinPath(path, kind)
	d.src.pos[child] = valuePos(kpos, d.pos(mv.Value))
	switch kind {
	case LayerLSTM, LayerGRU:
		l.Kind = kind
		d.mapping(child, mv.Value, "a mapping (units)", []field{
			{"units", d.setInt(&l.Units, "a positive integer")},
		}, "units")
	case LayerDropout:
		l.Kind = kind
		d.mapping(child, mv.Value, "a mapping (rate)", []field{
			{"rate", d.setNum(&l.Rate, "a number in [0, 1)")},
		}, "rate")
	default:
		d.src.bad[path] = true
		if s := suggest(kind, layerKindNames); s != "" {
			d.errorf(kpos, "%s: unknown layer kind, did you mean %s?", child, s)
		} else {
			d.errorf(kpos, "%s: unknown layer kind, expected %s", child, oneOf(layerKindNames))
		}
	}
}

func (d *decoder) objective(path string, n ast.Node) {
	o := &d.spec.Objective
	d.mapping(path, n, "a mapping (target_replication, class_weight, pos_weight)", []field{
		{"target_replication", func(p string, v ast.Node) {
			d.mapping(p, v, "a mapping (alpha, average)", []field{
				{"alpha", d.setNum(&o.Alpha, "a number in [0, 1]")},
				{"average", d.setStr(&o.Average, oneOf(averageNames))},
			})
		}},
		{"class_weight", func(p string, v ast.Node) {
			// Its form depends on outputs, which may come later in the
			// file: it is decoded once the whole file is.
			d.classWeightPath, d.classWeightNode = p, v
		}},
		{"pos_weight", func(p string, v ast.Node) {
			if w, ok := d.numList(p, v, "a list of non-negative numbers, one per label", "a non-negative number"); ok {
				o.PosWeight = w
			}
		}},
	})
}

func (d *decoder) classWeight(path string, n ast.Node) {
	want := "balanced or a mapping {0: w0, 1: w1}"
	classes := d.spec.Outputs.Classes
	if len(classes) > 0 {
		want = "balanced or a mapping from each class name to its weight"
	}
	switch v := d.node(n).(type) {
	case *ast.StringNode:
		if v.Value == "balanced" {
			d.spec.Objective.ClassWeight = &ClassWeight{Balanced: true}
			return
		}
		d.src.bad[path] = true
		hint := ""
		if s := suggest(v.Value, []string{"balanced"}); s != "" {
			hint = " (did you mean balanced?)"
		}
		d.errorf(d.pos(n), "%s: must be %s, got %s%s", path, want, quoteShort(v.Value), hint)
	case *ast.MappingNode:
		if len(classes) > 0 {
			d.classWeights(path, n, want, classes)
			return
		}
		cw := &ClassWeight{}
		d.mapping(path, n, want, []field{
			{"0", d.setNum(&cw.W0, "a non-negative number")},
			{"1", d.setNum(&cw.W1, "a non-negative number")},
		}, "0", "1")
		d.spec.Objective.ClassWeight = cw
	default:
		d.typeError(path, n, want)
	}
}

// classWeights decodes class_weight for outputs.classes: a weight for every
// class, keyed by the class's name, as Keras's class_weight needs one for
// every class.
func (d *decoder) classWeights(path string, n ast.Node, want string, classes []string) {
	w := make([]float64, len(classes))
	fields := make([]field, len(classes))
	seen := map[string]bool{}
	for i, c := range classes {
		if seen[c] {
			return // duplicate class names: validation reports them
		}
		seen[c] = true
		fields[i] = field{c, d.setNum(&w[i], "a non-negative number")}
	}
	if d.mapping(path, n, want, fields, classes...) {
		d.spec.Objective.ClassWeights = w
	}
}

func (d *decoder) training(path string, n ast.Node) {
	t := &d.spec.Training
	d.mapping(path, n, "a mapping (optimizer, learning_rate, ..., validation)", []field{
		{"optimizer", d.setStr(&t.Optimizer, oneOf(optimizerNames))},
		{"learning_rate", d.setNum(&t.LearningRate, "a non-negative number")},
		{"momentum", d.setNum(&t.Momentum, "a number in [0, 1)")},
		{"weight_decay", d.setNum(&t.WeightDecay, "a non-negative number")},
		{"clip_norm", d.setNum(&t.ClipNorm, "a non-negative number")},
		{"batch_size", d.setInt(&t.BatchSize, "a positive integer")},
		{"epochs", d.setInt(&t.Epochs, "a positive integer")},
		{"shuffle", d.setBool(&t.Shuffle)},
		{"seed", func(p string, v ast.Node) {
			if x, ok := d.seed(p, v); ok {
				t.Seed = x
			}
		}},
		{"validation", func(p string, v ast.Node) {
			val := &t.Validation
			d.mapping(p, v, "a mapping (split or file, monitor, patience, min_delta)", []field{
				{"split", d.setNum(&val.Split, "a number in [0, 1)")},
				{"file", d.setStr(&val.File, "a file name")},
				{"monitor", d.setStr(&val.Monitor, "a final-step metric")},
				{"patience", d.setInt(&val.Patience, "a non-negative integer")},
				{"min_delta", d.setNum(&val.MinDelta, "a non-negative number")},
			})
		}},
		{"lr_schedule", d.lrSchedule},
		{"test", func(p string, v ast.Node) {
			ts := &t.Test
			d.mapping(p, v, "a mapping (split or file, bootstrap)", []field{
				{"split", d.setNum(&ts.Split, "a number in [0, 1)")},
				{"file", d.setStr(&ts.File, "a file name")},
				{"bootstrap", d.setInt(&ts.Bootstrap, "a non-negative integer")},
			})
		}},
	})
}

func (d *decoder) data(path string, n ast.Node) {
	data := &d.spec.Data
	d.mapping(path, n, "a mapping (train, bin, shuffle_buffer, csv)", []field{
		{"train", d.setStr(&data.Train, "a file name")},
		{"bin", d.setNum(&data.Bin, "a positive number (the width of a step in the step column's time unit)")},
		{"shuffle_buffer", d.setInt(&data.ShuffleBuffer, "a positive integer (sequences)")},
		{"csv", func(p string, v ast.Node) {
			c := &CSVColumns{}
			ok := d.mapping(p, v, "a mapping (id, step, features, labels)", []field{
				{"id", d.setStr(&c.ID, "a column name")},
				{"step", d.setStr(&c.Step, "a column name")},
				{"features", func(p string, v ast.Node) {
					if l, ok := d.strList(p, v, "a list of column names", "a column name"); ok {
						c.Features = l
					}
				}},
				{"labels", func(p string, v ast.Node) {
					if l, ok := d.strList(p, v, "a list of column names", "a column name"); ok {
						c.Labels = l
					}
				}},
			}, "id")
			if ok {
				data.CSV = c
			}
		}},
	})
}

func (d *decoder) export(path string, n ast.Node) {
	e := &d.spec.Export
	d.mapping(path, n, "a mapping (opset, step_probs)", []field{
		{"opset", d.setInt(&e.Opset, fmt.Sprintf("an integer from %d to %d", graph.MinOpset, graph.MaxOpset))},
		{"step_probs", d.setBool(&e.StepProbs)},
	})
}
