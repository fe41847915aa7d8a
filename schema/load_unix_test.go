//go:build unix

package schema_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/planrun/planrun/schema"
)

func TestLoadRefusesWhatIsNoPlanFile(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, append([]byte(minimal+"# "), bytes.Repeat([]byte("x"), schema.MaxPlanSize)...), 0o644); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo.yaml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path string
		target     error
		msg        string
	}{
		{"an endless device", "/dev/zero", schema.ErrNotRegularFile, "cannot read plan: /dev/zero is a character device, not a regular file"},
		{"a directory", dir, schema.ErrNotRegularFile, "cannot read plan: " + dir + " is a directory, not a regular file"},
		{"a named pipe nobody writes to", fifo, schema.ErrNotRegularFile, "cannot read plan: " + fifo + " is a named pipe (FIFO), not a regular file"},
		{"a file over the size limit", big, schema.ErrPlanTooLarge, "cannot read plan: " + big + " is larger than 4 MiB (4,194,422 bytes)"},
	}
	for _, tt := range tests {
		for name, load := range map[string]func(string) (*schema.Plan, error){"Load": schema.Load, "LoadPartial": schema.LoadPartial} {
			t.Run(tt.name+"/"+name, func(t *testing.T) {
				done := make(chan struct{})
				var (
					p   *schema.Plan
					err error
				)
				go func() { defer close(done); p, err = load(tt.path) }()
				select {
				case <-done:
				case <-time.After(10 * time.Second):
					t.Fatal("still loading after 10s")
				}
				var es schema.Errors
				if p != nil || !errors.As(err, &es) || len(es) != 1 {
					t.Fatalf("plan %v, error %v: want one error", p, err)
				}
				if !errors.Is(err, tt.target) {
					t.Errorf("errors.Is(%v, %v) = false", err, tt.target)
				}
				if es[0].Msg != tt.msg || es[0].Hint == "" || es[0].Pos.File != tt.path {
					t.Errorf("error %q (hint %q) at %s, want %q", es[0].Msg, es[0].Hint, es[0].Pos, tt.msg)
				}
			})
		}
	}
}
