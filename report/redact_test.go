package report_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/planrun/planrun/internal/redact"
	"github.com/planrun/planrun/report"
	"github.com/planrun/planrun/results"
)

// leaks are the shapes a password reaches a report in; each holds one of
// the secrets below.
var leaks = []string{
	"postgres://u:Gh4 spa ce Mn8@host/db",
	"postgres://u:Xq7@Zz:9/Kk%2Fw#Vv?Ll@host/db",
	"host=db password=Pw&Leak9Zz dbname=x",
	"host=db sslpassword='Ss1 quoted' dbname=x",
	"postgres://u@h/db?PASSWORD=Qp7query",
	"setup statement 1 (CREATE ROLE x PASSWORD 'S3cretPw'): role \"x\" already exists",
	"server said Bare9Secret",
}

var secrets = []string{"Gh4 spa ce Mn8", "Zz:9/Kk%2Fw#Vv?Ll", "Leak9Zz", "Ss1 quoted", "Qp7query", "S3cretPw", "Bare9Secret"}

// poison sets every string of v (a pointer), wherever it is, to one of leaks,
// in turn, except the encoded fields (histograms, hash).
func poison(v reflect.Value, n *int) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			poison(v.Elem(), n)
		}
	case reflect.String:
		v.SetString("at " + leaks[*n%len(leaks)] + " (then more text)")
		*n++
	case reflect.Struct:
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.IsExported() && f.Name != "Histogram" && f.Name != "SHA256" {
				poison(v.Field(i), n)
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			poison(v.Index(i), n)
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			if it.Value().Kind() == reflect.String {
				v.SetMapIndex(it.Key(), reflect.ValueOf("at "+leaks[*n%len(leaks)]))
				*n++
			}
		}
	}
}

func poisonedRun(t *testing.T) *results.Run {
	t.Helper()
	run := FailingRun()
	run.TeardownError = "x"
	run.Target.URL = "postgres://u:Gh4 spa ce Mn8@host/db"
	n := 0
	poison(reflect.ValueOf(run), &n)
	run.Target.URL = "postgres://u:Xq7@Zz:9/Kk%2Fw#Vv?Ll@host/db"
	if n < 20 {
		t.Fatalf("poisoned only %d strings", n)
	}
	return run
}

// TestRedactEveryString: whatever string field a password lands in, no
// renderer shows it, and Redact leaves the run it was given alone.
func TestRedactEveryString(t *testing.T) {
	run := poisonedRun(t)
	before, _ := json.Marshal(run)
	r := redact.New("Bare9Secret")
	red := report.Redact(run, r)
	if after, _ := json.Marshal(run); !bytes.Equal(before, after) {
		t.Fatal("Redact modified the run it was given")
	}
	if red.Scenarios[0].Acquire.Histogram != run.Scenarios[0].Acquire.Histogram || red.Plan.SHA256 != run.Plan.SHA256 {
		t.Error("Redact changed encoded data (histogram or hash)")
	}
	if red.Target.URL != "postgres://u:xxxxx@host/db" {
		t.Errorf("target url = %q", red.Target.URL)
	}
	for _, format := range report.Formats {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			if err := report.Render(&buf, format, red, report.Options{}); err != nil {
				t.Fatal(err)
			}
			noSecret(t, buf.String())
		})
		// The renderers' own pass, without the known password: all but the bare one.
		t.Run(format+" unredacted input", func(t *testing.T) {
			var buf bytes.Buffer
			if err := report.Render(&buf, format, run, report.Options{}); err != nil {
				t.Fatal(err)
			}
			noSecret(t, strings.ReplaceAll(buf.String(), "Bare9Secret", ""))
		})
	}
	b, _ := json.Marshal(red)
	noSecret(t, string(b))
}

func noSecret(t *testing.T, out string) {
	t.Helper()
	for _, s := range secrets {
		if i := strings.Index(out, s); i >= 0 {
			t.Errorf("%q is shown: …%s…", s, out[max(0, i-80):min(len(out), i+len(s)+20)])
		}
	}
}

func TestRedactNil(t *testing.T) {
	if report.Redact(nil, nil) != nil {
		t.Error("Redact(nil) is not nil")
	}
	run := PassingRun()
	red := report.Redact(run, nil)
	a, _ := json.Marshal(run)
	b, _ := json.Marshal(red)
	if !bytes.Equal(a, b) {
		t.Errorf("a run without passwords changed:\n%s\n%s", a, b)
	}
}
