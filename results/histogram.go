package results

import (
	"compress/zlib"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"reflect"
	"strings"
	"sync"
)

// The V2 compressed HdrHistogram encoding (Latency.Histogram): base64 of a
// cookie, the length of the zlib data that follows, and the zlib data: a
// 40-byte header (cookie, payload length, normalizing offset, significant
// figures, lowest and highest trackable values, conversion ratio), then the
// counts.
const (
	histCompressedCookie = 0x1c849304
	histCookie           = 0x1c849303
	histHeaderSize       = 40
)

// HistogramGeometry is what a histogram's header says of its range and
// precision.
type HistogramGeometry struct {
	Lowest, Highest int64
	SigFigs         int
}

// Bytes is the size of the counts array a histogram of this geometry
// decodes into (hdrhistogram-go's countsLen × 8).
func (g HistogramGeometry) Bytes() int64 {
	largest := 2 * int64(math.Pow10(g.SigFigs))
	subBucketCountMagnitude := bits.Len64(uint64(largest - 1)) // ceil(log2(largest))
	subBucketHalfCountMagnitude := max(subBucketCountMagnitude, 1) - 1
	subBucketCount := int64(1) << (subBucketHalfCountMagnitude + 1)
	unitMagnitude := bits.Len64(uint64(g.Lowest)) - 1 // floor(log2(lowest))
	smallestUntrackable := subBucketCount << unitMagnitude
	buckets := int64(1)
	for smallestUntrackable <= g.Highest { // <=, as hdrhistogram-go counts
		if smallestUntrackable > math.MaxInt64/2 {
			buckets++
			break
		}
		smallestUntrackable <<= 1
		buckets++
	}
	return (buckets + 1) * (subBucketCount / 2) * 8
}

// CheckHistogram reads the header of an encoded histogram
// (Latency.Histogram) without decoding its counts, and checks it against
// the geometry planrun writes ([HistogramLowest], [HistogramHighest],
// [HistogramSigFigs]), so that decoding it takes at most a few hundred KiB
// ([HistogramGeometry.Bytes]). Every reader calls it before decoding a
// histogram.
func CheckHistogram(encoded string) (HistogramGeometry, error) {
	var g HistogramGeometry
	r := base64.NewDecoder(base64.StdEncoding, strings.NewReader(encoded))
	var outer [8]byte
	if _, err := io.ReadFull(r, outer[:]); err != nil {
		return g, errors.New("it is not a base64 V2 HdrHistogram (too short)")
	}
	if c := binary.BigEndian.Uint32(outer[:4]) &^ 0xf0; c != histCompressedCookie {
		return g, errors.New("it is not a V2 compressed HdrHistogram (wrong cookie)")
	}
	n := int32(binary.BigEndian.Uint32(outer[4:]))
	if n < 0 {
		return g, fmt.Errorf("its compressed length %d is negative", n)
	}
	z, err := zlib.NewReader(io.LimitReader(r, int64(n)))
	if err != nil {
		return g, fmt.Errorf("its data is not zlib: %v", err)
	}
	var h [histHeaderSize]byte
	if _, err := io.ReadFull(z, h[:]); err != nil {
		return g, fmt.Errorf("its header cannot be read: %v", err)
	}
	if c := binary.BigEndian.Uint32(h[:4]) &^ 0xf0; c != histCookie {
		return g, errors.New("its header is not a V2 HdrHistogram's (wrong cookie)")
	}
	sig := int32(binary.BigEndian.Uint32(h[12:16]))
	g.Lowest = int64(binary.BigEndian.Uint64(h[16:24]))
	g.Highest = int64(binary.BigEndian.Uint64(h[24:32]))
	switch {
	case sig < 1 || sig > HistogramSigFigs:
		return g, fmt.Errorf("it has %d significant figures; planrun writes 1 to %d", sig, HistogramSigFigs)
	case g.Lowest < 1 || g.Lowest > HistogramLowest:
		return g, fmt.Errorf("its lowest trackable value is %d; planrun writes 1 to %d (ns)", g.Lowest, HistogramLowest)
	case g.Highest < 2*g.Lowest || g.Highest > HistogramHighest:
		return g, fmt.Errorf("its highest trackable value is %d; planrun writes at most %d (ns, one hour)", g.Highest, HistogramHighest)
	}
	g.SigFigs = int(sig)
	return g, nil
}

// A Budget bounds the memory the decoded histograms of the reports one
// command reads may take: [MaxCommandHistogramBytes] in all, besides
// [MaxHistogramBytes] per report. A command that reads several reports
// (merge, compare) reads them all with one Budget; it is safe for
// concurrent use.
type Budget struct {
	mu         sync.Mutex
	used, read int64 // histogram bytes decoded, report bytes read
}

// NewBudget returns a command's budget, nothing used.
func NewBudget() *Budget { return &Budget{} }

// ReadFile is [ReadFile] charged to b: it also refuses the report when
// its histograms, with those of the reports read before with b, would take
// more than [MaxCommandHistogramBytes].
//
// It also refuses the report when, with those read before, the command
// would have read more than [MaxCommandReportBytes] of JSON.
func (b *Budget) ReadFile(path string) (*Run, error) {
	run, cost, size, err := readFile(path)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.read+size > MaxCommandReportBytes {
		return nil, fmt.Errorf("%s: with the reports read before it, more than the %d MiB of JSON one command reads", path, MaxCommandReportBytes>>20)
	}
	b.read += size
	if b.used+cost > MaxCommandHistogramBytes {
		return nil, fmt.Errorf("%s: its latency histograms would take %s decoded, and those of the reports read before it %s: more than the %d MiB one command decodes",
			path, mib(cost), mib(b.used), MaxCommandHistogramBytes>>20)
	}
	b.used += cost
	return run, nil
}

func mib(n int64) string {
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

// checkHistograms checks the geometry of every histogram of r and returns
// the bytes they would take decoded; it refuses a geometry planrun does not
// write and a total over [MaxHistogramBytes]. Errors name the field.
func checkHistograms(r *Run) (int64, error) {
	var total int64
	var err error
	walkLatencies(reflect.ValueOf(r).Elem(), "", func(field string, l *Latency) bool {
		if l.Histogram == "" {
			return true
		}
		g, gerr := CheckHistogram(l.Histogram)
		if gerr != nil {
			err = fmt.Errorf("%s.histogram: %v", field, gerr)
			return false
		}
		total += g.Bytes()
		if total > MaxHistogramBytes {
			err = fmt.Errorf("%s.histogram: the report's latency histograms would take more than %d MiB decoded (the limit for one report)",
				field, MaxHistogramBytes>>20)
			return false
		}
		return true
	})
	return total, err
}

var latencyType = reflect.TypeFor[Latency]()

// walkLatencies calls f on every Latency within v (structs, pointers and
// slices followed), with its JSON path, until f returns false.
func walkLatencies(v reflect.Value, path string, f func(string, *Latency) bool) bool {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return true
		}
		return walkLatencies(v.Elem(), path, f)
	case reflect.Slice:
		for i := range v.Len() {
			p := fmt.Sprintf("%s[%d]", path, i)
			if e := v.Index(i); e.Kind() == reflect.Struct {
				if n := e.FieldByName("Name"); n.IsValid() && n.Kind() == reflect.String {
					p += " (" + n.String() + ")"
				}
			}
			if !walkLatencies(v.Index(i), p, f) {
				return false
			}
		}
	case reflect.Struct:
		if v.Type() == latencyType {
			return f(path, v.Addr().Interface().(*Latency))
		}
		if !hasLatency(v.Type()) {
			return true
		}
		for i := range v.NumField() {
			sf := v.Type().Field(i)
			name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
			if name == "-" || !sf.IsExported() {
				continue
			}
			if name == "" {
				name = sf.Name
			}
			if !walkLatencies(v.Field(i), join(path, name), f) {
				return false
			}
		}
	}
	return true
}

var hasLatencyCache sync.Map // reflect.Type → bool

// hasLatency reports whether a value of type t can hold a Latency.
func hasLatency(t reflect.Type) bool {
	if v, ok := hasLatencyCache.Load(t); ok {
		return v.(bool)
	}
	hasLatencyCache.Store(t, false) // a recursive type does not loop
	found := false
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array:
		found = hasLatency(t.Elem())
	case reflect.Struct:
		found = t == latencyType
		for i := 0; i < t.NumField() && !found; i++ {
			found = hasLatency(t.Field(i).Type)
		}
	}
	hasLatencyCache.Store(t, found)
	return found
}
