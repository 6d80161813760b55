package data

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// Shapes: N sequences, F features, K labels, B sequences of a batch.

// ErrNotContiguous is the cause (errors.Is) of a SeqReader's error on a
// table whose rows of one id are not all together: it cannot yield a
// sequence before the end of the file. Load reads such a file.
var ErrNotContiguous = errors.New("the rows of an id are not contiguous")

// SeqReader yields the sequences of a Parquet file or of a folder in the
// episodes layout one at a time, in the order Load gives them, each as a
// Dataset of one sequence equal to the one Load's Dataset holds. It holds
// one sequence of a table (and the ids seen, to check that each id's rows
// are together), or a window of stays read in parallel.
type SeqReader struct {
	next  func() (*Dataset, error)
	close func() error
	s     Schema
	n     int // sequences yielded
}

// Streamable reports whether OpenSeqs reads path: a .parquet file or a
// folder (the episodes layout).
func Streamable(path string) bool {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return true
	}
	return strings.EqualFold(filepath.Ext(path), ".parquet")
}

// OpenSeqs starts reading path's sequences as s says (see Load). A long-form
// table must hold each id's rows together (sorted by id, say): Next
// reports an id that comes back after another with ErrNotContiguous.
func OpenSeqs(path string, s Schema) (*SeqReader, error) {
	if err := s.checkExtras(); err != nil {
		return nil, &Error{File: path, Msg: err.Error(), Err: err}
	}
	r := &SeqReader{s: s}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		ep, stays, err := openEpisodes(path, &r.s)
		if err != nil {
			return nil, err
		}
		es := &episodeStream{ep: ep, stays: stays}
		r.next, r.close = es.next, func() error { return nil }
		return r, nil
	}
	src, err := openParquet(path)
	if err != nil {
		return nil, err
	}
	budget, err := newBudget()
	if err != nil {
		src.Close()
		return nil, &Error{File: path, Msg: err.Error(), Err: err}
	}
	dec, err := newRecordDecoder(path, src, &r.s, "", budget)
	if err != nil {
		src.Close()
		return nil, err
	}
	rs := &recordStream{dec: dec, seen: map[string]int{}, first: true}
	r.next, r.close = rs.next, src.Close
	return r, nil
}

// Next returns the next sequence, or io.EOF after the last.
func (r *SeqReader) Next() (*Dataset, error) {
	d, err := r.next()
	if err != nil {
		return nil, err
	}
	if r.n == 0 {
		if err := d.checkCounts(r.s); err != nil {
			return nil, err
		}
	}
	r.n++
	return d, nil
}

// Close releases the file.
func (r *SeqReader) Close() error { return r.close() }

// recordStream yields a long-form table's sequences as each id's rows end.
type recordStream struct {
	dec   *recordDecoder
	seen  map[string]int // each id's first row
	cur   *recordSeq     // the id being read
	first bool           // no row read yet
	done  bool
}

func (rs *recordStream) next() (*Dataset, error) {
	dec := rs.dec
	for !rs.done {
		rec, line, id, err := dec.nextRow(rs.first)
		rs.first = false
		if err == io.EOF {
			rs.done = true
			if rs.cur == nil {
				return nil, dec.errf(0, "", "no rows")
			}
			return rs.emit(nil)
		}
		if err != nil {
			return nil, err
		}
		if rs.cur != nil && id == rs.cur.id {
			if err := dec.sameLabels(rs.cur, line); err != nil {
				return nil, err
			}
			if err := dec.readStep(rs.cur, rec, line); err != nil {
				return nil, err
			}
			continue
		}
		if at, ok := rs.seen[id]; ok {
			return nil, &Error{File: dec.name, Line: line, Where: "id " + quote(id), Err: ErrNotContiguous,
				Msg: fmt.Sprintf("comes back after other ids (its rows began on %s); a streamed file needs each id's rows together: sort it by %s",
					dec.at(at), quote(dec.cols.ID))}
		}
		s := dec.newSeq(id, line)
		rs.seen[s.id] = line
		if err := dec.readStep(s, rec, line); err != nil {
			return nil, err
		}
		if rs.cur != nil {
			return rs.emit(s)
		}
		rs.cur = s
	}
	return nil, io.EOF
}

// emit returns the finished sequence and makes next the current one.
func (rs *recordStream) emit(next *recordSeq) (*Dataset, error) {
	s := rs.cur
	rs.cur = next
	return rs.dec.dataset([]*recordSeq{s})
}

// episodeStream reads stays a window at a time, in parallel within it.
type episodeStream struct {
	ep     *episodes
	stays  []*stay
	window *Dataset // the stays read, from stays[lo-window.N()]
	at     int      // the window's next stay
	lo     int      // the first stay not read yet
}

// streamWindow is the number of stays read at once: enough for every core
// to have several to read.
func streamWindow() int { return 4 * runtime.GOMAXPROCS(0) }

func (es *episodeStream) next() (*Dataset, error) {
	if es.window == nil || es.at == es.window.N() {
		if es.lo == len(es.stays) {
			return nil, io.EOF
		}
		hi := min(es.lo+streamWindow(), len(es.stays))
		steps, err := es.ep.readStays(es.stays[es.lo:hi])
		if err != nil {
			return nil, err
		}
		es.window, es.at = es.ep.dataset(es.stays[es.lo:hi], steps), 0
		es.lo = hi
	}
	d := es.window.Subset([]int{es.at})
	es.at++
	return d, nil
}

// Concat joins datasets read from one file, in order, into one, sharing
// their step storage.
func Concat(parts []*Dataset) *Dataset {
	if len(parts) == 0 {
		panic("data: Concat: no datasets")
	}
	p0 := parts[0]
	d := &Dataset{Source: p0.Source, F: p0.F, K: p0.K, Target: p0.Target, FeatureNames: p0.FeatureNames, LabelNames: p0.LabelNames}
	for _, p := range parts {
		if p.F != d.F || p.K != d.K {
			panic(fmt.Sprintf("data: Concat: %d features and %d labels after %d and %d", p.F, p.K, d.F, d.K))
		}
		d.X = append(d.X, p.X...)
		d.Y = append(d.Y, p.Y...)
		d.YStep = append(d.YStep, p.YStep...)
		d.StepValues = append(d.StepValues, p.StepValues...)
		for i := range p.N() {
			d.IDs = append(d.IDs, p.ID(i))
		}
	}
	return d
}
