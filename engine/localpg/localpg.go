// Package localpg starts a throwaway PostgreSQL server from the binaries
// installed on the machine: a fresh data directory under the system temp
// directory, trust authentication on 127.0.0.1 only, a free port, and
// durability switched off for speed. [Server.Stop] removes every trace.
//
// It is the embedded default target of planrun and the server of the tests
// (see engine/localpg/localpgtest).
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

// ServerNiceness is how many steps of CPU priority the server runs below
// the process that starts it: postgres starts as `nice -n 10 postgres …`,
// so the postmaster has that niceness (the caller's plus 10, at most 19)
// before it forks anything, and every process it forks (backends,
// background workers) inherits it, after a Restart too. On a machine too
// small for both, the server then runs short of CPU, not the load
// generator beside it that measures it. Where no nice program is found on
// PATH, Start sets the postmaster's niceness with setpriority as soon as it
// has started instead (the processes it forked in that instant keep the
// caller's). Linux and macOS alike.
const ServerNiceness = 10

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

	// How postgres is started: by launch in Start and again by Restart.
	cred         *syscall.Credential
	maxConns     int
	startTimeout time.Duration

	lock *os.File // flock held while the dir is in use (see sweepStale)

	// lifecycle is held by Restart throughout and by Stop while it stops
	// the process: one of them at a time changes which postmaster runs.
	lifecycle sync.Mutex
	// stopping ends when Stop begins; it cuts a Restart under way short.
	stopping    context.Context
	stopRestart context.CancelCauseFunc

	mu sync.Mutex  // guards pm
	pm *postmaster // the postmaster started last; nil if none or its start failed

	stopOnce sync.Once
	stopErr  error
}

// postmaster is one run of the postgres process.
type postmaster struct {
	proc    *os.Process
	exited  chan struct{} // closed once the process has been reaped
	waitErr error         // valid after exited is closed
}

// errStopped is the cause that cuts a Restart short when Stop is called.
var errStopped = errors.New("the server was stopped")

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

	stopping, stopRestart := context.WithCancelCause(context.Background())
	s := &Server{
		binDir: binDir, logf: opts.Logf,
		cred: cred, maxConns: opts.MaxConnections, startTimeout: opts.StartTimeout,
		stopping: stopping, stopRestart: stopRestart,
	}
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
		err = s.launch(ctx)
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

// Socket returns the path of the Unix socket the server also listens on
// (in its own directory; trust authentication, as on 127.0.0.1).
func (s *Server) Socket() string {
	return filepath.Join(s.dir, ".s.PGSQL."+strconv.Itoa(s.port))
}

// PID returns the process id of the postmaster started last (after a
// [Server.Restart], the new one), or 0 if it never started or its last
// start failed.
func (s *Server) PID() int {
	if pm := s.postmaster(); pm != nil {
		return pm.proc.Pid
	}
	return 0
}

func (s *Server) postmaster() *postmaster {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pm
}

func (s *Server) setPostmaster(pm *postmaster) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pm = pm
}

// StartupDuration returns how long Start took: initdb, launch and readiness.
func (s *Server) StartupDuration() time.Duration { return s.startup }

// Stop shuts the server down (SIGINT, PostgreSQL's fast shutdown; SIGKILL to
// its process group after 10s) and removes its temp directory. It is
// idempotent and safe to call from several goroutines: every call returns
// the result of the first. A [Server.Restart] under way is cut short, and
// the postmaster it may have started is stopped too.
func (s *Server) Stop() error {
	if s == nil {
		return nil
	}
	s.stopOnce.Do(func() {
		s.stopRestart(errStopped)
		s.lifecycle.Lock()
		defer s.lifecycle.Unlock()
		var errs []error
		if err := stopProcess(s.postmaster(), s.logf); err != nil {
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

// Restart shuts the server down fast (SIGINT, as Stop does; SIGKILL to its
// process group after 10s), keeps it down for down (counted from the moment
// it has exited; 0 or less: not at all), then starts it again on the same port and data directory,
// without initdb, and waits until it accepts connections (within the
// StartTimeout of [Options]). It returns how long the server was
// unreachable: from the shutdown signal to ready again. Connections open at
// the shutdown are broken; data committed before it is kept.
//
// If another process took the port meanwhile, Restart fails with an error
// saying so and the server stays down ([Server.Stop] still cleans up).
//
// Restart never leaves the server down because ctx ended: if ctx ends during
// the down period, postgres is started again at once; either way Restart
// waits until it is ready (the start timeout, not ctx, bounds that wait) and
// then returns ctx's error. A run interrupted during a restart thus still
// has a server for its teardown. [Server.Stop] cuts a Restart short at any
// point and leaves no process behind; Restart after Stop returns an error.
// A ctx that has already ended leaves the server untouched. Concurrent
// Restarts run one after the other.
func (s *Server) Restart(ctx context.Context, down time.Duration) (time.Duration, error) {
	s.lifecycle.Lock()
	defer s.lifecycle.Unlock()
	if s.stopping.Err() != nil {
		return 0, fmt.Errorf("localpg: restart: %w", errStopped)
	}
	if err := context.Cause(ctx); err != nil {
		return 0, fmt.Errorf("localpg: restart not begun: %w", err)
	}
	pm := s.postmaster()
	if pm == nil {
		return 0, errors.New("localpg: restart: postgres is not running (its last start failed)")
	}

	began := time.Now()
	if err := stopProcess(pm, s.logf); err != nil {
		return time.Since(began), fmt.Errorf("localpg: restart: %w", err)
	}
	s.logf("localpg: postgres (pid %d) shut down after %s, staying down for %s",
		pm.proc.Pid, time.Since(began).Round(time.Millisecond), down)

	var interrupted error
	timer := time.NewTimer(down)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-ctx.Done():
		interrupted = fmt.Errorf("localpg: restart interrupted during the down period (postgres started again at once): %w",
			context.Cause(ctx))
		s.logf("%v", interrupted)
	case <-s.stopping.Done():
		return time.Since(began), fmt.Errorf("localpg: restart: %w during the down period", errStopped)
	}

	// Ready within the start timeout whatever ctx says (see above), unless Stop is called.
	readyCtx, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	defer cancel(nil)
	defer context.AfterFunc(s.stopping, func() { cancel(errStopped) })()
	readyCtx, cancelTimeout := context.WithTimeoutCause(readyCtx, s.startTimeout,
		fmt.Errorf("localpg: start timeout of %s passed", s.startTimeout))
	defer cancelTimeout()

	if _, err := s.run(readyCtx, os.O_APPEND); err != nil {
		if errors.Is(err, errPortTaken) {
			err = fmt.Errorf("another process took port %d while the server was down, so it stays down: %w", s.port, err)
		}
		return time.Since(began), errors.Join(interrupted, fmt.Errorf("localpg: restart: %w", err))
	}
	unreachable := time.Since(began)
	s.logf("localpg: postgres (pid %d) ready again on 127.0.0.1:%d, unreachable for %s",
		s.PID(), s.port, unreachable.Round(time.Millisecond))
	if interrupted == nil && ctx.Err() != nil {
		interrupted = fmt.Errorf("localpg: restart interrupted while postgres started again (it is ready): %w",
			context.Cause(ctx))
	}
	return unreachable, interrupted
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
func (s *Server) launch(ctx context.Context) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	s.port = port
	s.dsn = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	s.version, err = s.run(ctx, os.O_TRUNC)
	return err
}

// run starts postgres on s.port with s.dataDir, makes it the current
// postmaster and waits until it is ready; it returns the server version.
// logMode is os.O_TRUNC to start the server log afresh or os.O_APPEND to
// keep what earlier runs wrote. A failed attempt leaves no process behind.
func (s *Server) run(ctx context.Context, logMode int) (string, error) {
	logFile, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|logMode, 0o644)
	if err != nil {
		return "", fmt.Errorf("localpg: open server log: %w", err)
	}
	defer logFile.Close() // the child holds its own copy
	name, args := niced(filepath.Join(s.binDir, "postgres"),
		"-D", s.dataDir,
		"-c", "listen_addresses=127.0.0.1",
		"-c", "port="+strconv.Itoa(s.port),
		"-c", "unix_socket_directories="+s.dir,
		"-c", "max_connections="+strconv.Itoa(s.maxConns),
		"-c", "fsync=off",
		"-c", "synchronous_commit=off",
		"-c", "full_page_writes=off",
	)
	cmd := exec.Command(name, args...)
	cmd.Dir = s.dir
	cmd.Env = childEnv()
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = childProcAttr(s.cred)
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("localpg: start postgres: %w", err)
	}
	if name != nicePath {
		// No nice program: lower the postmaster's priority now.
		if err := lowerPriority(cmd.Process.Pid); err != nil {
			s.logf("localpg: could not lower the server's CPU priority: %v", err)
		}
	}
	pm := &postmaster{proc: cmd.Process, exited: make(chan struct{})}
	go func() {
		pm.waitErr = cmd.Wait()
		close(pm.exited)
	}()
	s.setPostmaster(pm)

	version, err := s.waitReady(ctx, pm)
	if err != nil {
		if stopErr := stopProcess(pm, s.logf); stopErr != nil {
			err = errors.Join(err, stopErr)
		}
		s.setPostmaster(nil)
		return "", err
	}
	return version, nil
}

// waitReady connects until the server answers, pm exits, or ctx ends. It
// returns the server version.
func (s *Server) waitReady(ctx context.Context, pm *postmaster) (string, error) {
	var lastErr error
	for {
		select {
		case <-pm.exited:
			log := s.logTail()
			if strings.Contains(log, "could not bind") || strings.Contains(log, "already in use") {
				return "", fmt.Errorf("localpg: port %d: %w; server log:\n%s", s.port, errPortTaken, log)
			}
			return "", fmt.Errorf("localpg: postgres exited during startup (%v); server log:\n%s", pm.waitErr, log)
		case <-ctx.Done():
			return "", fmt.Errorf("localpg: server not ready on port %d: %w (last error: %v); server log:\n%s",
				s.port, context.Cause(ctx), lastErr, s.logTail())
		default:
		}
		version, err := s.probe(ctx)
		if err == nil {
			return version, nil
		}
		if errors.Is(err, errPortTaken) {
			return "", err
		}
		lastErr = err
		select {
		case <-time.After(25 * time.Millisecond):
		case <-ctx.Done():
		case <-pm.exited:
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

// stopProcess shuts pm down (SIGINT, PostgreSQL's fast shutdown; SIGKILL to
// its process group after stopGrace), if it runs, and waits until it has
// been reaped. A nil pm is no process.
func stopProcess(pm *postmaster, logf func(string, ...any)) error {
	if pm == nil {
		return nil
	}
	select {
	case <-pm.exited:
		return nil
	default:
	}
	_ = pm.proc.Signal(syscall.SIGINT) // fast shutdown
	select {
	case <-pm.exited:
		return nil
	case <-time.After(stopGrace):
	}
	logf("localpg: postgres (pid %d) still running after %s, killing it", pm.proc.Pid, stopGrace)
	// The server runs in its own process group: take its children too.
	if err := syscall.Kill(-pm.proc.Pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("localpg: kill postgres (pid %d): %w", pm.proc.Pid, err)
	}
	<-pm.exited
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

// nicePath is the nice program on PATH, "" when there is none.
var nicePath, _ = exec.LookPath("nice")

// niced is how to run program with args at ServerNiceness: through nice,
// which runs it in its own process (it execs, so the pid is the same);
// program itself when there is no nice program.
func niced(program string, args ...string) (name string, argv []string) {
	if nicePath == "" {
		return program, args
	}
	return nicePath, append([]string{"-n", strconv.Itoa(ServerNiceness), program}, args...)
}

// lowerPriority sets pid's niceness to ServerNiceness above ours (at most
// 19).
func lowerPriority(pid int) error {
	ours, err := syscall.Getpriority(syscall.PRIO_PROCESS, 0)
	if err != nil {
		return fmt.Errorf("getpriority: %w", err)
	}
	return syscall.Setpriority(syscall.PRIO_PROCESS, pid, min(niceness(ours)+ServerNiceness, 19))
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
