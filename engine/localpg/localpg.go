// Package localpg starts a throwaway PostgreSQL server from the binaries
// installed on the machine: a fresh data directory under the system temp
// directory, trust authentication on 127.0.0.1 only, a free port, and
// durability switched off for speed. [Server.Stop] removes every trace.
//
// It is the embedded default target of planrun and the server of the tests
// (see internal/pgtest).
package localpg

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// Defaults of [Options].
const (
	DefaultMaxConnections = 200
	DefaultStartTimeout   = 30 * time.Second
)

// stopGrace is how long Stop waits after SIGINT (fast shutdown) before SIGKILL.
const stopGrace = 10 * time.Second

// bindAttempts is how many ports Start tries when the chosen one is taken
// between picking it and the server binding it.
const bindAttempts = 5

// Options configure [Start]. Zero values take the documented defaults.
type Options struct {
	// MaxConnections is the server's max_connections. Default 200.
	MaxConnections int
	// StartTimeout bounds the whole of Start: initdb, launch and readiness.
	// Default 30s.
	StartTimeout time.Duration
	// Logf, when set, receives progress messages. Default nil (silent).
	Logf func(format string, args ...any)
}

func (o Options) withDefaults() Options {
	if o.MaxConnections <= 0 {
		o.MaxConnections = DefaultMaxConnections
	}
	if o.StartTimeout <= 0 {
		o.StartTimeout = DefaultStartTimeout
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	return o
}

// Server is a running throwaway PostgreSQL server. Its methods are safe for
// concurrent use.
type Server struct {
	dir     string // the temp dir holding everything below
	dataDir string
	logPath string
	binDir  string
	port    int
	dsn     string
	version string
	startup time.Duration
	logf    func(string, ...any)

	lock *os.File // flock held while the dir is in use (see sweepStale)

	proc    *os.Process
	exited  chan struct{} // closed once the postgres process has been reaped
	waitErr error         // valid after exited is closed

	stopOnce sync.Once
	stopErr  error
}

// Start creates a data directory with initdb, starts postgres on a free
// 127.0.0.1 port and waits until it accepts connections. On any error
// nothing is left behind. When running as root, initdb and the server run
// as the "postgres" account (or "nobody" when there is none), since
// PostgreSQL refuses to run as root. The caller must call [Server.Stop].
func Start(ctx context.Context, opts Options) (*Server, error) {
	opts = opts.withDefaults()
	began := time.Now()
	ctx, cancel := context.WithTimeout(ctx, opts.StartTimeout)
	defer cancel()

	binDir, err := FindBinaries()
	if err != nil {
		return nil, err
	}
	cred, err := childCredential()
	if err != nil {
		return nil, err
	}
	base, err := tempBase(cred)
	if err != nil {
		return nil, err
	}
	sweepStale(base, opts.Logf)

	s := &Server{binDir: binDir, logf: opts.Logf}
	if err := s.makeDir(base, cred); err != nil {
		_ = s.Stop()
		return nil, err
	}
	opts.Logf("localpg: binaries in %s, directory %s", binDir, s.dir)
	if err := s.initdb(ctx, cred); err != nil {
		_ = s.Stop()
		return nil, err
	}
	opts.Logf("localpg: initdb done after %s", time.Since(began).Round(time.Millisecond))

	for attempt := 1; ; attempt++ {
		err = s.launch(ctx, cred, opts.MaxConnections)
		if !errors.Is(err, errPortTaken) || attempt == bindAttempts {
			break
		}
		opts.Logf("localpg: port %d taken, retrying on another", s.port)
	}
	if err != nil {
		_ = s.Stop()
		return nil, err
	}
	s.startup = time.Since(began)
	opts.Logf("localpg: PostgreSQL %s (pid %d) ready on 127.0.0.1:%d after %s",
		s.version, s.PID(), s.port, s.startup.Round(time.Millisecond))
	return s, nil
}

// DSN returns the connection URL, e.g.
// postgres://postgres@127.0.0.1:PORT/postgres?sslmode=disable (no password:
// trust authentication on 127.0.0.1 only).
func (s *Server) DSN() string { return s.dsn }

// Version returns the server version, e.g. "15.18".
func (s *Server) Version() string { return s.version }

// DataDir returns the server's data directory (inside a temp dir that Stop removes).
func (s *Server) DataDir() string { return s.dataDir }

// Port returns the TCP port the server listens on, on 127.0.0.1.
func (s *Server) Port() int { return s.port }

// PID returns the process id of the postmaster, or 0 if it never started.
func (s *Server) PID() int {
	if s.proc == nil {
		return 0
	}
	return s.proc.Pid
}

// StartupDuration returns how long Start took: initdb, launch and readiness.
func (s *Server) StartupDuration() time.Duration { return s.startup }

// Stop shuts the server down (SIGINT, PostgreSQL's fast shutdown; SIGKILL to
// its process group after 10s) and removes its temp directory. It is
// idempotent and safe to call from several goroutines: every call returns
// the result of the first.
func (s *Server) Stop() error {
	if s == nil {
		return nil
	}
	s.stopOnce.Do(func() {
		var errs []error
		if err := s.stopProcess(); err != nil {
			errs = append(errs, err)
		}
		if s.dir != "" {
			if err := removeAll(s.dir); err != nil {
				errs = append(errs, fmt.Errorf("localpg: remove %s: %w", s.dir, err))
			}
		}
		if s.lock != nil {
			_ = s.lock.Close() // releases the flock
		}
		s.stopErr = errors.Join(errs...)
	})
	return s.stopErr
}

// Restart shuts the server down fast (SIGINT), keeps it down for down
// (counted from the moment it has exited), then starts it again on the same
// port and data directory and waits until it accepts connections. It
// returns how long the server was unreachable: from the shutdown signal to
// ready again.
//
// CONTRACT STUB: the helper implementing restart replaces the body.
func (s *Server) Restart(ctx context.Context, down time.Duration) (time.Duration, error) {
	return 0, errors.New("localpg: restart not implemented")
}

// makeDir creates the temp dir, takes its lock and hands it to the account
// the server runs as.
func (s *Server) makeDir(base string, cred *syscall.Credential) error {
	dir, err := os.MkdirTemp(base, tempPrefix+"*")
	if err != nil {
		return fmt.Errorf("localpg: create temp dir: %w", err)
	}
	s.dir = dir
	s.dataDir = filepath.Join(dir, "data")
	s.logPath = filepath.Join(dir, "server.log")
	if s.lock, err = lockDir(dir); err != nil {
		return err
	}
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return fmt.Errorf("localpg: chown %s: %w", dir, err)
		}
	}
	return nil
}

// initdb creates the data directory.
func (s *Server) initdb(ctx context.Context, cred *syscall.Credential) error {
	cmd := exec.CommandContext(ctx, filepath.Join(s.binDir, "initdb"),
		"-D", s.dataDir, "-A", "trust", "-U", "postgres",
		"--no-sync", "-E", "UTF8", "--locale=C")
	cmd.Dir = s.dir // initdb needs a working directory it may read
	cmd.Env = childEnv()
	cmd.SysProcAttr = childProcAttr(cred)
	// On timeout, kill initdb's helper postgres processes along with it.
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	if out, err := cmd.CombinedOutput(); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("localpg: initdb stopped before finishing (start timeout or cancel): %w", context.Cause(ctx))
		}
		return fmt.Errorf("localpg: initdb: %w\n%s", err, tail(out, 20))
	}
	return nil
}

// errPortTaken reports that another process holds the port picked for the server.
var errPortTaken = errors.New("port already in use")

// launch starts postgres on a fresh free port and waits until it is ready.
// A failed attempt leaves no process behind.
func (s *Server) launch(ctx context.Context, cred *syscall.Credential, maxConns int) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	s.port = port
	s.dsn = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)

	logFile, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("localpg: open server log: %w", err)
	}
	defer logFile.Close() // the child holds its own copy
	cmd := exec.Command(filepath.Join(s.binDir, "postgres"),
		"-D", s.dataDir,
		"-c", "listen_addresses=127.0.0.1",
		"-c", "port="+strconv.Itoa(port),
		"-c", "unix_socket_directories="+s.dir,
		"-c", "max_connections="+strconv.Itoa(maxConns),
		"-c", "fsync=off",
		"-c", "synchronous_commit=off",
		"-c", "full_page_writes=off",
	)
	cmd.Dir = s.dir
	cmd.Env = childEnv()
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = childProcAttr(cred)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("localpg: start postgres: %w", err)
	}
	s.proc = cmd.Process
	s.exited = make(chan struct{})
	go func() {
		s.waitErr = cmd.Wait()
		close(s.exited)
	}()

	if err := s.waitReady(ctx); err != nil {
		if stopErr := s.stopProcess(); stopErr != nil {
			err = errors.Join(err, stopErr)
		}
		s.proc = nil
		return err
	}
	return nil
}

// waitReady connects until the server answers, it exits, or ctx ends.
func (s *Server) waitReady(ctx context.Context) error {
	var lastErr error
	for {
		select {
		case <-s.exited:
			log := s.logTail()
			if strings.Contains(log, "could not bind") || strings.Contains(log, "already in use") {
				return fmt.Errorf("localpg: port %d: %w", s.port, errPortTaken)
			}
			return fmt.Errorf("localpg: postgres exited during startup (%v); server log:\n%s", s.waitErr, log)
		case <-ctx.Done():
			return fmt.Errorf("localpg: server not ready on port %d: %w (last error: %v); server log:\n%s",
				s.port, context.Cause(ctx), lastErr, s.logTail())
		default:
		}
		version, err := s.probe(ctx)
		if err == nil {
			s.version = version
			return nil
		}
		if errors.Is(err, errPortTaken) {
			return err
		}
		lastErr = err
		select {
		case <-time.After(25 * time.Millisecond):
		case <-ctx.Done():
		case <-s.exited:
		}
	}
}

// probe connects once and returns the server version. It reports
// errPortTaken when the server answering is not ours.
func (s *Server) probe(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.dsn)
	if err != nil {
		return "", err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var dataDir string
	if err := conn.QueryRow(ctx, "SHOW data_directory").Scan(&dataDir); err != nil {
		return "", err
	}
	if filepath.Clean(dataDir) != filepath.Clean(s.dataDir) {
		return "", fmt.Errorf("localpg: another server (data directory %s) answers on port %d: %w",
			dataDir, s.port, errPortTaken)
	}
	version, _, _ := strings.Cut(conn.PgConn().ParameterStatus("server_version"), " ")
	return version, nil
}

// stopProcess shuts the postmaster down, if running, and reaps it.
func (s *Server) stopProcess() error {
	if s.proc == nil {
		return nil
	}
	select {
	case <-s.exited:
		return nil
	default:
	}
	_ = s.proc.Signal(syscall.SIGINT) // fast shutdown
	select {
	case <-s.exited:
		return nil
	case <-time.After(stopGrace):
	}
	s.logf("localpg: postgres (pid %d) still running after %s, killing it", s.proc.Pid, stopGrace)
	// The server runs in its own process group: take its children too.
	if err := syscall.Kill(-s.proc.Pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("localpg: kill postgres (pid %d): %w", s.proc.Pid, err)
	}
	<-s.exited
	return nil
}

// removeAll removes dir, retrying for up to a second: processes killed a
// moment ago (initdb's helpers, which are not our children) may still be
// writing in it.
func removeAll(dir string) error {
	var err error
	for range 20 {
		if err = os.RemoveAll(dir); err == nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return err
}

// logTail returns the last lines of the server log.
func (s *Server) logTail() string {
	b, err := os.ReadFile(s.logPath)
	if err != nil {
		return fmt.Sprintf("(no server log: %v)", err)
	}
	return tail(b, 20)
}

// tail returns the last n lines of b.
func tail(b []byte, n int) string {
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("localpg: pick a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// childEnv is the environment of initdb and postgres: ours, minus the
// libpq variables that could redirect them, with a neutral locale.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PG") || strings.HasPrefix(kv, "LC_") || strings.HasPrefix(kv, "LANG=") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "LC_ALL=C")
}
