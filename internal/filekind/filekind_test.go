package filekind_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/planrun/planrun/internal/filekind"
)

func TestOf(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		dir: "a directory", fifo: "a named pipe (FIFO)", file: "a regular file", "/dev/null": "a character device",
	} {
		fi, err := os.Lstat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := filekind.Of(fi.Mode()); got != want {
			t.Errorf("%s: %q, want %q", path, got, want)
		}
	}
}
