package results

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Limits on a JSON report read by [Decode] and [ReadFile]. A report comes
// from elsewhere (a CI artifact, a colleague, an earlier planrun): every
// value that sizes an allocation or a loop of a reader (merge, compare,
// report, --baseline) is checked against these before it is used, so that
// no report, however forged, makes a command panic, hang or exhaust the
// machine. Each is at or above what planrun itself writes; docs/merge.md
// ("Untrusted input") lists them.
const (
	// MaxSegments is the highest segment count a report may name
	// (segment.count, merged.segments): engine.MaxSegments, the highest
	// --segment accepts.
	MaxSegments = 1000
	// MaxReplicas bounds a replica number and the length of a replica
	// list: schema.MaxReplicas, the most target.replicas a plan may ask for.
	MaxReplicas = 10_000
	// MaxScenarios bounds a report's scenarios.
	MaxScenarios = 1000
	// MaxOperations bounds the operations of all the scenarios of a report
	// together.
	MaxOperations = 100_000
	// MaxFaults bounds one scenario's faults (schema.MaxFaults).
	MaxFaults = 1000
	// MaxListItems bounds every other list and map of a report (outcomes,
	// preflight checks, leak details, errors_by, ...), counted over the
	// whole report for each field: scenarios[].leak_details holds at most
	// this many leak details in all. The series points of all scenarios
	// together are bounded by MaxScenarios × MaxSeriesPoints, their
	// replicas by 1,000,000.
	MaxListItems = 100_000
	// MaxNesting bounds how deep a report's lists and objects nest; planrun
	// writes fewer than ten levels.
	MaxNesting = 64
	// MaxElapsed bounds every duration of a report that measures part of a
	// run (a scenario's elapsed time, a series point's offset, a series
	// step): twice schema.MaxLoad (1000 h), the longest load a plan may
	// ask for, leaving room for drains and recovery.
	MaxElapsed = 2000 * time.Hour
	// MinSeriesStep is the narrowest series step of a scenario with series
	// points: planrun writes one second, doubled when it downsamples.
	MinSeriesStep = time.Second
	// A latency histogram (Latency.Histogram) tracks values from
	// HistogramLowest or less (at least 1) to HistogramHighest or less, in
	// nanoseconds, at most HistogramSigFigs significant figures: the
	// engine's histograms (tally: Lowest, Highest, SigFigs) are 1 µs to one hour at 2 or
	// 3 significant figures (192 KiB and 27 KiB decoded). One histogram
	// within these bounds takes at most 264 KiB decoded.
	HistogramLowest  = 1000
	HistogramHighest = int64(time.Hour)
	HistogramSigFigs = 3
	// MaxHistogramBytes bounds the memory the decoded histograms of one
	// report may take (each histogram's counts array, from its header), and
	// MaxCommandHistogramBytes those of all the reports one command reads
	// ([Budget]).
	MaxHistogramBytes        = 64 << 20
	MaxCommandHistogramBytes = 256 << 20
	// MaxCommandReportBytes bounds the JSON all the reports one command
	// reads may hold together ([Budget]); one report holds at most
	// [MaxReportSize].
	MaxCommandReportBytes = 1 << 30
)

// listLimit bounds the items of the lists (and maps) at one field of a
// report: per list, and over the whole report.
type listLimit struct {
	each, total int
	what        string // "points", "scenarios", ...
}

// listLimits are the fields with their own limits, by normalised path
// (list indexes written []); every other field has
// {MaxListItems, MaxListItems, "items"}.
var listLimits = map[string]listLimit{
	"scenarios":              {MaxScenarios, MaxScenarios, "scenarios"},
	"scenarios[].operations": {MaxOperations, MaxOperations, "operations"},
	"scenarios[].series":     {MaxSeriesPoints, MaxScenarios * MaxSeriesPoints, "points"},
	"scenarios[].faults":     {MaxFaults, MaxListItems, "faults"},
	"scenarios[].replicas":   {MaxReplicas, 1_000_000, "replicas"},
	"segment.replicas":       {MaxReplicas, MaxReplicas, "replicas"},
	"merged.files":           {MaxSegments, MaxSegments, "files"},
}

// foldedLimits is listLimits keyed by the case-folded path: encoding/json
// matches keys case-insensitively (and folds ſ to s, K to k).
var foldedLimits = func() map[string]listLimit {
	m := make(map[string]listLimit, len(listLimits))
	for k, v := range listLimits {
		m[fold(k)] = v
	}
	return m
}()

// mapPaths are the folded paths of the maps of a Run (errors_by,
// sqlstates, ...): the objects whose keys are items. Other objects are
// structs, whose keys allocate nothing (unknown ones are skipped, repeated
// ones overwrite).
var mapPaths = func() map[string]bool {
	m := map[string]bool{}
	var walk func(t reflect.Type, path string, depth int)
	walk = func(t reflect.Type, path string, depth int) {
		if depth > 20 {
			return
		}
		switch t.Kind() {
		case reflect.Pointer:
			walk(t.Elem(), path, depth+1)
		case reflect.Slice, reflect.Array:
			walk(t.Elem(), path+"[]", depth+1)
		case reflect.Map:
			m[fold(path)] = true
		case reflect.Struct:
			for i := range t.NumField() {
				f := t.Field(i)
				name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
				if name == "-" || !f.IsExported() {
					continue
				}
				if name == "" {
					name = f.Name
				}
				walk(f.Type, join(path, name), depth+1)
			}
		}
	}
	walk(reflect.TypeFor[Run](), "", 0)
	return m
}()

// fold maps s to a canonical case folding: each rune to the smallest rune
// of its simple folding orbit.
func fold(s string) string {
	var b strings.Builder
	for _, r := range s {
		f := r
		for x := unicode.SimpleFold(r); x != r; x = unicode.SimpleFold(x) {
			f = min(f, x)
		}
		b.WriteRune(f)
	}
	return b.String()
}

// frame is one open list or object of the scan.
type frame struct {
	list   bool
	path   string // normalised path, folded: "scenarios[].series"
	shown  string // the path as written, with indexes: "scenarios[3].series"
	items  int
	key    string // an object's last key, folded
	rawKey string // and as written
	keyed  bool   // an object awaits the value of key
}

// checkLists scans the JSON document data, before it is decoded into a
// Run, and refuses a list or map with more items than its limit
// ([listLimits]), or nesting deeper than [MaxNesting], so that decoding
// allocates memory in proportion to what planrun writes rather than to a
// forged count of tiny items (a million `{}` scenarios take a few MB of
// JSON and over a GB decoded). It leaves malformed JSON to the decoder.
func checkLists(data []byte) error {
	var stack []frame
	totals := map[string]int{}
	limitOf := func(path string) listLimit {
		if l, ok := foldedLimits[path]; ok {
			return l
		}
		return listLimit{MaxListItems, MaxListItems, "items"}
	}
	// value is called at the start of each value: it counts the value as
	// an item of the enclosing list, and returns the path of the value.
	value := func() (path, shown string, err error) {
		if len(stack) == 0 {
			return "", "", nil
		}
		top := &stack[len(stack)-1]
		if top.list {
			top.items++
			l := limitOf(top.path)
			totals[top.path]++
			switch {
			case top.items > l.each:
				return "", "", fmt.Errorf("%s has more than %s %s", top.shown, thousands(l.each), l.what)
			case totals[top.path] > l.total:
				return "", "", fmt.Errorf("%s: the report has more than %s %s there in all", top.shown, thousands(l.total), l.what)
			}
			return top.path + "[]", fmt.Sprintf("%s[%d]", top.shown, top.items-1), nil
		}
		top.keyed = false
		return join(top.path, top.key), join(top.shown, top.rawKey), nil
	}
	for i := 0; i < len(data); i++ {
		switch c := data[i]; c {
		case '"':
			end := stringEnd(data, i)
			if end < 0 {
				return nil // malformed: the decoder says so
			}
			if n := len(stack); n > 0 && !stack[n-1].list && !stack[n-1].keyed {
				// an object's key
				top := &stack[n-1]
				raw := data[i+1 : end]
				key := string(raw)
				if strings.IndexByte(key, '\\') >= 0 || !utf8.Valid(raw) {
					var s string
					if json.Unmarshal(data[i:end+1], &s) == nil {
						key = s
					}
				}
				if mapPaths[top.path] {
					top.items++
					totals[top.path]++
					if l := limitOf(top.path); top.items > l.each || totals[top.path] > l.total {
						return fmt.Errorf("%s has more than %s keys", orRoot(top.shown), thousands(l.each))
					}
				}
				top.rawKey, top.key, top.keyed = key, fold(key), true
			} else if _, _, err := value(); err != nil {
				return err
			}
			i = end
		case '[', '{':
			path, shown, err := value()
			if err != nil {
				return err
			}
			if len(stack) >= MaxNesting {
				return fmt.Errorf("%s nests more than %d levels deep", orRoot(shown), MaxNesting)
			}
			stack = append(stack, frame{list: c == '[', path: path, shown: shown})
		case ']', '}':
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		case ',', ':', ' ', '\t', '\n', '\r':
		default:
			// a number, true, false or null: one value
			if _, _, err := value(); err != nil {
				return err
			}
			for i+1 < len(data) && !strings.ContainsRune(",:]} \t\r\n\"[{", rune(data[i+1])) {
				i++
			}
		}
	}
	return nil
}

// stringEnd returns the index of the quote closing the JSON string that
// opens at data[start], or -1.
func stringEnd(data []byte, start int) int {
	for i := start + 1; i < len(data); i++ {
		switch data[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return -1
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func orRoot(shown string) string {
	if shown == "" {
		return "the report"
	}
	return shown
}

// thousands renders n with thousands separators: 100,000.
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
