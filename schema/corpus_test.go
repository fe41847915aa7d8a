package schema_test

// The regression corpus: the malformed plans of the attack in issue 11
// (hardening), plus the obvious malformed-YAML shapes, one file each in
// testdata/corpus. Each goes through the path `planrun validate` takes
// (cmd/planrun loadPlan: schema.LoadPartial, then engine.Compile and
// assertions.Compile on the partial plan) and must be refused with at
// least one error at a line:col position, or be listed in acceptedByDesign
// with the reason. None may panic or take longer than corpusTimeout.
//
// Figures (update them with the corpus): 99 plans tried, 94 rejected
// cleanly (exit 2, each with a positioned error), 5 accepted by design.

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/planrun/planrun/assertions"
	"github.com/planrun/planrun/engine"
	"github.com/planrun/planrun/schema"
)

// corpusSecret is what DATABASE_URL holds while the corpus runs: no error
// may show any of it (dsn-in-wrong-key.yaml puts it where it does not go).
const corpusSecret = "postgres://app:Gh4 spa ce Mn8@db.internal:5432/prod"

// acceptedByDesign lists the corpus plans that are valid, and why.
var acceptedByDesign = map[string]string{
	"users-100000.yaml":    "100,000 users is the documented limit itself (docs/plan-format.md, Limits)",
	"byte-order-mark.yaml": "a UTF-8 byte order mark before a valid plan is allowed by YAML",
	"crlf-line-ends.yaml":  "Windows line ends are allowed by YAML",
	"control-characters-in-name.yaml": "a name may hold any text: the reports replace control characters and " +
		"escape markdown when they print it (issue 11, output safety)",
	"faults-valid-every-kind.yaml": "target.network with every key and one fault of each kind, as docs/plan-format.md shows them (issue 13)",
}

// mayBeRejected lists accepted plans that may also be refused.
var mayBeRejected = map[string]bool{}

// corpusTimeout is generous: every input takes well under a second.
const corpusTimeout = 30 * time.Second

// validate is cmd/planrun's loadPlan without the printing: every error of
// the plan, or nil.
func validate(path string) schema.Errors {
	var all schema.Errors
	collect := func(err error) {
		var es schema.Errors
		switch {
		case err == nil:
		case errors.As(err, &es):
			all = append(all, es...)
		default:
			all = append(all, &schema.Error{Msg: err.Error()})
		}
	}
	plan, err := schema.LoadPartial(path)
	collect(err)
	if plan != nil {
		_, err = engine.Compile(plan, engine.Options{})
		collect(err)
		_, err = assertions.Compile(plan)
		collect(err)
	}
	return all
}

func TestCorpus(t *testing.T) {
	t.Setenv("DATABASE_URL", corpusSecret)
	files, err := filepath.Glob(filepath.Join("testdata", "corpus", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 40 {
		t.Fatalf("found %d corpus plans, want 40 or more", len(files))
	}
	rejected, accepted := 0, 0
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			done := make(chan schema.Errors, 1)
			go func() { done <- validate(path) }()
			var errs schema.Errors
			select {
			case errs = <-done:
			case <-time.After(corpusTimeout):
				t.Fatalf("validating took more than %s", corpusTimeout)
			}
			out := errs.Error()
			for _, part := range []string{corpusSecret, "Gh4", "Mn8", "db.internal"} {
				if strings.Contains(out, part) {
					t.Errorf("the errors show %q of DATABASE_URL:\n%s", part, out)
				}
			}
			reason, byDesign := acceptedByDesign[name]
			switch {
			case len(errs) == 0 && byDesign:
				accepted++
				return
			case len(errs) == 0:
				t.Fatalf("accepted; want errors with a position, or an entry in acceptedByDesign")
			case byDesign && !mayBeRejected[name]:
				t.Fatalf("listed as accepted by design (%s), but refused:\n%s", reason, out)
			}
			rejected++
			positioned := false
			for _, e := range errs {
				positioned = positioned || e.Pos.Line > 0 && e.Pos.Col > 0
				if strings.Contains(e.Msg, "internal error") {
					t.Errorf("a planrun bug, not a plan error: %s", e)
				}
			}
			if !positioned {
				t.Errorf("no error has a line:col position:\n%s", out)
			}
		})
	}
	t.Logf("corpus: %d plans tried, %d rejected with a position, %d accepted by design", len(files), rejected, accepted)
	for name := range acceptedByDesign {
		if _, err := os.Stat(filepath.Join("testdata", "corpus", name)); err != nil {
			t.Errorf("acceptedByDesign lists %s: %v", name, err)
		}
	}
}
