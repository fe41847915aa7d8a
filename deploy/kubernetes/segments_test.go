package kubernetes

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/planrun/planrun/assertions"
	"github.com/planrun/planrun/engine"
	"github.com/planrun/planrun/results"
	"github.com/planrun/planrun/schema"
)

// The documented segmented runs (the segments Job here, the README's "Two
// plain machines") must get past `planrun validate --segment i/N`: a plan
// that cannot be split as asked (target.replicas below N, no target.url)
// exits 2 before any load. These tests validate each segment's plan as that
// command does (schema, then engine.Compile with the segment, then the
// assertions), with the environment the command gives it.

// dummyURL stands for the Secret's or the user's server: validation does
// not connect, and a segmented run needs a target.url.
const dummyURL = "postgres://planrun@db.invalid:5432/app"

// validateSegment loads the plan at path with env as its whole environment
// and compiles it as segment seg ("i/N"), returning every plan error.
func validateSegment(path, seg string, env map[string]string) error {
	i, n, ok := strings.Cut(seg, "/")
	index, err1 := strconv.Atoi(i)
	count, err2 := strconv.Atoi(n)
	if !ok || err1 != nil || err2 != nil {
		return fmt.Errorf("--segment %q is not i/N", seg)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	lookup := func(name string) (string, bool) { v, ok := env[name]; return v, ok }
	plan, err := schema.Parse(path, data, lookup)
	if err != nil {
		return err
	}
	_, errC := engine.Compile(plan, engine.Options{Segment: results.Segment{Index: index, Count: count}})
	_, errA := assertions.Compile(plan)
	return errors.Join(errC, errA)
}

// configMapFile maps a path the pods read under /plans to the file the
// kustomization's planrun-plan ConfigMap takes it from.
func configMapFile(t *testing.T, k kustomization, podPath string) string {
	t.Helper()
	key, ok := strings.CutPrefix(podPath, "/plans/")
	if !ok {
		t.Fatalf("the segment command reads %s, not a file of the planrun-plan ConfigMap (/plans/...)", podPath)
	}
	for _, g := range k.ConfigMapGenerator {
		if g.Name != "planrun-plan" {
			continue
		}
		for _, f := range g.Files {
			if k, file, ok := strings.Cut(f, "="); ok && k == key {
				return file
			} else if !ok && filepath.Base(f) == key {
				return f
			}
		}
	}
	t.Fatalf("the planrun-plan ConfigMap has no key %s", key)
	return ""
}

var (
	segmentArg = regexp.MustCompile(`--segment\s+(\S+)`)
	planArg    = regexp.MustCompile(`planrun\s+run\s+(\S+)`)
	indexExpr  = regexp.MustCompile(`\$\(\(\s*JOB_COMPLETION_INDEX\s*\+\s*1\s*\)\)`)
)

// TestManifestSegmentPlansValidate validates, for every pod of the segments
// Job, the ConfigMap's plan with the pod's --segment and environment.
func TestManifestSegmentPlansValidate(t *testing.T) {
	k, docs := load(t)
	var j job
	find(t, docs, "Job", "planrun-segments", &j)
	if j.Spec.Completions == nil {
		t.Fatal("the segments Job has no completions")
	}
	c := j.Spec.Template.Spec.Containers[0]
	script := strings.Join(append(c.Command, c.Args...), " ")
	mSeg, mPlan := segmentArg.FindStringSubmatch(script), planArg.FindStringSubmatch(script)
	if mSeg == nil || mPlan == nil {
		t.Fatalf("no `planrun run PLAN ... --segment i/N` in the segment command:\n%s", script)
	}
	plan := configMapFile(t, k, mPlan[1])
	env := map[string]string{}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			env[e.Name] = e.Value
		case e.ValueFrom.SecretKeyRef != nil && e.Name == "DATABASE_URL":
			env[e.Name] = dummyURL
		}
	}
	for i := range *j.Spec.Completions {
		seg := indexExpr.ReplaceAllString(mSeg[1], strconv.Itoa(i+1))
		seg = os.Expand(seg, func(name string) string { return env[name] })
		t.Run("segment "+seg, func(t *testing.T) {
			if err := validateSegment(plan, seg, env); err != nil {
				t.Errorf("pod %d: planrun validate --segment %s %s (the pod's environment) fails:\n%v", i, seg, mPlan[1], err)
			}
		})
	}
}

// readmeCommand is one `planrun ... --segment i/N` line of a shell block.
type readmeCommand struct {
	line    int
	env     map[string]string
	plan    string
	segment string
}

// readmeSegmentCommands returns the segment commands in the fenced shell
// blocks of a markdown file: leading VAR=value words are the command's
// environment, the first *.yaml argument its plan.
func readmeSegmentCommands(t *testing.T, path string) []readmeCommand {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []readmeCommand
	inShell := false
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "```") {
			inShell = !inShell && (line == "```sh" || line == "```bash")
			continue
		}
		if code, _, ok := strings.Cut(line, " #"); ok { // a trailing comment
			line = strings.TrimSpace(code)
		}
		if !inShell || strings.HasPrefix(line, "#") || !strings.Contains(line, "--segment ") {
			continue
		}
		words := strings.Fields(line)
		cmd := readmeCommand{line: n, env: map[string]string{}}
		k := 0
		for ; k < len(words) && strings.Contains(words[k], "=") && !strings.HasPrefix(words[k], "-"); k++ {
			name, value, _ := strings.Cut(words[k], "=")
			cmd.env[name] = value
		}
		if k == len(words) || words[k] != "planrun" {
			continue
		}
		for _, w := range words[k+1:] {
			if cmd.plan == "" && strings.HasSuffix(w, ".yaml") {
				cmd.plan = w
			}
		}
		if m := segmentArg.FindStringSubmatch(line); m != nil {
			cmd.segment = m[1]
		}
		out = append(out, cmd)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestREADMESegmentCommandsValidate validates the plan of every segment
// command of the README's "Running on several machines" that names a plan
// of the repository, with the command's --segment and the variables it
// sets (DATABASE_URL's "postgres://..." stands for a real server).
func TestREADMESegmentCommandsValidate(t *testing.T) {
	cmds := readmeSegmentCommands(t, "../../README.md")
	checked := 0
	for _, cmd := range cmds {
		path := filepath.Join("../..", cmd.plan)
		if _, err := os.Stat(path); err != nil {
			continue // a placeholder plan (plan.yaml), not one of the repository's
		}
		checked++
		t.Run(fmt.Sprintf("README.md:%d", cmd.line), func(t *testing.T) {
			if cmd.env["DATABASE_URL"] != "" {
				cmd.env["DATABASE_URL"] = dummyURL
			}
			if err := validateSegment(path, cmd.segment, cmd.env); err != nil {
				t.Errorf("README.md:%d: planrun validate --segment %s %s (with %v) fails:\n%v", cmd.line, cmd.segment, cmd.plan, cmd.env, err)
			}
		})
	}
	if checked < 2 {
		t.Fatalf("README.md: found %d segment commands naming a repository plan, want the two of \"Two plain machines\" at least", checked)
	}
}
