// Package action_test tests the GitHub Action at the repository root
// (action.yml) and the scripts its steps run (run.sh, comment.sh, gate.sh):
// the action's metadata against the scripts, actionlint on the metadata and
// the example workflow, and the scripts themselves with a fake GITHUB_*
// environment, an httptest server playing the GitHub REST API (artifacts
// and comments) and planrun's embedded PostgreSQL.
package action_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"go.yaml.in/yaml/v3"
)

// repoRoot is the repository's root, from this package's directory.
const repoRoot = "../.."

// planrunBin is planrun built once for the package; buildErr says why
// it is missing.
var (
	planrunBin string
	buildErr   error
)

func TestMain(m *testing.M) {
	// The scripts run with an environment the tests build; a real CI job's
	// variables must not leak into planrun's runs (its step summary, its
	// database).
	for _, k := range []string{"GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT", "DATABASE_URL"} {
		os.Unsetenv(k)
	}
	dir, err := os.MkdirTemp("", "planrun-action-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	planrunBin = filepath.Join(dir, "planrun")
	cmd := exec.Command("go", "build", "-o", planrunBin, "./cmd/planrun")
	cmd.Dir = repoRoot
	if out, err := cmd.CombinedOutput(); err != nil {
		buildErr = fmt.Errorf("go build ./cmd/planrun: %v\n%s", err, out)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func needPlanrun(t *testing.T) {
	t.Helper()
	if buildErr != nil {
		t.Fatal(buildErr)
	}
}

// needBaselineTools skips (fails in CI, CI set) when curl, jq or unzip,
// which run.sh fetches the baseline with, is missing: GitHub's runners
// have them, and so does this project's Debian machine.
func needBaselineTools(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"curl", "jq", "unzip"} {
		if _, err := exec.LookPath(tool); err != nil {
			msg := fmt.Sprintf("%s not found: run.sh fetches the baseline with curl, jq and unzip (apt-get install %s)", tool, tool)
			if os.Getenv("CI") != "" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
}

// ---------------------------------------------------------------------------
// The metadata.

// actionFile is the part of action.yml the checks read.
type actionFile struct {
	Name        string
	Description string
	Inputs      map[string]struct {
		Description string
		Required    bool
		Default     *string
	}
	Outputs map[string]struct {
		Description string
		Value       string
	}
	Runs struct {
		Using string
		Steps []actionStep
	}
}

type actionStep struct {
	ID               string
	Name             string
	If               string
	Uses             string
	Run              string
	Shell            string
	WorkingDirectory string `yaml:"working-directory"`
	Env              map[string]string
	With             map[string]string
}

func readAction(t *testing.T) (actionFile, string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot, "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var a actionFile
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&a); err != nil {
		t.Fatalf("action.yml: %v", err)
	}
	return a, string(raw)
}

// scriptOutputs lists the outputs a script writes with set_output NAME.
func scriptOutputs(t *testing.T, script string) map[string]bool {
	t.Helper()
	raw, err := os.ReadFile(script)
	if err != nil {
		t.Fatal(err)
	}
	outs := map[string]bool{}
	for _, m := range regexp.MustCompile(`set_output ([a-z][a-z-]*) `).FindAllStringSubmatch(string(raw), -1) {
		outs[m[1]] = true
	}
	return outs
}

// TestActionMetadata checks action.yml against itself and the scripts:
// a composite action whose run steps all name their shell, whose every
// input used is declared (and every one declared is used), whose outputs
// map to step outputs that exist (run.sh writes them), and whose scripts
// exist in the repository.
func TestActionMetadata(t *testing.T) {
	a, raw := readAction(t)
	if a.Name == "" || a.Description == "" {
		t.Error("action.yml needs a name and a description")
	}
	if a.Runs.Using != "composite" {
		t.Fatalf("runs.using = %q, want composite", a.Runs.Using)
	}
	if in, ok := a.Inputs["plan"]; !ok || !in.Required {
		t.Error("the plan input must be declared and required")
	}
	wantDefaults := map[string]string{"database-url": "", "args": "", "comment": "true", "baseline": "", "fail-on": "not-approved", "github-token": "${{ github.token }}"}
	for name, def := range wantDefaults {
		in, ok := a.Inputs[name]
		switch {
		case !ok:
			t.Errorf("input %s is not declared", name)
		case in.Default == nil || *in.Default != def:
			t.Errorf("input %s: default %v, want %q", name, in.Default, def)
		}
	}
	for name, in := range a.Inputs {
		if in.Description == "" {
			t.Errorf("input %s has no description", name)
		}
	}

	runOutputs := scriptOutputs(t, "run.sh")
	// The outputs of the actions the steps use, as their documentation lists them.
	usesOutputs := map[string][]string{"actions/upload-artifact": {"artifact-id", "artifact-url", "artifact-digest"}}
	stepOutputs := map[string]map[string]bool{}
	ids := map[string]bool{}
	for i, s := range a.Runs.Steps {
		label := fmt.Sprintf("step %d (%s)", i+1, s.Name)
		if s.Name == "" {
			t.Errorf("%s has no name", label)
		}
		if (s.Run == "") == (s.Uses == "") {
			t.Errorf("%s: exactly one of run and uses", label)
		}
		if s.Run != "" && s.Shell == "" {
			t.Errorf("%s: a composite action's run step needs shell:", label)
		}
		if s.Uses != "" && !regexp.MustCompile(`^[\w-]+/[\w-]+@v\d+$`).MatchString(s.Uses) {
			t.Errorf("%s: uses %q: pin an action's major version (owner/name@vN)", label, s.Uses)
		}
		if s.ID != "" {
			if ids[s.ID] {
				t.Errorf("%s: id %s used twice", label, s.ID)
			}
			ids[s.ID] = true
			outs := map[string]bool{}
			switch {
			case s.ID == "run":
				outs = runOutputs
			case s.Uses != "":
				for _, o := range usesOutputs[strings.SplitN(s.Uses, "@", 2)[0]] {
					outs[o] = true
				}
			default:
				for _, m := range regexp.MustCompile(`echo "([a-z-]+)=`).FindAllStringSubmatch(s.Run, -1) {
					outs[m[1]] = true
				}
			}
			stepOutputs[s.ID] = outs
		}
		for _, m := range regexp.MustCompile(`\$GITHUB_ACTION_PATH/([\w./-]+)`).FindAllStringSubmatch(s.Run, -1) {
			if _, err := os.Stat(filepath.Join(repoRoot, m[1])); err != nil {
				t.Errorf("%s runs %s, which is not in the repository: %v", label, m[1], err)
			}
		}
	}
	if len(runOutputs) == 0 || !ids["run"] {
		t.Fatal("no step with id run, or run.sh writes no output")
	}

	// Every inputs.X and steps.ID.outputs.X in the file refers to something.
	used := map[string]bool{}
	for _, m := range regexp.MustCompile(`inputs\.([\w-]+)`).FindAllStringSubmatch(raw, -1) {
		used[m[1]] = true
		if _, ok := a.Inputs[m[1]]; !ok {
			t.Errorf("inputs.%s is used but not declared", m[1])
		}
	}
	for name := range a.Inputs {
		if !used[name] {
			t.Errorf("input %s is declared but never used", name)
		}
	}
	for _, m := range regexp.MustCompile(`steps\.([\w-]+)\.outputs\.([\w-]+)`).FindAllStringSubmatch(raw, -1) {
		outs, ok := stepOutputs[m[1]]
		if !ok {
			t.Errorf("steps.%s: no step has that id", m[1])
			continue
		}
		if !outs[m[2]] {
			t.Errorf("steps.%s.outputs.%s: that step does not write it", m[1], m[2])
		}
	}
	for _, name := range []string{"verdict", "exit-code", "report-json", "report-html"} {
		out, ok := a.Outputs[name]
		if !ok {
			t.Errorf("output %s is not declared", name)
			continue
		}
		if !strings.Contains(out.Value, "steps.run.outputs."+name) {
			t.Errorf("output %s = %q, want the run step's %s", name, out.Value, name)
		}
	}
	for name, out := range a.Outputs {
		if out.Description == "" || !strings.HasPrefix(out.Value, "${{ steps.") {
			t.Errorf("output %s: needs a description and a step output as its value, got %q", name, out.Value)
		}
	}
}

// ---------------------------------------------------------------------------
// actionlint.

// actionlintVersion is the actionlint the test runs (github.com/rhysd/actionlint).
const actionlintVersion = "v1.7.12"

// TestActionlint runs actionlint on the example workflow as shipped (uses:
// planrun/planrun@main), then on it and on the README's snippet in a
// scratch repository holding action.yml at its root with uses: rewritten
// to ./, so that actionlint also reads the action's metadata and checks
// the workflow's inputs against it. actionlint is fetched through
// the Go module proxy with `go run`; when that fails the test is skipped
// with the reason, except in CI (CI set), which reaches the proxy and must
// not pass without linting.
func TestActionlint(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: actionlint is fetched and built")
	}
	lint := func(dir string, args ...string) (string, error) {
		cmd := exec.Command("go", append([]string{"run", "github.com/rhysd/actionlint/cmd/actionlint@" + actionlintVersion}, args...)...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := lint(t.TempDir(), "-version"); err != nil {
		msg := fmt.Sprintf("actionlint %s cannot be fetched or built: %v\n%s", actionlintVersion, err, out)
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}

	workflow, err := os.ReadFile(filepath.Join(repoRoot, "examples/workflows/planrun.yml"))
	if err != nil {
		t.Fatal(err)
	}
	abs, err := filepath.Abs(filepath.Join(repoRoot, "examples/workflows/planrun.yml"))
	if err != nil {
		t.Fatal(err)
	}
	t.Run("example as shipped", func(t *testing.T) {
		if out, err := lint(t.TempDir(), "-no-color", abs); err != nil {
			t.Errorf("actionlint examples/workflows/planrun.yml: %v\n%s", err, out)
		}
	})

	action, err := os.ReadFile(filepath.Join(repoRoot, "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	uses := regexp.MustCompile(`(?m)uses: planrun/planrun@\S+`)
	// againstAction lints workflow in a scratch repository beside
	// action.yml, with its uses: planrun/planrun@REF made ./ (a local
	// action, whose metadata actionlint reads); it returns the workflow's path.
	againstAction := func(t *testing.T, workflow []byte) (scratch, wf string) {
		t.Helper()
		if !uses.Match(workflow) {
			t.Fatal("the workflow does not use planrun/planrun@<ref>")
		}
		scratch = t.TempDir()
		writeFile(t, filepath.Join(scratch, "action.yml"), action)
		wf = filepath.Join(scratch, ".github", "workflows", "planrun.yml")
		writeFile(t, wf, uses.ReplaceAll(workflow, []byte("uses: ./")))
		if out, err := exec.Command("git", "init", "-q", scratch).CombinedOutput(); err != nil {
			t.Fatalf("git init: %v\n%s", err, out)
		}
		if out, err := lint(scratch, "-no-color", ".github/workflows/planrun.yml"); err != nil {
			t.Errorf("actionlint with uses: ./ against action.yml: %v\n%s", err, out)
		}
		return scratch, wf
	}

	t.Run("README snippet against action.yml", func(t *testing.T) {
		readme, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
		if err != nil {
			t.Fatal(err)
		}
		var snippet []byte
		for _, m := range regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllSubmatch(readme, -1) {
			if uses.Match(m[1]) {
				snippet = m[1]
			}
		}
		if snippet == nil {
			t.Fatal("README.md has no yaml block that uses planrun/planrun@<ref>")
		}
		againstAction(t, snippet)
	})

	t.Run("example against action.yml", func(t *testing.T) {
		scratch, wf := againstAction(t, workflow)
		local, err := os.ReadFile(wf)
		if err != nil {
			t.Fatal(err)
		}

		// The same check catches a mistake: an input the action does not have.
		bad := bytes.Replace(local, []byte("fail-on: regression"), []byte("fail-on: regression\n          fail-when: never"), 1)
		writeFile(t, wf, bad)
		out, err := lint(scratch, "-no-color", ".github/workflows/planrun.yml")
		if err == nil || !strings.Contains(out, "fail-when") {
			t.Errorf("actionlint did not flag an input action.yml lacks (so it did not read action.yml): %v\n%s", err, out)
		}
	})
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// ---------------------------------------------------------------------------
// The decision.

// TestDecide runs lib.sh's decide, the gate's rule, for each exit code and
// fail-on: codes 1-4 always fail, 5 only with inconclusive, a regression
// only with regression.
func TestDecide(t *testing.T) {
	cases := []struct {
		name, code, regression, failOn string
		fail                           bool
		says                           string // an annotation the decision writes
	}{
		{"approved", "0", "", "not-approved", false, ""},
		{"approved, default fail-on", "0", "", "", false, ""},
		{"not approved", "1", "", "not-approved", true, "::error"},
		{"invalid plan", "2", "", "inconclusive", true, "::error"},
		{"could not run", "3", "", "regression", true, "::error"},
		{"aborted", "4", "false", "not-approved", true, "::error"},
		{"inconclusive passes by default", "5", "", "not-approved", false, "::warning"},
		{"inconclusive fails with fail-on inconclusive", "5", "", "inconclusive", true, "::error"},
		{"inconclusive passes with fail-on regression alone", "5", "false", "regression", false, "::warning"},
		{"inconclusive fails with both", "5", "false", "Inconclusive, Regression", true, "::error"},
		{"regression noted by default", "0", "true", "not-approved", false, "::notice"},
		{"regression fails with fail-on regression", "0", "true", "regression", true, "::error"},
		{"regression fails with a list", "0", "true", "inconclusive,regression", true, "::error"},
		{"no regression", "0", "false", "regression", false, ""},
		{"no exit code: the run step failed", "", "", "not-approved", true, "::error"},
		{"undocumented exit code", "137", "", "not-approved", true, "::error"},
		{"unknown fail-on", "0", "", "sometimes", true, "unknown value"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command("bash", "-c", `source ./lib.sh && decide "$1" "$2" "$3"`, "decide", c.code, c.regression, c.failOn)
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			failed := errors.As(err, &exit) && exit.ExitCode() == 1
			if err != nil && !failed {
				t.Fatalf("decide: %v\n%s", err, out)
			}
			if failed != c.fail {
				t.Errorf("decide %q %q %q failed = %v, want %v\n%s", c.code, c.regression, c.failOn, failed, c.fail, out)
			}
			if c.says != "" && !strings.Contains(string(out), c.says) {
				t.Errorf("output lacks %q:\n%s", c.says, out)
			}
		})
	}
}

// ---------------------------------------------------------------------------
// The scripts, end to end.

// fakeGitHub plays the GitHub REST API for one repository: the artifact
// listing and download (with the redirect GitHub answers a download with)
// and an issue's comments. It records every call.
type fakeGitHub struct {
	t     *testing.T
	repo  string
	token string
	srv   *httptest.Server

	mu        sync.Mutex
	artifacts []fakeArtifact
	comments  []fakeComment
	nextID    int
	calls     []string // "METHOD path"
}

type fakeArtifact struct {
	id                 int
	name, branch       string
	created            string // RFC 3339
	expired, otherRepo bool
	zip                []byte
}

type fakeComment struct {
	ID   int    `json:"id"`
	Body string `json:"body"`
}

func newFakeGitHub(t *testing.T, repo, token string) *fakeGitHub {
	f := &fakeGitHub{t: t, repo: repo, token: token, nextID: 100}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeGitHub) addArtifact(a fakeArtifact) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	a.id = f.nextID
	f.artifacts = append(f.artifacts, a)
}

func (f *fakeGitHub) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, r.Method+" "+r.URL.Path)
	prefix := "/repos/" + f.repo
	if strings.HasPrefix(r.URL.Path, "/blob/") { // the storage an artifact download redirects to: no token
		id, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/blob/"))
		for _, a := range f.artifacts {
			if a.id == id {
				w.Header().Set("Content-Type", "application/zip")
				w.Write(a.zip)
				return
			}
		}
		http.NotFound(w, r)
		return
	}
	if auth := r.Header.Get("Authorization"); auth != "Bearer "+f.token && auth != "token "+f.token {
		http.Error(w, `{"message":"Bad credentials"}`, http.StatusUnauthorized)
		return
	}
	path := r.URL.Path
	switch {
	case r.Method == http.MethodGet && path == prefix+"/actions/artifacts":
		name := r.URL.Query().Get("name")
		var list []map[string]any
		for _, a := range f.artifacts {
			if name != "" && a.name != name {
				continue
			}
			headRepo := 1
			if a.otherRepo {
				headRepo = 2
			}
			list = append(list, map[string]any{
				"id": a.id, "name": a.name, "expired": a.expired, "created_at": a.created,
				"size_in_bytes":        len(a.zip),
				"archive_download_url": fmt.Sprintf("%s%s/actions/artifacts/%d/zip", f.srv.URL, prefix, a.id),
				"workflow_run":         map[string]any{"id": 9000 + a.id, "repository_id": 1, "head_repository_id": headRepo, "head_branch": a.branch},
			})
		}
		writeJSON(w, map[string]any{"total_count": len(list), "artifacts": list})
	case r.Method == http.MethodGet && strings.HasPrefix(path, prefix+"/actions/artifacts/") && strings.HasSuffix(path, "/zip"):
		id := strings.TrimSuffix(strings.TrimPrefix(path, prefix+"/actions/artifacts/"), "/zip")
		http.Redirect(w, r, f.srv.URL+"/blob/"+id, http.StatusFound)
	case strings.HasPrefix(path, prefix+"/issues/") && strings.HasSuffix(path, "/comments"):
		switch r.Method {
		case http.MethodGet:
			page := r.URL.Query().Get("page")
			if page != "" && page != "1" {
				writeJSON(w, []fakeComment{})
				return
			}
			writeJSON(w, append([]fakeComment{}, f.comments...))
		case http.MethodPost:
			var c fakeComment
			if err := json.NewDecoder(r.Body).Decode(&c); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			f.nextID++
			c.ID = f.nextID
			f.comments = append(f.comments, c)
			w.WriteHeader(http.StatusCreated)
			writeJSON(w, c)
		default:
			http.Error(w, "method", http.StatusMethodNotAllowed)
		}
	case r.Method == http.MethodPatch && strings.HasPrefix(path, prefix+"/issues/comments/"):
		id, _ := strconv.Atoi(strings.TrimPrefix(path, prefix+"/issues/comments/"))
		var c fakeComment
		if err := json.NewDecoder(r.Body).Decode(&c); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		for i := range f.comments {
			if f.comments[i].ID == id {
				f.comments[i].Body = c.Body
				writeJSON(w, f.comments[i])
				return
			}
		}
		http.NotFound(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (f *fakeGitHub) snapshot() (comments []fakeComment, calls []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.comments), slices.Clone(f.calls)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// zipOf returns a zip archive holding data as name, as upload-artifact makes it.
func zipOf(t *testing.T, name string, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// ghEnv is one step's fake GitHub Actions environment.
type ghEnv struct {
	t                   *testing.T
	dir                 string
	output, summaryFile string
	vars                map[string]string
}

// newStep makes a step's environment: event is the payload for
// GITHUB_EVENT_PATH, vars the rest (inputs, GITHUB_EVENT_NAME, ...).
func newStep(t *testing.T, gh *fakeGitHub, event map[string]any, vars map[string]string) *ghEnv {
	t.Helper()
	dir := t.TempDir()
	e := &ghEnv{t: t, dir: dir, output: filepath.Join(dir, "output"), summaryFile: filepath.Join(dir, "summary"), vars: map[string]string{}}
	raw, err := json.Marshal(event)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "event.json"), raw)
	for k, v := range map[string]string{
		"PATH":                os.Getenv("PATH"),
		"HOME":                os.Getenv("HOME"),
		"RUNNER_TEMP":         filepath.Join(dir, "runner-temp"),
		"GITHUB_ACTIONS":      "true",
		"GITHUB_OUTPUT":       e.output,
		"GITHUB_STEP_SUMMARY": e.summaryFile,
		"GITHUB_EVENT_PATH":   filepath.Join(dir, "event.json"),
		"GITHUB_API_URL":      gh.srv.URL,
		"GITHUB_SERVER_URL":   "https://github.example",
		"GITHUB_REPOSITORY":   gh.repo,
		"GITHUB_RUN_ID":       "4242",
		"GITHUB_TOKEN":        gh.token,
		"PLANRUN_BIN":         planrunBin,
	} {
		e.vars[k] = v
	}
	if err := os.MkdirAll(e.vars["RUNNER_TEMP"], 0o755); err != nil {
		t.Fatal(err)
	}
	for k, v := range vars {
		e.vars[k] = v
	}
	return e
}

// script runs one of the action's scripts in this environment and returns
// its exit code and combined output.
func (e *ghEnv) script(name string, extra map[string]string) (int, string) {
	e.t.Helper()
	cmd := exec.Command("bash", name)
	for k, v := range e.vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	for k, v := range extra {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, string(out)
	case errors.As(err, &exit):
		return exit.ExitCode(), string(out)
	}
	e.t.Fatalf("bash %s: %v\n%s", name, err, out)
	return -1, ""
}

// outputs parses $GITHUB_OUTPUT (NAME<<DELIM ... DELIM and NAME=VALUE).
func (e *ghEnv) outputs() map[string]string {
	e.t.Helper()
	raw, err := os.ReadFile(e.output)
	if errors.Is(err, os.ErrNotExist) {
		return map[string]string{}
	}
	if err != nil {
		e.t.Fatal(err)
	}
	outs := map[string]string{}
	lines := strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		if name, delim, ok := strings.Cut(lines[i], "<<"); ok {
			var val []string
			for i++; i < len(lines) && lines[i] != delim; i++ {
				val = append(val, lines[i])
			}
			if i == len(lines) {
				e.t.Fatalf("output %s: delimiter %s never closes", name, delim)
			}
			if _, dup := outs[name]; dup {
				e.t.Errorf("output %s written twice", name)
			}
			outs[name] = strings.Join(val, "\n")
			continue
		}
		name, val, ok := strings.Cut(lines[i], "=")
		if !ok {
			e.t.Fatalf("GITHUB_OUTPUT line %q is neither NAME=VALUE nor NAME<<DELIM", lines[i])
		}
		outs[name] = val
	}
	return outs
}

func (e *ghEnv) summary() string {
	raw, err := os.ReadFile(e.summaryFile)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		e.t.Fatal(err)
	}
	return string(raw)
}

// reportOf reads the JSON report the run step named.
func reportOf(t *testing.T, path string) (raw []byte, name string, pass, inconclusive bool) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("report-json: %v", err)
	}
	var r struct {
		Plan    struct{ Name string }
		Verdict struct {
			Pass, Inconclusive bool
		}
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatalf("report-json %s: %v", path, err)
	}
	return raw, r.Plan.Name, r.Verdict.Pass, r.Verdict.Inconclusive
}

// skipInconclusive skips when a run ended INCONCLUSIVE: the load generator
// fell behind on a busy machine, and nothing about its verdict can be judged.
func skipInconclusive(t *testing.T, outs map[string]string, log string) {
	t.Helper()
	if outs["exit-code"] == "5" {
		t.Skipf("the run ended INCONCLUSIVE (the load generator fell behind on this busy machine):\n%s", lastLines(log, 5))
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

const (
	testRepo  = "acme/shop"
	testToken = "ghs_fake-token-for-the-test"
)

// TestPushThenPullRequest plays the action's life: a push to the default
// branch keeps its approved run as the baseline artifact; a pull request
// that makes the pool slower fetches the newest baseline from its base
// branch (not a newer one from another branch, an expired one or a fork's),
// compares, fails the job with fail-on regression (and passes with the
// default fail-on), and posts one comment that a second run updates.
func TestPushThenPullRequest(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs planrun on its embedded PostgreSQL")
	}
	needPlanrun(t)
	needBaselineTools(t)
	gh := newFakeGitHub(t, testRepo, testToken)

	// A push to main.
	push := newStep(t, gh,
		map[string]any{"ref": "refs/heads/main", "repository": map[string]any{"default_branch": "main", "full_name": testRepo}},
		map[string]string{"GITHUB_EVENT_NAME": "push", "GITHUB_REF": "refs/heads/main", "INPUT_PLAN": "testdata/fast.yaml", "INPUT_ARGS": "--quiet"})
	code, log := push.script("run.sh", nil)
	if code != 0 {
		t.Fatalf("run.sh on a push exited %d:\n%s", code, log)
	}
	outs := push.outputs()
	skipInconclusive(t, outs, log)
	if outs["exit-code"] != "0" || outs["verdict"] != "approved" {
		t.Fatalf("push: exit-code %q verdict %q, want 0 approved:\n%s", outs["exit-code"], outs["verdict"], log)
	}
	baseRaw, name, pass, _ := reportOf(t, outs["report-json"])
	if name != "action-test" || !pass {
		t.Errorf("push: the report says plan %q pass %v, want action-test true", name, pass)
	}
	checkReports(t, outs)
	if got, want := outs["baseline-artifact"], "planrun-baseline-action-test"; got != want {
		t.Errorf("push to main: baseline-artifact %q, want %q", got, want)
	}
	if _, ok := outs["regression"]; ok {
		t.Errorf("push: regression %q without a comparison", outs["regression"])
	}
	if s := push.summary(); !strings.Contains(s, "action-test") {
		t.Errorf("push: the step summary lacks the report:\n%s", s)
	}
	md, err := os.ReadFile(outs["report-markdown"])
	if err != nil {
		t.Fatal(err)
	}
	head, _, _ := strings.Cut(string(md), "\n")
	if n := strings.Count(push.summary(), head); head == "" || n != 1 {
		t.Errorf("push: the step summary has the report's first line %q %d times, want once (planrun writes it, the script must not again)", head, n)
	}

	// What upload-artifact would keep, beside decoys the lookup must pass over.
	gh.addArtifact(fakeArtifact{name: "planrun-baseline-action-test", branch: "main", created: "2026-01-01T10:00:00Z", zip: zipOf(t, "old.json", []byte(`{"old": true}`))})
	gh.addArtifact(fakeArtifact{name: "planrun-baseline-action-test", branch: "main", created: "2026-01-02T10:00:00Z", zip: zipOf(t, filepath.Base(outs["report-json"]), baseRaw)})
	gh.addArtifact(fakeArtifact{name: "planrun-baseline-action-test", branch: "main", created: "2026-01-03T10:00:00Z", expired: true, zip: []byte("expired")})
	gh.addArtifact(fakeArtifact{name: "planrun-baseline-action-test", branch: "feature", created: "2026-01-04T10:00:00Z", zip: zipOf(t, "feature.json", []byte(`{}`))})
	gh.addArtifact(fakeArtifact{name: "planrun-baseline-action-test", branch: "main", created: "2026-01-05T10:00:00Z", otherRepo: true, zip: zipOf(t, "fork.json", []byte(`{}`))})

	// A pull request into main that slows the pool down.
	prEvent := map[string]any{
		"action": "synchronize", "number": 7,
		"pull_request": map[string]any{"number": 7, "base": map[string]any{"ref": "main"}, "head": map[string]any{"ref": "slower"}},
		"repository":   map[string]any{"default_branch": "main", "full_name": testRepo},
	}
	prVars := map[string]string{"GITHUB_EVENT_NAME": "pull_request", "GITHUB_REF": "refs/pull/7/merge", "GITHUB_BASE_REF": "main",
		"INPUT_PLAN": "testdata/slow.yaml", "INPUT_ARGS": "--quiet", "INPUT_FAIL_ON": "regression", "INPUT_COMMENT": "true"}
	pr := newStep(t, gh, prEvent, prVars)
	code, log = pr.script("run.sh", nil)
	if code != 0 {
		t.Fatalf("run.sh on a pull request exited %d:\n%s", code, log)
	}
	outs = pr.outputs()
	skipInconclusive(t, outs, log)
	if outs["exit-code"] != "0" || outs["verdict"] != "approved" {
		t.Fatalf("pull request: exit-code %q verdict %q, want 0 approved (the slow plan's own check holds):\n%s", outs["exit-code"], outs["verdict"], log)
	}
	checkReports(t, outs)
	if _, ok := outs["baseline-artifact"]; ok {
		t.Error("a pull request must not keep its run as the baseline")
	}
	got, err := os.ReadFile(outs["baseline-json"])
	if err != nil {
		t.Fatalf("baseline-json %q: %v\n%s", outs["baseline-json"], err, log)
	}
	if !bytes.Equal(got, baseRaw) {
		t.Errorf("the baseline fetched is not the push's report (the newest unexpired one from main of this repository): %.100s", got)
	}
	if outs["regression"] != "true" {
		t.Errorf("regression = %q, want true (8x the hold):\n%s", outs["regression"], log)
	}
	cmp, err := os.ReadFile(outs["comparison-markdown"])
	if err != nil || len(cmp) == 0 {
		t.Errorf("comparison-markdown %q: %v (%d bytes)", outs["comparison-markdown"], err, len(cmp))
	}
	sum := pr.summary()
	if !strings.Contains(sum, "Compared with the last approved run on main: regression") || !strings.Contains(sum, string(bytes.TrimSpace(cmp))) {
		t.Errorf("the step summary lacks the comparison:\n%s", sum)
	}
	if strings.Contains(log, testToken) {
		t.Error("the token appears in the script's output")
	}

	// The gate, with fail-on regression (the step's input) and the default.
	gate := map[string]string{"PLANRUN_EXIT_CODE": outs["exit-code"], "PLANRUN_REGRESSION": outs["regression"]}
	if code, glog := pr.script("gate.sh", gate); code != 1 || !strings.Contains(glog, "regression") {
		t.Errorf("gate.sh with fail-on regression after a regression: exit %d, want 1:\n%s", code, glog)
	}
	pr.vars["INPUT_FAIL_ON"] = "not-approved"
	if code, glog := pr.script("gate.sh", gate); code != 0 {
		t.Errorf("gate.sh with fail-on not-approved after an approved run: exit %d, want 0:\n%s", code, glog)
	}

	// The comment: created once, then updated in place.
	commentEnv := map[string]string{"PLANRUN_REPORT_JSON": outs["report-json"], "PLANRUN_BASELINE_JSON": outs["baseline-json"]}
	for run := 1; run <= 2; run++ {
		code, clog := pr.script("comment.sh", commentEnv)
		if code != 0 || strings.Contains(clog, "::warning") {
			t.Fatalf("comment.sh (run %d): exit %d:\n%s", run, code, clog)
		}
		comments, calls := gh.snapshot()
		if len(comments) != 1 {
			t.Fatalf("after run %d: %d comments, want 1 (calls: %v)", run, len(comments), calls)
		}
		body := comments[0].Body
		if !strings.Contains(body, "<!-- planrun:action-test -->") {
			t.Errorf("the comment lacks its marker <!-- planrun:action-test -->:\n%.300s", body)
		}
		if run == 2 && !slices.ContainsFunc(calls, func(c string) bool { return strings.HasPrefix(c, "PATCH ") }) {
			t.Errorf("the second run did not update the comment: %v", calls)
		}
	}
}

// checkReports checks that the report outputs name the run's files.
func checkReports(t *testing.T, outs map[string]string) {
	t.Helper()
	for _, k := range []string{"report-json", "report-html", "report-markdown"} {
		if fi, err := os.Stat(outs[k]); err != nil || fi.Size() == 0 {
			t.Errorf("%s %q: %v", k, outs[k], err)
		}
	}
	if filepath.Dir(outs["report-json"]) != outs["report-dir"] {
		t.Errorf("report-json %q is not in report-dir %q", outs["report-json"], outs["report-dir"])
	}
	base := strings.TrimSuffix(outs["report-json"], ".json")
	if outs["report-html"] != base+".html" || outs["report-markdown"] != base+".md" {
		t.Errorf("report-html %q, report-markdown %q: not the run's files beside %s", outs["report-html"], outs["report-markdown"], outs["report-json"])
	}
	if html, _ := os.ReadFile(outs["report-html"]); !bytes.Contains(html, []byte("<html")) {
		t.Errorf("report-html is not HTML")
	}
	if want := "planrun-" + filepath.Base(base); outs["artifact-name"] != want {
		t.Errorf("artifact-name %q, want %q", outs["artifact-name"], want)
	}
}

// TestNotApproved: a pull request whose plan fails its check gives
// not-approved and exit code 1, the gate fails the job with the default
// fail-on, a missing baseline is one notice (no failure), and with comment
// false no comment is posted.
func TestNotApproved(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs planrun on its embedded PostgreSQL")
	}
	needPlanrun(t)
	needBaselineTools(t)
	gh := newFakeGitHub(t, testRepo, testToken)
	step := newStep(t, gh,
		map[string]any{"number": 8, "pull_request": map[string]any{"number": 8, "base": map[string]any{"ref": "main"}}},
		map[string]string{"GITHUB_EVENT_NAME": "pull_request", "GITHUB_REF": "refs/pull/8/merge", "GITHUB_BASE_REF": "main",
			"INPUT_PLAN": "testdata/failing.yaml", "INPUT_ARGS": "--quiet", "INPUT_COMMENT": "false"})
	code, log := step.script("run.sh", nil)
	if code != 0 {
		t.Fatalf("run.sh exited %d:\n%s", code, log)
	}
	outs := step.outputs()
	skipInconclusive(t, outs, log)
	if outs["exit-code"] != "1" || outs["verdict"] != "not-approved" {
		t.Fatalf("exit-code %q verdict %q, want 1 not-approved:\n%s", outs["exit-code"], outs["verdict"], log)
	}
	_, name, pass, _ := reportOf(t, outs["report-json"])
	if name != "action-failing" || pass {
		t.Errorf("the report says plan %q pass %v, want action-failing false", name, pass)
	}
	checkReports(t, outs)
	if !strings.Contains(log, "::notice title=planrun::no baseline: no artifact planrun-baseline-action-failing from branch main") {
		t.Errorf("no notice for the missing baseline:\n%s", log)
	}
	if _, ok := outs["regression"]; ok {
		t.Errorf("regression %q without a baseline", outs["regression"])
	}
	if s := step.summary(); !strings.Contains(s, "NOT APPROVED") || !strings.Contains(s, "No comparison") {
		t.Errorf("the step summary lacks the verdict or the missing comparison:\n%s", s)
	}
	code, glog := step.script("gate.sh", map[string]string{"PLANRUN_EXIT_CODE": outs["exit-code"], "PLANRUN_REGRESSION": outs["regression"]})
	if code != 1 || !strings.Contains(glog, "::error") {
		t.Errorf("gate.sh after NOT APPROVED: exit %d, want 1 with an error annotation:\n%s", code, glog)
	}
	code, clog := step.script("comment.sh", map[string]string{"PLANRUN_REPORT_JSON": outs["report-json"]})
	_, calls := gh.snapshot()
	if code != 0 || slices.ContainsFunc(calls, func(c string) bool { return strings.Contains(c, "/comments") }) {
		t.Errorf("comment.sh with comment false: exit %d, calls %v:\n%s", code, calls, clog)
	}
}

// TestInvalidPlanAndSecrets: a plan that cannot load gives invalid-plan,
// exit code 2 and no report (a line in the step summary says so), and a
// database URL's password appears in the log only in the ::add-mask::
// commands that hide it.
func TestInvalidPlanAndSecrets(t *testing.T) {
	needPlanrun(t)
	gh := newFakeGitHub(t, testRepo, testToken)
	const password = "s3cret-Pa55word"
	plan := filepath.Join(t.TempDir(), "broken.yaml")
	writeFile(t, plan, []byte("version: 1\nname: broken\ntarget: {url: ${DATABASE_URL}}\nscenarios: nope\n"))
	step := newStep(t, gh, map[string]any{}, map[string]string{
		"GITHUB_EVENT_NAME": "workflow_dispatch", "INPUT_PLAN": plan,
		"INPUT_DATABASE_URL": "postgres://app:" + password + "@127.0.0.1:1/app?sslmode=disable",
	})
	code, log := step.script("run.sh", nil)
	if code != 0 {
		t.Fatalf("run.sh exited %d:\n%s", code, log)
	}
	outs := step.outputs()
	if outs["exit-code"] != "2" || outs["verdict"] != "invalid-plan" {
		t.Errorf("exit-code %q verdict %q, want 2 invalid-plan:\n%s", outs["exit-code"], outs["verdict"], log)
	}
	if _, ok := outs["report-json"]; ok {
		t.Errorf("report-json %q for a run that wrote no report", outs["report-json"])
	}
	if s := step.summary(); !strings.Contains(s, "exited 2 (invalid-plan) without a report") {
		t.Errorf("step summary: %q", s)
	}
	masks := 0
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, password) {
			if !strings.HasPrefix(line, "::add-mask::") {
				t.Errorf("the password is printed: %q", line)
			}
			masks++
		}
	}
	if masks != 2 {
		t.Errorf("%d ::add-mask:: lines hold the password, want 2 (the URL and the password alone):\n%s", masks, log)
	}
	if code, glog := step.script("gate.sh", map[string]string{"PLANRUN_EXIT_CODE": "2"}); code != 1 {
		t.Errorf("gate.sh after exit 2: exit %d, want 1:\n%s", code, glog)
	}
}

// TestArgsAndInputs checks run.sh's handling of its inputs before planrun
// runs, with a stand-in for the binary that records its arguments: args
// are split as a shell would (quotes kept together, nothing expanded),
// --out comes last, and a bad fail-on or a missing plan stops the step
// before any run.
func TestArgsAndInputs(t *testing.T) {
	gh := newFakeGitHub(t, testRepo, testToken)
	dir := t.TempDir()
	record := filepath.Join(dir, "args")
	fake := filepath.Join(dir, "planrun")
	writeFile(t, fake, []byte("#!/usr/bin/env bash\nprintf '%s\\n' \"$@\" >"+record+"\nexit 5\n"))
	if err := os.Chmod(fake, 0o755); err != nil {
		t.Fatal(err)
	}
	step := newStep(t, gh, map[string]any{}, map[string]string{
		"GITHUB_EVENT_NAME": "workflow_dispatch", "PLANRUN_BIN": fake, "INPUT_PLAN": "plans/x.yaml",
		"INPUT_ARGS": `--time-scale 0.1 --scenario "peak hour" --out elsewhere '$HOME'`,
	})
	code, log := step.script("run.sh", nil)
	if code != 0 {
		t.Fatalf("run.sh exited %d:\n%s", code, log)
	}
	raw, err := os.ReadFile(record)
	if err != nil {
		t.Fatal(err)
	}
	args := strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
	want := []string{"run", "plans/x.yaml", "--time-scale", "0.1", "--scenario", "peak hour", "--out", "elsewhere", "$HOME", "--out"}
	if len(args) != len(want)+1 || !slices.Equal(args[:len(want)], want) {
		t.Errorf("planrun got %q, want %q and the action's directory", args, want)
	}
	outs := step.outputs()
	if outs["exit-code"] != "5" || outs["verdict"] != "inconclusive" {
		t.Errorf("exit-code %q verdict %q, want 5 inconclusive", outs["exit-code"], outs["verdict"])
	}

	// comment.sh hands planrun comment the baseline, the artifact's place
	// (default: the workflow run's page) and the report; a comment that
	// fails is a warning, not the step's failure.
	report := filepath.Join(dir, "run.json")
	writeFile(t, report, []byte("{}"))
	code, log = step.script("comment.sh", map[string]string{"INPUT_COMMENT": "true", "PLANRUN_REPORT_JSON": report, "PLANRUN_BASELINE_JSON": "/base.json"})
	if code != 0 || !strings.Contains(log, "::warning title=planrun::planrun comment exited 5") {
		t.Errorf("comment.sh after a failed comment: exit %d, want 0 and a warning:\n%s", code, log)
	}
	raw, err = os.ReadFile(record)
	if err != nil {
		t.Fatal(err)
	}
	args = strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
	want = []string{"comment", "--baseline", "/base.json", "--artifact-url", "https://github.example/acme/shop/actions/runs/4242", report}
	if !slices.Equal(args, want) {
		t.Errorf("planrun got %q, want %q", args, want)
	}

	for _, c := range []struct{ name, plan, failOn, says string }{
		{"bad fail-on", "plans/x.yaml", "always", `fail-on "always"`},
		{"no plan", "", "", "the plan input is required"},
		{"unbalanced quote", "plans/x.yaml", "", "cannot split"},
	} {
		t.Run(c.name, func(t *testing.T) {
			os.Remove(record)
			extra := map[string]string{"INPUT_PLAN": c.plan, "INPUT_FAIL_ON": c.failOn}
			if c.name == "unbalanced quote" {
				extra["INPUT_ARGS"] = `--scenario "peak`
			}
			code, log := step.script("run.sh", extra)
			if code == 0 || !strings.Contains(log, c.says) {
				t.Errorf("run.sh: exit %d, want non-zero saying %q:\n%s", code, c.says, log)
			}
			if _, err := os.Stat(record); err == nil {
				t.Error("planrun ran anyway")
			}
		})
	}
}
