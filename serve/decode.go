package serve

// Reading an infer request's body. encoding/json spends as long on a
// one-sequence request as the model does on its row: it checks the whole
// body, then reads it again into the struct, and copies each tensor's data.
// Most clients send the plain form of the protocol (lowercase keys, strings
// without escapes, no parameters), which a hand-written parser reads in one
// pass, leaving each tensor's data in place in the body. Anything else goes
// to encoding/json, whose result and errors stay the reference: the
// parser either gives what encoding/json gives or gives up.

import (
	"encoding/json"
	"unicode/utf8"
)

// decodeRequest reads body into req. The data of req's inputs may share
// body's memory.
func decodeRequest(body []byte, req *inferRequest) error {
	p := reqParser{b: body}
	if p.request(req) {
		return nil
	}
	*req = inferRequest{}
	return json.Unmarshal(body, req)
}

// reqParser reads the plain form of a request. Each method reports whether
// it read what it expects at the position i, after which i is past it;
// false means the body is left to encoding/json.
type reqParser struct {
	b []byte
	i int
}

func (p *reqParser) space() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// next skips white space and returns the next byte, or 0 at the end.
func (p *reqParser) next() byte {
	p.space()
	if p.i < len(p.b) {
		return p.b[p.i]
	}
	return 0
}

// eat skips white space and c.
func (p *reqParser) eat(c byte) bool {
	if p.next() != c {
		return false
	}
	p.i++
	return true
}

// str reads a string without escapes or control characters, in valid
// UTF-8 (which encoding/json would keep as it is).
func (p *reqParser) str() (string, bool) {
	s, ok := p.strBytes()
	return string(s), ok
}

// strBytes is str's text, in the body.
func (p *reqParser) strBytes() ([]byte, bool) {
	if !p.eat('"') {
		return nil, false
	}
	start, ascii := p.i, true
	for ; p.i < len(p.b); p.i++ {
		switch c := p.b[p.i]; {
		case c == '"':
			s := p.b[start:p.i]
			p.i++
			return s, ascii || utf8.Valid(s)
		case c == '\\' || c < 0x20:
			return nil, false
		case c >= 0x80:
			ascii = false
		}
	}
	return nil, false
}

// object reads an object whose values field reads, given each key (in
// the body: field must not keep it). A key seen twice gives up
// (encoding/json would keep the last), and so do more than maxKeys keys.
func (p *reqParser) object(field func(key []byte) bool) bool {
	if !p.eat('{') {
		return false
	}
	if p.eat('}') {
		return true
	}
	var seen [maxKeys][]byte
	for n := 0; ; n++ {
		key, ok := p.strBytes()
		if !ok || n == maxKeys || !p.eat(':') {
			return false
		}
		for _, k := range seen[:n] {
			if string(k) == string(key) {
				return false
			}
		}
		seen[n] = key
		if !field(key) {
			return false
		}
		switch p.next() {
		case ',':
			p.i++
		case '}':
			p.i++
			return true
		default:
			return false
		}
	}
}

// maxKeys is the most keys an object of the plain form has (an input's).
const maxKeys = 4

// array reads an array whose elements elem reads.
func (p *reqParser) array(elem func() bool) bool {
	if !p.eat('[') {
		return false
	}
	if p.eat(']') {
		return true
	}
	for {
		if !elem() {
			return false
		}
		switch p.next() {
		case ',':
			p.i++
		case ']':
			p.i++
			return true
		default:
			return false
		}
	}
}

// null reads a null.
func (p *reqParser) null() bool { return p.word("null") }

func (p *reqParser) word(w string) bool {
	p.space()
	if len(p.b)-p.i < len(w) || string(p.b[p.i:p.i+len(w)]) != w {
		return false
	}
	p.i += len(w)
	return true
}

// request reads the whole body: one object and white space.
func (p *reqParser) request(req *inferRequest) bool {
	ok := p.object(func(key []byte) bool {
		switch string(key) {
		case "id":
			if p.next() == 'n' {
				req.ID = nil
				return p.null()
			}
			s, ok := p.str()
			req.ID = &s
			return ok
		case "inputs":
			if p.next() == 'n' {
				req.Inputs = nil
				return p.null()
			}
			req.Inputs = []requestInput{}
			return p.array(func() bool {
				req.Inputs = append(req.Inputs, requestInput{})
				return p.input(&req.Inputs[len(req.Inputs)-1])
			})
		case "outputs":
			return p.outputs(req)
		}
		return false
	})
	p.space()
	return ok && p.i == len(p.b)
}

func (p *reqParser) outputs(req *inferRequest) bool {
	if p.next() == 'n' {
		req.Outputs = nil
		return p.null()
	}
	req.Outputs = []requestOutput{}
	return p.array(func() bool {
		var o requestOutput
		ok := p.object(func(key []byte) bool {
			var ok bool
			if string(key) == "name" {
				o.Name, ok = p.str()
			}
			return ok
		})
		req.Outputs = append(req.Outputs, o)
		return ok
	})
}

// input reads one of the request's inputs.
func (p *reqParser) input(in *requestInput) bool {
	return p.object(func(key []byte) bool {
		var ok bool
		switch string(key) {
		case "name":
			in.Name, ok = p.str()
		case "datatype":
			in.Datatype, ok = p.str()
		case "shape":
			ok = p.shape(in)
		case "data":
			start := p.next()
			from := p.i
			if ok = start == '[' && p.data(0); ok {
				in.Data = json.RawMessage(p.b[from:p.i])
			}
		}
		return ok
	})
}

// shape reads an array of non-negative integers small enough for an int.
func (p *reqParser) shape(in *requestInput) bool {
	in.Shape = []int{}
	return p.array(func() bool {
		p.space()
		n, digits := 0, 0
		for ; p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9'; p.i++ {
			n = n*10 + int(p.b[p.i]-'0')
			digits++
		}
		if digits == 0 || digits > 15 || (digits > 1 && p.b[p.i-digits] == '0') {
			return false
		}
		in.Shape = append(in.Shape, n)
		return true
	})
}

// maxDepth bounds the nesting of a tensor's data the parser reads; deeper
// data goes to encoding/json.
const maxDepth = 32

// data reads a tensor's data: arrays, nested to any depth up to maxDepth,
// of numbers, null, true, false and strings without escapes.
func (p *reqParser) data(depth int) bool {
	switch p.next() {
	case '[':
		return depth < maxDepth && p.array(func() bool { return p.data(depth + 1) })
	case '"':
		_, ok := p.str()
		return ok
	case 'n':
		return p.null()
	case 't':
		return p.word("true")
	case 'f':
		return p.word("false")
	}
	return p.number()
}

// number reads a number as JSON writes one:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?.
func (p *reqParser) number() bool {
	b, i := p.b, p.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		i = digits(b, i)
	default:
		return false
	}
	if i < len(b) && b[i] == '.' {
		if j := digits(b, i+1); j > i+1 {
			i = j
		} else {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := digits(b, i)
		if j == i {
			return false
		}
		i = j
	}
	p.i = i
	return true
}

// digits returns the index past the digits of b from i.
func digits(b []byte, i int) int {
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i
}
