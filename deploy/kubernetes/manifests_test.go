// Package kubernetes holds no code: its test checks the manifests in this
// folder, which no cluster here can apply. They must parse, name only files
// that exist, and keep the properties a segmented run depends on (an
// Indexed Job whose N pods all run at once and are never re-run, a merge
// Job, no password). cmd/planrun's deploy_test.go checks that the planrun
// command lines in them are valid for the real flag set.
package kubernetes

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

	"go.yaml.in/yaml/v3"
)

// The subset of the Kubernetes objects the checks read.
type (
	kustomization struct {
		Resources          []string    `yaml:"resources"`
		ConfigMapGenerator []generator `yaml:"configMapGenerator"`
	}
	generator struct {
		Name  string   `yaml:"name"`
		Files []string `yaml:"files"`
		Envs  []string `yaml:"envs"`
	}
	object struct {
		Kind     string `yaml:"kind"`
		Metadata struct {
			Name string `yaml:"name"`
		} `yaml:"metadata"`
	}
	job struct {
		Spec struct {
			CompletionMode string `yaml:"completionMode"`
			Completions    *int   `yaml:"completions"`
			Parallelism    *int   `yaml:"parallelism"`
			BackoffLimit   *int   `yaml:"backoffLimit"`
			Suspend        bool   `yaml:"suspend"`
			Template       struct {
				Spec podSpec `yaml:"spec"`
			} `yaml:"template"`
		} `yaml:"spec"`
	}
	podSpec struct {
		RestartPolicy   string `yaml:"restartPolicy"`
		SecurityContext struct {
			RunAsNonRoot bool  `yaml:"runAsNonRoot"`
			RunAsUser    int64 `yaml:"runAsUser"`
		} `yaml:"securityContext"`
		Containers []container `yaml:"containers"`
		Volumes    []struct {
			Name      string `yaml:"name"`
			ConfigMap *struct {
				Name string `yaml:"name"`
			} `yaml:"configMap"`
			PersistentVolumeClaim *struct {
				ClaimName string `yaml:"claimName"`
			} `yaml:"persistentVolumeClaim"`
		} `yaml:"volumes"`
	}
	container struct {
		Name            string   `yaml:"name"`
		Image           string   `yaml:"image"`
		Command         []string `yaml:"command"`
		Args            []string `yaml:"args"`
		Env             []envVar `yaml:"env"`
		SecurityContext struct {
			ReadOnlyRootFilesystem   bool  `yaml:"readOnlyRootFilesystem"`
			AllowPrivilegeEscalation *bool `yaml:"allowPrivilegeEscalation"`
		} `yaml:"securityContext"`
		Resources struct {
			Requests map[string]string `yaml:"requests"`
			Limits   map[string]string `yaml:"limits"`
		} `yaml:"resources"`
	}
	envVar struct {
		Name      string `yaml:"name"`
		Value     string `yaml:"value"`
		ValueFrom *struct {
			ConfigMapKeyRef *keyRef `yaml:"configMapKeyRef"`
			SecretKeyRef    *keyRef `yaml:"secretKeyRef"`
		} `yaml:"valueFrom"`
	}
	keyRef struct {
		Name string `yaml:"name"`
		Key  string `yaml:"key"`
	}
	pvc struct {
		Spec struct {
			AccessModes []string `yaml:"accessModes"`
		} `yaml:"spec"`
	}
)

// doc is one YAML document of a manifest file.
type doc struct {
	file string
	node *yaml.Node
	object
}

// load parses the kustomization and every document of the resources it
// lists, failing on a resource that does not exist or does not parse.
func load(t *testing.T) (kustomization, []doc) {
	t.Helper()
	var k kustomization
	decodeFile(t, "kustomization.yaml", &k)
	if len(k.Resources) == 0 {
		t.Fatal("kustomization.yaml lists no resources")
	}
	var docs []doc
	for _, res := range k.Resources {
		data, err := os.ReadFile(res)
		if err != nil {
			t.Fatalf("kustomization.yaml lists %s: %v", res, err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		for {
			var n yaml.Node
			err := dec.Decode(&n)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", res, err)
			}
			d := doc{file: res, node: &n}
			if err := n.Decode(&d.object); err != nil {
				t.Fatalf("%s: %v", res, err)
			}
			if d.Kind == "" || d.Metadata.Name == "" {
				t.Fatalf("%s: a document without kind or metadata.name", res)
			}
			docs = append(docs, d)
		}
	}
	return k, docs
}

func decodeFile(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// find returns the one object of that kind and name, decoded into v.
func find(t *testing.T, docs []doc, kind, name string, v any) {
	t.Helper()
	for _, d := range docs {
		if d.Kind == kind && d.Metadata.Name == name {
			if err := d.node.Decode(v); err != nil {
				t.Fatalf("%s: %s %s: %v", d.file, kind, name, err)
			}
			return
		}
	}
	t.Fatalf("no %s named %s in the kustomization's resources", kind, name)
}

func TestManifestGeneratorsReadExistingFiles(t *testing.T) {
	k, _ := load(t)
	for _, g := range k.ConfigMapGenerator {
		for _, f := range g.Files {
			_, path, ok := strings.Cut(f, "=") // key=path, or a bare path
			if !ok {
				path = f
			}
			if _, err := os.Stat(path); err != nil {
				t.Errorf("configMapGenerator %s: %v", g.Name, err)
			}
		}
		for _, f := range g.Envs {
			if _, err := os.Stat(f); err != nil {
				t.Errorf("configMapGenerator %s: %v", g.Name, err)
			}
		}
	}
}

// The ConfigMap carries a copy of plans/production.yaml (kustomize reads no
// file outside this folder): the copy must be the plan, byte for byte, so
// that its sha256 in the reports is the repository plan's.
func TestManifestPlanIsProductionPlan(t *testing.T) {
	want, err := os.ReadFile("../../plans/production.yaml")
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("plan.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("deploy/kubernetes/plan.yaml differs from plans/production.yaml; run: cp plans/production.yaml deploy/kubernetes/plan.yaml")
	}
}

func TestManifestSegmentsJob(t *testing.T) {
	k, docs := load(t)
	var j job
	find(t, docs, "Job", "planrun-segments", &j)
	s := j.Spec
	if s.CompletionMode != "Indexed" {
		t.Errorf("completionMode = %q, want Indexed", s.CompletionMode)
	}
	if s.Completions == nil || s.Parallelism == nil || *s.Completions != *s.Parallelism || *s.Completions < 1 {
		t.Fatalf("parallelism and completions must be set and equal (every segment runs at once): %v, %v", deref(s.Parallelism), deref(s.Completions))
	}
	if s.BackoffLimit == nil || *s.BackoffLimit != 0 {
		t.Errorf("backoffLimit = %v, want 0: a re-run segment would break the merge", deref(s.BackoffLimit))
	}
	if s.Suspend {
		t.Error("the segments Job is suspended")
	}
	pod := s.Template.Spec
	checkPod(t, k, pod)
	c := pod.Containers[0]
	if got, want := env(c, "SEGMENTS").Value, strconv.Itoa(*s.Completions); got != want {
		t.Errorf("SEGMENTS = %q, want %s, the Job's completions", got, want)
	}
	if ref := env(c, "START_AT").ValueFrom; ref == nil || ref.ConfigMapKeyRef == nil || ref.ConfigMapKeyRef.Key != "START_AT" {
		t.Error("START_AT does not come from a ConfigMap's START_AT")
	}
	if ref := env(c, "DATABASE_URL").ValueFrom; ref == nil || ref.SecretKeyRef == nil || ref.SecretKeyRef.Name == "" {
		t.Error("DATABASE_URL does not come from a Secret")
	}
	script := strings.Join(append(c.Command, c.Args...), " ")
	for _, want := range []string{
		"planrun run /plans/production.yaml ",
		"--segment $((JOB_COMPLETION_INDEX+1))/$SEGMENTS ",
		`--start-at "$START_AT"`,
		"--out ",
	} {
		if !strings.Contains(script, want) {
			t.Errorf("the segment command lacks %q:\n%s", want, script)
		}
	}
	if c.Resources.Requests["cpu"] == "" || c.Resources.Requests["memory"] == "" || c.Resources.Limits["memory"] == "" {
		t.Errorf("resources: want cpu and memory requests and a memory limit, got %+v", c.Resources)
	}
	if _, ok := c.Resources.Limits["cpu"]; ok {
		t.Error("a CPU limit throttles the load generator, which then falls behind (INCONCLUSIVE)")
	}
}

func TestManifestMergeJob(t *testing.T) {
	k, docs := load(t)
	var j job
	find(t, docs, "Job", "planrun-merge", &j)
	if !j.Spec.Suspend {
		t.Error("the merge Job must be created suspended: started with the segments, it would find no reports")
	}
	if j.Spec.BackoffLimit == nil || *j.Spec.BackoffLimit != 0 {
		t.Errorf("backoffLimit = %v, want 0", deref(j.Spec.BackoffLimit))
	}
	pod := j.Spec.Template.Spec
	checkPod(t, k, pod)
	script := strings.Join(append(pod.Containers[0].Command, pod.Containers[0].Args...), " ")
	for _, want := range []string{"planrun merge ", "--plan /plans/production.yaml"} {
		if !strings.Contains(script, want) {
			t.Errorf("the merge command lacks %q:\n%s", want, script)
		}
	}
}

// checkPod checks what both Jobs' pods need: never restarted, not root, a
// read-only root, the plan and a shared results volume mounted.
func checkPod(t *testing.T, k kustomization, pod podSpec) {
	t.Helper()
	if pod.RestartPolicy != "Never" {
		t.Errorf("restartPolicy = %q, want Never", pod.RestartPolicy)
	}
	if !pod.SecurityContext.RunAsNonRoot || pod.SecurityContext.RunAsUser == 0 {
		t.Error("the pod may run as root: want runAsNonRoot and a non-zero runAsUser")
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("want one container, got %d", len(pod.Containers))
	}
	c := pod.Containers[0]
	if c.Image != "planrun:latest" {
		t.Errorf("image = %q, want planrun:latest (overridden with kustomize images:)", c.Image)
	}
	if !c.SecurityContext.ReadOnlyRootFilesystem {
		t.Error("readOnlyRootFilesystem is not set")
	}
	if p := c.SecurityContext.AllowPrivilegeEscalation; p == nil || *p {
		t.Error("allowPrivilegeEscalation is not false")
	}
	generated := map[string]bool{}
	for _, g := range k.ConfigMapGenerator {
		generated[g.Name] = true
	}
	var plan, results bool
	for _, v := range pod.Volumes {
		switch {
		case v.ConfigMap != nil:
			plan = plan || v.ConfigMap.Name == "planrun-plan"
			if !generated[v.ConfigMap.Name] {
				t.Errorf("volume %s: ConfigMap %s is not generated by the kustomization", v.Name, v.ConfigMap.Name)
			}
		case v.PersistentVolumeClaim != nil:
			results = v.PersistentVolumeClaim.ClaimName == "planrun-results"
		}
	}
	if !plan || !results {
		t.Errorf("want the planrun-plan ConfigMap and the planrun-results claim as volumes (plan %v, results %v)", plan, results)
	}
	for _, e := range c.Env {
		if e.ValueFrom != nil && e.ValueFrom.ConfigMapKeyRef != nil && !generated[e.ValueFrom.ConfigMapKeyRef.Name] {
			t.Errorf("env %s: ConfigMap %s is not generated by the kustomization", e.Name, e.ValueFrom.ConfigMapKeyRef.Name)
		}
	}
}

func TestManifestResultsVolumeIsShared(t *testing.T) {
	_, docs := load(t)
	var p pvc
	find(t, docs, "PersistentVolumeClaim", "planrun-results", &p)
	if len(p.Spec.AccessModes) != 1 || p.Spec.AccessModes[0] != "ReadWriteMany" {
		t.Errorf("accessModes = %v, want [ReadWriteMany]: the segments run on several nodes", p.Spec.AccessModes)
	}
}

// userinfoPassword matches a URL with a password (scheme://user:pass@).
var userinfoPassword = regexp.MustCompile(`[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@`)

func TestManifestNoPassword(t *testing.T) {
	_, docs := load(t)
	for _, d := range docs {
		if d.Kind == "Secret" {
			t.Errorf("%s: a Secret in the manifests; the README has the user create it", d.file)
		}
	}
	files, err := filepath.Glob("*")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, ".go") {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if m := userinfoPassword.Find(data); m != nil {
			t.Errorf("%s: a connection URL with a password: %s", f, m)
		}
		if bytes.Contains(bytes.ToLower(data), []byte("password:")) {
			t.Errorf("%s: a password field", f)
		}
	}
}

func env(c container, name string) envVar {
	for _, e := range c.Env {
		if e.Name == name {
			return e
		}
	}
	return envVar{}
}

func deref(p *int) any {
	if p == nil {
		return "unset"
	}
	return *p
}
