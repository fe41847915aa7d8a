package schema_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/planrun/planrun/schema"
)

var update = flag.Bool("update", false, "rewrite the testdata/broken/*.golden files")

// TestValidTestdata loads every plan directly under testdata/.
func TestValidTestdata(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.yaml")
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".yaml"), func(t *testing.T) {
			if _, err := schema.Load(file); err != nil {
				t.Errorf("Load: %v", err)
			}
		})
	}
}

// TestBrokenTestdata loads every plan under testdata/broken/ and compares
// the rendered errors with its .golden file (go test -update rewrites them).
func TestBrokenTestdata(t *testing.T) {
	files, _ := filepath.Glob("testdata/broken/*.yaml")
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".yaml"), func(t *testing.T) {
			_, err := schema.Load(file)
			if err == nil {
				t.Fatal("Load succeeded, want errors")
			}
			golden := strings.TrimSuffix(file, ".yaml") + ".golden"
			got := err.Error() + "\n"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, readErr := os.ReadFile(golden)
			if readErr != nil {
				t.Fatalf("%v (run go test -update to create it)", readErr)
			}
			if got != string(want) {
				t.Errorf("errors differ from %s:\n--- got\n%s--- want\n%s", golden, got, want)
			}
		})
	}
}
