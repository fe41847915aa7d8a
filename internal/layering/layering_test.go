// Package layering_test keeps planrun's packages layered
// (docs/architecture.md), checked with `go list` over the module's source:
//
//   - A package under internal/ is a helper of the packages above it. It
//     depends, directly or not, only on the standard library, third-party
//     modules, other packages under internal/, and results: the plain-data
//     leaf record of a run that helpers such as internal/hdr summarise into
//     (results itself imports no planrun package, so the exception lets
//     nothing else in). Its tests import no more than that. Never engine,
//     schema, assertions, report or any other planrun package: a helper
//     that needs one (the tests' PostgreSQL needs engine/localpg) lives
//     beside it (engine/localpg/localpgtest).
//   - metrics serves the live stream (package live) and depends on no
//     package under engine/, so that the engine's sinks never pull the
//     engine into their readers.
//   - watch (planrun watch) uses of the engine only the server-side
//     watcher (engine/servicewatch) and the bounded series
//     (engine/measure, with engine/pool beneath it).
package layering_test

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/planrun/planrun"

// pkg is what `go list` says of one package.
type pkg struct {
	path string
	// deps are its transitive dependencies (test files excluded); tests the
	// direct imports of its test files.
	deps, tests []string
}

// goList lists the packages matching pattern, run at the module's root.
func goList(t *testing.T, pattern string) []pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-f",
		`{{.ImportPath}}{{"\t"}}{{join .Deps " "}}{{"\t"}}{{join .TestImports " "}} {{join .XTestImports " "}}`, pattern)
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %s: %v\n%s", pattern, err, stderr.String())
	}
	var pkgs []pkg
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			t.Fatalf("go list: unexpected line %q", line)
		}
		pkgs = append(pkgs, pkg{path: f[0], deps: strings.Fields(f[1]), tests: strings.Fields(f[2])})
	}
	return pkgs
}

// internalViolations lists the imports of packages under internal/ that
// break the rule (package doc): a planrun package other than results and
// those under internal/.
func internalViolations(pkgs []pkg) []string {
	allowed := func(p string) bool {
		if p == module {
			return false
		}
		rest, ours := strings.CutPrefix(p, module+"/")
		return !ours || rest == "results" || strings.HasPrefix(rest, "internal/")
	}
	var out []string
	for _, p := range pkgs {
		for _, d := range p.deps {
			if !allowed(d) {
				out = append(out, p.path+" depends on "+d)
			}
		}
		for _, d := range p.tests {
			if !allowed(d) {
				out = append(out, p.path+"'s tests import "+d)
			}
		}
	}
	return out
}

// engineDeps lists the packages under engine/ (or engine itself) in deps.
func engineDeps(deps []string) []string {
	var out []string
	for _, d := range deps {
		if d == module+"/engine" || strings.HasPrefix(d, module+"/engine/") {
			out = append(out, d)
		}
	}
	return out
}

func TestInternalImportsNothingAbove(t *testing.T) {
	pkgs := goList(t, "./internal/...")
	var hdr *pkg
	for i := range pkgs {
		if pkgs[i].path == module+"/internal/hdr" {
			hdr = &pkgs[i]
		}
	}
	// Not vacuous: the packages are listed, and internal/hdr's dependence
	// on results, the one exception, is seen.
	if hdr == nil || !slices.Contains(hdr.deps, module+"/results") {
		t.Fatalf("go list ./internal/... lists no internal/hdr depending on results: %+v", pkgs)
	}
	for _, v := range internalViolations(pkgs) {
		t.Errorf("%s: a package under internal/ uses only internal/ packages and results", v)
	}
}

func TestMetricsDoesNotDependOnEngine(t *testing.T) {
	pkgs := goList(t, "./metrics")
	if len(pkgs) != 1 || !slices.Contains(pkgs[0].deps, module+"/live") {
		t.Fatalf("go list ./metrics: %+v, want one package depending on live", pkgs)
	}
	if bad := engineDeps(pkgs[0].deps); len(bad) > 0 {
		t.Errorf("metrics depends on %v: it reads the live stream, never the engine", bad)
	}
}

// TestWatchUsesOnlyTheEnginesHelpers: planrun watch (package watch) runs
// no load: of the engine it uses the server-side watcher and the bounded
// series (and what they import), never the engine itself.
func TestWatchUsesOnlyTheEnginesHelpers(t *testing.T) {
	pkgs := goList(t, "./watch")
	if len(pkgs) != 1 || !slices.Contains(pkgs[0].deps, module+"/engine/servicewatch") {
		t.Fatalf("go list ./watch: %+v, want one package depending on engine/servicewatch", pkgs)
	}
	allowed := []string{module + "/engine/servicewatch", module + "/engine/measure", module + "/engine/pool"}
	for _, d := range engineDeps(pkgs[0].deps) {
		if !slices.Contains(allowed, d) {
			t.Errorf("watch depends on %s: it may use only %v of the engine", d, allowed)
		}
	}
}

// TestRulesCatchViolations: the checks above fail on the imports they
// forbid (the pgtest helper that imported engine/localpg from internal/).
func TestRulesCatchViolations(t *testing.T) {
	got := internalViolations([]pkg{
		{path: module + "/internal/pgtest", deps: []string{"fmt", "github.com/jackc/pgx/v5", module + "/engine/localpg", module + "/results", module + "/internal/redact"}},
		{path: module + "/internal/hdr", deps: []string{module + "/results"}, tests: []string{module + "/internal/hdr", module + "/schema"}},
		{path: module + "/internal/x", deps: []string{module}},
	})
	want := []string{
		module + "/internal/pgtest depends on " + module + "/engine/localpg",
		module + "/internal/hdr's tests import " + module + "/schema",
		module + "/internal/x depends on " + module,
	}
	if !slices.Equal(got, want) {
		t.Errorf("internalViolations = %q, want %q", got, want)
	}
	if got := engineDeps([]string{module + "/live", module + "/engine", module + "/engine/pool", module + "/engineer"}); !slices.Equal(got, []string{module + "/engine", module + "/engine/pool"}) {
		t.Errorf("engineDeps = %q", got)
	}
}
