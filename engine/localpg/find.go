package localpg

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// ErrNoBinaries reports that the PostgreSQL server binaries (initdb, pg_ctl and
// postgres, all in one directory) were not found. Test for it with errors.Is.
var ErrNoBinaries = errors.New("PostgreSQL server binaries (initdb, pg_ctl, postgres) not found; " +
	"install them (Debian/Ubuntu: sudo apt-get install -y postgresql ; macOS: brew install postgresql@16 ; " +
	"or run scripts/install-postgres.sh) or set target.url / DATABASE_URL to use an existing server")

// requiredBinaries must all be present, as executable files, in one directory.
var requiredBinaries = []string{"initdb", "pg_ctl", "postgres"}

// FindBinaries returns the directory holding initdb, pg_ctl and postgres.
// It searches, in order: the directories of PATH, `pg_config --bindir`,
// /usr/lib/postgresql/*/bin (newest major version first), then the Homebrew
// places (/opt/homebrew/opt/postgresql@*/bin, /usr/local/opt/postgresql@*/bin,
// /opt/homebrew/bin, /usr/local/bin). The error wraps [ErrNoBinaries].
func FindBinaries() (binDir string, err error) {
	return findIn(searchDirs())
}

// searchDirs lists the candidate directories in search order.
func searchDirs() []string {
	dirs := filepath.SplitList(os.Getenv("PATH"))
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		if d := strings.TrimSpace(string(out)); d != "" {
			dirs = append(dirs, d)
		}
	}
	dirs = append(dirs, globNewestFirst("/usr/lib/postgresql/*/bin")...)
	dirs = append(dirs, globNewestFirst("/opt/homebrew/opt/postgresql@*/bin")...)
	dirs = append(dirs, globNewestFirst("/usr/local/opt/postgresql@*/bin")...)
	return append(dirs, "/opt/homebrew/bin", "/usr/local/bin")
}

// findIn returns the first of dirs that holds every required binary.
func findIn(dirs []string) (string, error) {
	seen := make(map[string]bool, len(dirs))
	var searched []string
	for _, d := range dirs {
		if d == "" || seen[d] {
			continue
		}
		seen[d] = true
		searched = append(searched, d)
		if hasBinaries(d) {
			return d, nil
		}
	}
	return "", fmt.Errorf("%w (searched: %s)", ErrNoBinaries, strings.Join(searched, ", "))
}

// hasBinaries reports whether dir holds every required binary as an
// executable regular file (symlinks are followed).
func hasBinaries(dir string) bool {
	for _, name := range requiredBinaries {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
			return false
		}
	}
	return true
}

// globNewestFirst expands pattern and orders the matches by the version
// number found in them, newest first ("16" before "9.6").
func globNewestFirst(pattern string) []string {
	matches, _ := filepath.Glob(pattern) // the only error is a bad pattern
	sortNewestFirst(matches)
	return matches
}

// sortNewestFirst sorts paths by the first version number in each path
// (e.g. 15 in /usr/lib/postgresql/15/bin, 16 in postgresql@16), newest first.
// Paths without a version go last, in lexical order.
func sortNewestFirst(paths []string) {
	sort.SliceStable(paths, func(i, j int) bool {
		vi, vj := pathVersion(paths[i]), pathVersion(paths[j])
		for k := 0; k < len(vi) && k < len(vj); k++ {
			if vi[k] != vj[k] {
				return vi[k] > vj[k]
			}
		}
		if len(vi) != len(vj) {
			return len(vi) > len(vj)
		}
		return paths[i] < paths[j]
	})
}

// pathVersion returns the first dotted number in p as its components,
// e.g. [9 6] for /usr/lib/postgresql/9.6/bin, or nil when there is none.
func pathVersion(p string) []int {
	start := strings.IndexAny(p, "0123456789")
	if start < 0 {
		return nil
	}
	end := start
	for end < len(p) && (p[end] == '.' || (p[end] >= '0' && p[end] <= '9')) {
		end++
	}
	var v []int
	for _, part := range strings.Split(strings.Trim(p[start:end], "."), ".") {
		n, err := strconv.Atoi(part)
		if err != nil {
			break
		}
		v = append(v, n)
	}
	return v
}
