package localpg

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// tempPrefix names the temp dirs of Start: os.TempDir()/planrun-pg-*.
const tempPrefix = "planrun-pg-"

// lockName is the file in each temp dir that its owner keeps flock'ed.
const lockName = "owner.lock"

// childCredential returns the account initdb and postgres run as: nil
// (ourselves) unless we are root, which PostgreSQL refuses; then "postgres"
// if that account exists, else "nobody".
func childCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	var lookupErrs []error
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			lookupErrs = append(lookupErrs, err)
			continue
		}
		uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
		gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("localpg: account %s: %w", name, err)
		}
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
	}
	return nil, fmt.Errorf("localpg: running as root, and no unprivileged account to run PostgreSQL as: %w",
		errors.Join(lookupErrs...))
}

// tempBase returns the directory to create the temp dir in: os.TempDir(),
// or /tmp when cred is set and cannot reach os.TempDir() (e.g. TMPDIR under
// root's home).
func tempBase(cred *syscall.Credential) (string, error) {
	base := os.TempDir()
	if cred == nil || traversable(base, cred) {
		return base, nil
	}
	if traversable("/tmp", cred) {
		return "/tmp", nil
	}
	return "", fmt.Errorf("localpg: uid %d cannot reach %s (nor /tmp); set TMPDIR to a directory it can traverse",
		cred.Uid, base)
}

// traversable reports whether cred may search (x permission) dir and every
// directory above it.
func traversable(dir string, cred *syscall.Credential) bool {
	dir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return false
	}
	for {
		fi, err := os.Stat(dir)
		if err != nil {
			return false
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok {
			return false
		}
		perm := fi.Mode().Perm()
		switch {
		case st.Uid == cred.Uid:
			perm &= 0o100
		case st.Gid == cred.Gid:
			perm &= 0o010
		default:
			perm &= 0o001
		}
		if perm == 0 {
			return false
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return true
		}
		dir = parent
	}
}

// lockDir creates dir's lock file and holds an exclusive flock on it until
// the returned file is closed (or the process dies).
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, lockName), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("localpg: create lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("localpg: lock %s: %w", dir, err)
	}
	return f, nil
}

// sweepStale removes the temp dirs in base left by processes that died
// without calling Stop: their lock is free and no postmaster runs in them.
// Dirs still being created (no lock file yet) and dirs in use are left alone.
// Errors are logged, never returned: sweeping is a courtesy.
func sweepStale(base string, logf func(string, ...any)) {
	dirs, _ := filepath.Glob(filepath.Join(base, tempPrefix+"*"))
	for _, dir := range dirs {
		f, err := os.Open(filepath.Join(dir, lockName))
		if err != nil {
			continue
		}
		if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
			f.Close() // in use
			continue
		}
		if pid := postmasterPID(filepath.Join(dir, "data")); pid > 0 && processExists(pid) {
			logf("localpg: leaving stale %s alone: its postmaster (pid %d) still runs", dir, pid)
			f.Close()
			continue
		}
		if err := os.RemoveAll(dir); err != nil {
			logf("localpg: remove stale %s: %v", dir, err)
		} else {
			logf("localpg: removed stale %s", dir)
		}
		f.Close()
	}
}

// postmasterPID returns the pid recorded in dataDir/postmaster.pid, or 0.
func postmasterPID(dataDir string) int {
	b, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		return 0
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, _ := strconv.Atoi(strings.TrimSpace(first))
	return pid
}

// processExists reports whether a process with this pid exists.
func processExists(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
