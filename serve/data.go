package serve

// The tensor data of the protocol's JSON: datatype names, the elements of
// a request's "data" (an array, flat or nested, in row-major order) and the
// data of a response.

import (
	"fmt"
	"math"
	"strconv"

	"github.com/trnn/trnn"
)

// The protocol's names of the element types trnn runs.
var datatypes = map[trnn.DType]string{
	trnn.Float32: "FP32",
	trnn.Float64: "FP64",
	trnn.Int32:   "INT32",
	trnn.Int64:   "INT64",
	trnn.Bool:    "BOOL",
}

func datatype(dt trnn.DType) string {
	if s, ok := datatypes[dt]; ok {
		return s
	}
	return dt.String()
}

// maxElements bounds a tensor's element count, as the model reader does.
const maxElements = 1<<31 - 1

// newTensor returns a zeroed tensor of type dt and the given shape.
func newTensor(dt trnn.DType, shape []int) *trnn.Tensor {
	t := &trnn.Tensor{DType: dt, Shape: shape}
	n := elements(shape)
	switch dt {
	case trnn.Float32:
		t.F32 = make([]float32, n)
	case trnn.Float64:
		t.F64 = make([]float64, n)
	case trnn.Int32:
		t.I32 = make([]int32, n)
	case trnn.Int64:
		t.I64 = make([]int64, n)
	case trnn.Bool:
		t.B = make([]bool, n)
	default:
		panic("serve: newTensor: unsupported element type " + dt.String())
	}
	return t
}

// elements is the number of elements shape holds; the caller has bounded it.
func elements(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// scanData calls f on each element of a JSON value holding tensor data, in
// order, and returns how many there were. An array is flattened whatever
// its nesting; any other value is one element.
func scanData(raw []byte, f func(i int, tok []byte)) int {
	n := 0
	for tok, i := nextToken(raw, 0); tok != nil; tok, i = nextToken(raw, i) {
		f(n, tok)
		n++
	}
	return n
}

// nextToken returns the element of raw, JSON holding tensor data, that
// begins at or after i, and the index past it; nil at the end. raw is
// valid JSON (the request decoder checked it), so only the element tokens
// need reading: numbers, null, true, false and strings.
func nextToken(raw []byte, i int) ([]byte, int) {
	for i < len(raw) {
		switch raw[i] {
		case '[', ']', ',', ' ', '\t', '\n', '\r':
			i++
			continue
		case '"':
			j := i + 1
			for j < len(raw) && raw[j] != '"' {
				if raw[j] == '\\' {
					j++
				}
				j++
			}
			return raw[i:min(j+1, len(raw))], j + 1
		}
		j := i
		for j < len(raw) && !isDelim(raw[j]) {
			j++
		}
		return raw[i:j], j
	}
	return nil, i
}

func isDelim(c byte) bool {
	switch c {
	case '[', ']', ',', ' ', '\t', '\n', '\r', '"':
		return true
	}
	return false
}

// decodeData parses raw, the data of a tensor of type dt and shape, into a
// new tensor, and returns how many elements raw holds: when it is not the
// shape's count, the tensor is not filled and err is nil. A null is NaN in
// a float tensor; firstNull is the index of the first, or -1.
func decodeData(raw []byte, dt trnn.DType, shape []int) (t *trnn.Tensor, count, firstNull int, err error) {
	t, firstNull = newTensor(dt, shape), -1
	n := t.Len()
	// The scan goes on past a bad element, to count them all: a wrong
	// count is the message a client needs first.
	for tok, i := nextToken(raw, 0); tok != nil; tok, i = nextToken(raw, i) {
		switch {
		case count >= n || err != nil:
		case dt == trnn.Float32 && tok[0] != 'n':
			// The common case, inline: a float32 element.
			v, ok := parseFloat32(tok)
			if !ok {
				err = setElement(t, count, tok)
				break
			}
			t.F32[count] = v
		case string(tok) == "null" && isFloat(dt):
			if firstNull < 0 {
				firstNull = count
			}
			if dt == trnn.Float32 {
				t.F32[count] = float32(math.NaN())
			} else {
				t.F64[count] = math.NaN()
			}
		default:
			err = setElement(t, count, tok)
		}
		count++
	}
	if count != n {
		err = nil
	}
	return t, count, firstNull, err
}

// pow10f32 are the powers of ten a float32 holds exactly.
var pow10f32 = [...]float32{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10}

// parseFloat32 reads the numbers clients mostly send, a few decimal digits
// with or without an exponent, as strconv.ParseFloat(s, 32) does, and
// reports false for any other (which ParseFloat then reads, or refuses).
// Such a number is m·10^e with m < 2^23 and |e| ≤ 10: float32 holds m
// and 10^|e| exactly, so one float32 multiplication or division rounds
// it correctly (Clinger's fast path, which ParseFloat takes for these
// too), without ParseFloat's general reader.
func parseFloat32(b []byte) (float32, bool) {
	i, neg := 0, false
	if len(b) > 0 && b[0] == '-' {
		i, neg = 1, true
	}
	var m uint64
	e, digits := 0, 0
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		m, digits = m*10+uint64(b[i]-'0'), digits+1
	}
	if i < len(b) && b[i] == '.' {
		for i++; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
			m, digits, e = m*10+uint64(b[i]-'0'), digits+1, e-1
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		sign := 1
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			if b[i] == '-' {
				sign = -1
			}
			i++
		}
		x, start := 0, i
		for ; i < len(b) && b[i] >= '0' && b[i] <= '9' && i-start < 3; i++ {
			x = x*10 + int(b[i]-'0')
		}
		if i == start {
			return 0, false
		}
		e += sign * x
	}
	if i != len(b) || digits == 0 || digits > 18 || m >= 1<<23 || e < -10 || e > 10 {
		return 0, false
	}
	f := float32(m)
	if e < 0 {
		f = float32(f / pow10f32[-e])
	} else {
		f = float32(f * pow10f32[e])
	}
	if neg {
		f = -f
	}
	return f, true
}

// setElement parses tok as element i of t.
func setElement(t *trnn.Tensor, i int, tok []byte) error {
	switch t.DType {
	case trnn.Bool:
		if string(tok) != "true" && string(tok) != "false" {
			return fmt.Errorf("element %d is %s, expected true or false", i, clip(string(tok)))
		}
		t.B[i] = string(tok) == "true"
		return nil
	case trnn.Float32, trnn.Float64:
		bits := 32
		if t.DType == trnn.Float64 {
			bits = 64
		}
		v, err := strconv.ParseFloat(string(tok), bits)
		if err != nil {
			if e, ok := err.(*strconv.NumError); ok && e.Err == strconv.ErrRange {
				return fmt.Errorf("element %d is %s, outside the range of %s", i, clip(string(tok)), datatype(t.DType))
			}
			return fmt.Errorf("element %d is %s, expected a number", i, clip(string(tok)))
		}
		if bits == 32 {
			t.F32[i] = float32(v)
		} else {
			t.F64[i] = v
		}
		return nil
	}
	bits := 32
	if t.DType == trnn.Int64 {
		bits = 64
	}
	v, err := strconv.ParseInt(string(tok), 10, bits)
	if err != nil {
		if e, ok := err.(*strconv.NumError); ok && e.Err == strconv.ErrRange {
			return fmt.Errorf("element %d is %s, outside the range of %s", i, clip(string(tok)), datatype(t.DType))
		}
		return fmt.Errorf("element %d is %s, expected an integer", i, clip(string(tok)))
	}
	if bits == 32 {
		t.I32[i] = int32(v)
	} else {
		t.I64[i] = v
	}
	return nil
}

// clip shortens a token echoed in a message.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// appendData appends t's elements as a JSON array: floats in the shortest
// form that reads back to the same value of t's type, NaN as null.
func appendData(b []byte, t *trnn.Tensor) ([]byte, error) {
	b = append(b, '[')
	n := t.Len()
	for i := range n {
		if i > 0 {
			b = append(b, ',')
		}
		switch t.DType {
		case trnn.Float32, trnn.Float64:
			v, bits := 0.0, 64
			if t.DType == trnn.Float32 {
				v, bits = float64(t.F32[i]), 32
			} else {
				v = t.F64[i]
			}
			switch {
			case math.IsNaN(v):
				b = append(b, "null"...)
			case math.IsInf(v, 0):
				return nil, fmt.Errorf("element %d is %v, which JSON cannot hold", i, v)
			default:
				b = strconv.AppendFloat(b, v, 'g', -1, bits)
			}
		case trnn.Int32:
			b = strconv.AppendInt(b, int64(t.I32[i]), 10)
		case trnn.Int64:
			b = strconv.AppendInt(b, t.I64[i], 10)
		case trnn.Bool:
			b = strconv.AppendBool(b, t.B[i])
		}
	}
	return append(b, ']'), nil
}
