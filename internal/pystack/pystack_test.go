package pystack

import (
	"strings"
	"testing"
)

func TestFindTriesPlanrunPythonFirst(t *testing.T) {
	t.Setenv(EnvPython, "/nonexistent/python3")
	if c := Candidates(); c[0] != "/nonexistent/python3" {
		t.Fatalf("candidates %q: %s is not first", c, EnvPython)
	}
}

func TestFindSaysWhatToInstall(t *testing.T) {
	_, err := Find("import planrun_no_such_module", []string{"python3-nothing"}, []string{"nothing"})
	if err == nil {
		t.Fatal("a probe no interpreter passes was found")
	}
	for _, want := range []string{"/usr/bin/python3", "apt-get install python3-nothing", "pip install nothing", EnvPython} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error %q does not say %q", err, want)
		}
	}
	if _, err := Find("import sys", nil, nil); err != nil && len(Candidates()) > 0 {
		t.Errorf("a probe every python3 passes: %v", err)
	}
}
