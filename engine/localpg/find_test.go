package localpg_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/planrun/planrun/engine/localpg"
)

// fakeBinDir makes a directory holding the named files with the given mode.
func fakeBinDir(t *testing.T, mode os.FileMode, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("#!/bin/sh\n"), mode); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestFindIn(t *testing.T) {
	empty := t.TempDir()
	complete := fakeBinDir(t, 0o755, "initdb", "pg_ctl", "postgres")
	complete2 := fakeBinDir(t, 0o755, "initdb", "pg_ctl", "postgres")
	noPgCtl := fakeBinDir(t, 0o755, "initdb", "postgres")
	notExecutable := fakeBinDir(t, 0o644, "initdb", "pg_ctl", "postgres")
	missing := filepath.Join(empty, "does-not-exist")

	tests := []struct {
		name    string
		dirs    []string
		want    string
		wantErr bool
	}{
		{name: "empty dir", dirs: []string{empty}, wantErr: true},
		{name: "no dirs", dirs: nil, wantErr: true},
		{name: "missing dir", dirs: []string{missing}, wantErr: true},
		{name: "missing pg_ctl", dirs: []string{noPgCtl}, wantErr: true},
		{name: "not executable", dirs: []string{notExecutable}, wantErr: true},
		{name: "complete", dirs: []string{complete}, want: complete},
		{name: "skips incomplete dirs", dirs: []string{empty, noPgCtl, notExecutable, complete}, want: complete},
		{name: "first complete wins", dirs: []string{complete2, complete}, want: complete2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := localpg.FindIn(tt.dirs)
			if tt.wantErr {
				if !errors.Is(err, localpg.ErrNoBinaries) {
					t.Fatalf("FindIn() error = %v, want ErrNoBinaries", err)
				}
				for _, want := range []string{"sudo apt-get install -y postgresql", "brew install postgresql@16", "DATABASE_URL"} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q does not mention %q", err, want)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("FindIn() error = %v", err)
			}
			if got != tt.want {
				t.Errorf("FindIn() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSortNewestFirst(t *testing.T) {
	tests := []struct {
		name string
		in   []string
		want []string
	}{
		{
			name: "debian numeric not lexical",
			in:   []string{"/usr/lib/postgresql/9.6/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/10/bin"},
			want: []string{"/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/10/bin", "/usr/lib/postgresql/9.6/bin"},
		},
		{
			name: "homebrew",
			in:   []string{"/opt/homebrew/opt/postgresql@14/bin", "/opt/homebrew/opt/postgresql@17/bin"},
			want: []string{"/opt/homebrew/opt/postgresql@17/bin", "/opt/homebrew/opt/postgresql@14/bin"},
		},
		{
			name: "minor versions",
			in:   []string{"/pg/9.5/bin", "/pg/9.6/bin", "/pg/9/bin"},
			want: []string{"/pg/9.6/bin", "/pg/9.5/bin", "/pg/9/bin"},
		},
		{
			name: "unversioned last",
			in:   []string{"/pg/latest/bin", "/pg/12/bin"},
			want: []string{"/pg/12/bin", "/pg/latest/bin"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := slices.Clone(tt.in)
			localpg.SortNewestFirst(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("SortNewestFirst(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestFindBinaries(t *testing.T) {
	dir, err := localpg.FindBinaries()
	if err != nil {
		t.Fatalf("FindBinaries() error = %v (install PostgreSQL: make deps)", err)
	}
	for _, name := range []string{"initdb", "pg_ctl", "postgres"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("FindBinaries() = %q, but: %v", dir, err)
		}
		if fi.Mode().Perm()&0o111 == 0 {
			t.Errorf("%s in %s is not executable", name, dir)
		}
	}
	t.Logf("binaries in %s", dir)
}
