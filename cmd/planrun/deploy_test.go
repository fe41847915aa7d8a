package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// The Kubernetes manifests (deploy/kubernetes) run planrun from a `sh -c`
// script; deploy/kubernetes' own test checks their structure. These tests
// check that the planrun command lines in them are valid for this build's
// flag sets: each line is expanded as the pod's shell would (every
// JOB_COMPLETION_INDEX, the container's env), then given to Main with the
// paths swapped for test files chosen so that the command stops before it
// connects or merges: a plan with a deliberate error for `run`, report files
// that do not exist for `merge`. Getting that far, with no complaint from
// the flag package, shows the flags and their values parsed.

const deployDir = "../../deploy/kubernetes"

// deployJob is the part of a Job the tests read.
type deployJob struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Spec struct {
		Completions int `yaml:"completions"`
		Template    struct {
			Spec struct {
				Containers []struct {
					Command []string `yaml:"command"`
					Env     []struct {
						Name  string `yaml:"name"`
						Value string `yaml:"value"`
					} `yaml:"env"`
				} `yaml:"containers"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

// deployJobs reads every Job in deploy/kubernetes, by name.
func deployJobs(t *testing.T) map[string]deployJob {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(deployDir, "job-*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no job-*.yaml in %s (%v)", deployDir, err)
	}
	jobs := map[string]deployJob{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		for {
			var j deployJob
			if err := dec.Decode(&j); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if j.Kind == "Job" {
				jobs[j.Metadata.Name] = j
			}
		}
	}
	return jobs
}

// planrunLines returns the argument lists of the planrun commands in a
// Job's `sh -c` script, expanded with vars as the shell would: arithmetic
// on JOB_COMPLETION_INDEX, $NAME, double quotes. A `$` left over (a
// variable the test does not know) fails the test.
func planrunLines(t *testing.T, j deployJob, vars map[string]string) [][]string {
	t.Helper()
	cs := j.Spec.Template.Spec.Containers
	if len(cs) != 1 || len(cs[0].Command) != 3 || cs[0].Command[1] != "-c" {
		t.Fatalf("job %s: want one container whose command is [sh -c SCRIPT], got %q", j.Metadata.Name, cs)
	}
	vars = clone(vars)
	for _, e := range cs[0].Env {
		if e.Value != "" {
			vars[e.Name] = e.Value
		}
	}
	var lines [][]string
	for _, line := range strings.Split(cs[0].Command[2], "\n") {
		words := strings.Fields(line)
		if len(words) > 0 && words[0] == "exec" {
			words = words[1:]
		}
		if len(words) == 0 || words[0] != "planrun" {
			continue
		}
		line = strings.TrimSuffix(strings.TrimSpace(line), "&")
		line = expand(line, vars)
		if strings.Contains(line, "$") {
			t.Fatalf("job %s: cannot expand %q", j.Metadata.Name, line)
		}
		args := strings.Fields(strings.ReplaceAll(line, `"`, ""))
		if args[0] == "exec" {
			args = args[1:]
		}
		lines = append(lines, args[1:])
	}
	if len(lines) == 0 {
		t.Fatalf("job %s runs no planrun command", j.Metadata.Name)
	}
	return lines
}

var arithmetic = regexp.MustCompile(`\$\(\(\s*JOB_COMPLETION_INDEX\s*\+\s*1\s*\)\)`)

func expand(s string, vars map[string]string) string {
	if idx, ok := vars["JOB_COMPLETION_INDEX"]; ok {
		i, _ := strconv.Atoi(idx)
		s = arithmetic.ReplaceAllString(s, strconv.Itoa(i+1))
	}
	return os.Expand(s, func(name string) string {
		if v, ok := vars[name]; ok {
			return v
		}
		return "$" + name // left for the caller to report
	})
}

func clone(m map[string]string) map[string]string {
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// flagComplaints are what the flag package prints for flags it cannot parse.
var flagComplaints = []string{"flag provided but not defined", "invalid value", "flag needs an argument", "invalid boolean"}

func checkNoFlagComplaint(t *testing.T, args []string, stderr string) {
	t.Helper()
	for _, c := range flagComplaints {
		if strings.Contains(stderr, c) {
			t.Errorf("planrun %s: the flag set refuses it:\n%s", strings.Join(args, " "), stderr)
		}
	}
}

// startAt is a --start-at in the future, whenever the test runs.
func startAt() string {
	return time.Now().UTC().Add(time.Hour).Truncate(time.Second).Format(time.RFC3339)
}

func TestDeploySegmentCommandsParse(t *testing.T) {
	j, ok := deployJobs(t)["planrun-segments"]
	if !ok {
		t.Fatal("no Job planrun-segments in deploy/kubernetes")
	}
	n := j.Spec.Completions
	dir := t.TempDir()
	// A plan with an error: loading it is the step after the flags, and
	// it stops the run before anything connects.
	broken := filepath.Join(dir, "broken.yaml")
	if err := os.WriteFile(broken, []byte("version: 1\nname: broken\nno_such_field: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	start := startAt()
	for i := range n {
		vars := map[string]string{"JOB_COMPLETION_INDEX": strconv.Itoa(i), "START_AT": start}
		for _, args := range planrunLines(t, j, vars) {
			if args[0] != "run" {
				t.Fatalf("segment %d runs planrun %s, want planrun run", i+1, args[0])
			}
			if got, want := flagValue(args, "--segment"), strconv.Itoa(i+1)+"/"+strconv.Itoa(n); got != want {
				t.Errorf("pod %d: --segment %q, want %q", i, got, want)
			}
			if got := flagValue(args, "--start-at"); got != start {
				t.Errorf("pod %d: --start-at %q, want %q", i, got, start)
			}
			for k, a := range args {
				switch {
				case a == "/plans/production.yaml":
					args[k] = broken
				case k > 0 && args[k-1] == "--out":
					args[k] = filepath.Join(dir, a)
				}
			}
			var stdout, stderr bytes.Buffer
			code := Main(args, &stdout, &stderr)
			checkNoFlagComplaint(t, args, stderr.String())
			if code != ExitUsage || !strings.Contains(stderr.String(), broken) {
				t.Errorf("planrun %s: exit %d; want 2 for the test's broken plan, reached after the flags parsed; stderr:\n%s",
					strings.Join(args, " "), code, stderr.String())
			}
		}
	}
}

func TestDeployMergeCommandParses(t *testing.T) {
	j, ok := deployJobs(t)["planrun-merge"]
	if !ok {
		t.Fatal("no Job planrun-merge in deploy/kubernetes")
	}
	dir := t.TempDir()
	for _, args := range planrunLines(t, j, map[string]string{"START_AT": startAt()}) {
		if args[0] != "merge" {
			t.Fatalf("the merge Job runs planrun %s, want planrun merge", args[0])
		}
		// The shell's glob over the segments' reports, as files that do
		// not exist: merge stops at reading the first.
		var expanded []string
		for k, a := range args {
			switch {
			case strings.Contains(a, "*"):
				for i := 1; i <= 3; i++ {
					expanded = append(expanded, filepath.Join(dir, "segment-"+strconv.Itoa(i), "production.json"))
				}
			case a == "/plans/production.yaml":
				expanded = append(expanded, filepath.Join(deployDir, "plan.yaml"))
			case k > 0 && args[k-1] == "--out":
				expanded = append(expanded, filepath.Join(dir, a))
			default:
				expanded = append(expanded, a)
			}
		}
		var stdout, stderr bytes.Buffer
		code := Main(expanded, &stdout, &stderr)
		checkNoFlagComplaint(t, expanded, stderr.String())
		if code != ExitUsage || !strings.Contains(stderr.String(), filepath.Join(dir, "segment-")) {
			t.Errorf("planrun %s: exit %d; want 2 for the missing reports, reached after the flags parsed; stderr:\n%s",
				strings.Join(expanded, " "), code, stderr.String())
		}
	}
}

// The plan the ConfigMap carries is valid as it is.
func TestDeployPlanValidates(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := Main([]string{"validate", filepath.Join(deployDir, "plan.yaml")}, &stdout, &stderr); code != ExitApproved {
		t.Fatalf("planrun validate deploy/kubernetes/plan.yaml: exit %d\n%s", code, stderr.String())
	}
}

// flagValue is the value after flag in args ("" when absent).
func flagValue(args []string, flag string) string {
	for k := 0; k+1 < len(args); k++ {
		if args[k] == flag {
			return args[k+1]
		}
	}
	return ""
}
