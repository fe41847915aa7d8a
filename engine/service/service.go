// Package service starts and stops the service under test (a plan's
// target.service): it either checks that a running service is ready, or
// starts one from an argv on a free port, in its own process group, with the
// database URL planrun hands it, its output in a log file of its own, and
// waits until its ready path answers 2xx. [Process.Stop] ends the whole
// process group: SIGTERM, then SIGKILL after a bound.
//
// Nothing this package says quotes a secret: the database URL's password
// and every env value whose name looks like a secret (see [Spec.Secrets])
// are masked in every error, the service's log lines included.
package service

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/planrun/planrun/internal/redact"
)

// Defaults of [Spec]'s fields, applied where a field is left zero.
const (
	DefaultDatabaseEnv  = "DATABASE_URL"
	DefaultReady        = "/healthz"
	DefaultReadyTimeout = 60 * time.Second
	DefaultStopTimeout  = 10 * time.Second
)

// PortPlaceholder is replaced, in every element of [Spec.Start] and every
// value of [Spec.Env], by the free port planrun picks for the service.
const PortPlaceholder = "{port}"

// killWait bounds the wait for the process group to end after SIGKILL,
// which the kernel acts on at once unless a process is stuck in the kernel.
const killWait = 5 * time.Second

// ErrKilled is wrapped by the error of [Process.Stop] when the service did
// not end within [Spec.StopTimeout] of SIGTERM and was killed (SIGKILL).
// Nothing is left running then; the caller may report it as a warning.
var ErrKilled = errors.New("killed")

// Spec is target.service as the engine hands it over: the service to use
// (URL) or to start (Start), and the bounds of its start and stop.
type Spec struct {
	// URL is the base URL of a running service, e.g. http://127.0.0.1:8000
	// (the plan's ${APPLICATION_URL}). When set, nothing is started: Start
	// only waits until URL+Ready answers 2xx. Empty: the service is started
	// from Start.
	URL string
	// Start is the argv that starts the service; PortPlaceholder in any
	// element is replaced by a free port on 127.0.0.1 that planrun picks,
	// where the service must listen. It must hold the placeholder, here or
	// in an Env value. argv[0] is looked up in PATH (a name with a '/' is
	// taken relative to Dir): a plan names its interpreter, e.g.
	// ${PYTHON:-python3}.
	Start []string
	// Dir is the working directory of Start. The caller resolves it against
	// the plan file's directory. Empty: planrun's own working directory.
	Dir string
	// Env holds the variables added to planrun's environment for the
	// service; PortPlaceholder in a value is replaced by the port. Values
	// whose names look like secrets never appear in any message.
	Env map[string]string
	// DatabaseEnv names the variable that hands the service its database
	// URL. Default DefaultDatabaseEnv (DATABASE_URL).
	DatabaseEnv string
	// DatabaseURL is the URL handed to the service in DatabaseEnv (the one
	// pointing at planrun's proxy). It is a secret: it never appears in any
	// message. Empty: DatabaseEnv is not set.
	DatabaseURL string
	// Ready is the path polled with GET until it answers 2xx (redirects
	// followed); a refused connection, a timeout or any other status keeps
	// polling. It must begin with '/'. Default DefaultReady (/healthz).
	Ready string
	// ReadyTimeout bounds the wait for Ready. Default DefaultReadyTimeout
	// (60 s): a busy machine imports a Python web stack slowly.
	ReadyTimeout time.Duration
	// StopTimeout bounds the wait after SIGTERM before SIGKILL. Default
	// DefaultStopTimeout (10 s).
	StopTimeout time.Duration
	// LogPath is the file the service's stdout and stderr go to (created or
	// truncated, mode 0600), never interleaved with planrun's output. Empty:
	// a new file planrun-service-*.log in the temp directory.
	LogPath string
}

// withDefaults returns s with every zero field that has a default set.
func (s Spec) withDefaults() Spec {
	if s.DatabaseEnv == "" {
		s.DatabaseEnv = DefaultDatabaseEnv
	}
	if s.Ready == "" {
		s.Ready = DefaultReady
	}
	if s.ReadyTimeout <= 0 {
		s.ReadyTimeout = DefaultReadyTimeout
	}
	if s.StopTimeout <= 0 {
		s.StopTimeout = DefaultStopTimeout
	}
	return s
}

// Process is the service under test: one planrun started, or a running one
// it was pointed at. Its methods are safe for concurrent use.
type Process struct {
	url         string
	log         string
	pid         int
	stopTimeout time.Duration
	red         *redact.Redactor

	exited  chan struct{} // closed once the started process has been reaped; nil for a running service
	waitErr error         // the process's exit, set before exited is closed

	stopping atomic.Bool   // set when Stop begins: an exit after it is expected
	stopCh   chan struct{} // closed when Stop begins
	stopOnce sync.Once
	stopErr  error
}

// Start makes the service described by s ready and returns it: with s.URL
// set it only waits (bounded by s.ReadyTimeout) until s.URL+s.Ready answers
// 2xx; otherwise it starts s.Start on a free port, as described at [Spec],
// and waits the same way. The process exiting ends the wait at once, with
// its exit status. On failure nothing is left running, and the error names
// the ready path, the bound and the log file, with the log's last lines
// (redacted).
//
// ctx bounds the start and the life of the started service: cancelling it
// (Ctrl-C) stops the service as [Process.Stop] does. Call Stop when done
// with the service in any case.
func Start(ctx context.Context, s Spec) (*Process, error) {
	s = s.withDefaults()
	red := redact.New(s.Secrets()...)
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("service: not started: %w", context.Cause(ctx))
	}
	if !strings.HasPrefix(s.Ready, "/") {
		return nil, fmt.Errorf("service: the ready path %q does not begin with '/'", red.String(s.Ready))
	}
	if s.URL != "" {
		return startRunning(ctx, s, red)
	}
	if len(s.Start) == 0 {
		return nil, errors.New("service: neither a URL (a running service) nor an argv to start it")
	}
	return startProcess(ctx, s, red)
}

// startRunning waits until the running service at s.URL is ready.
func startRunning(ctx context.Context, s Spec, red *redact.Redactor) (*Process, error) {
	u, err := url.Parse(s.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("service: the URL %s is not an http:// or https:// URL with a host", red.String(strconv.Quote(s.URL)))
	}
	p := &Process{url: strings.TrimRight(s.URL, "/"), red: red}
	if err := p.waitReady(ctx, s); err != nil {
		return nil, err
	}
	return p, nil
}

// startProcess starts s.Start and waits until it is ready.
func startProcess(ctx context.Context, s Spec, red *redact.Redactor) (*Process, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	argv, env, ok := withPort(s.Start, s.Env, port)
	if !ok {
		return nil, fmt.Errorf("service: the start argv names no %s, nor does any env value: planrun cannot tell where the service listens (e.g. start: [python3, -m, uvicorn, app:app, --port, %q])",
			PortPlaceholder, PortPlaceholder)
	}

	if s.Dir != "" {
		if st, err := os.Stat(s.Dir); err != nil || !st.IsDir() {
			if err == nil {
				err = errors.New("not a directory")
			}
			return nil, fmt.Errorf("service: cannot start the service in %s (target.service.dir): %w", s.Dir, err)
		}
	}

	logPath := s.LogPath
	var logFile *os.File
	if logPath == "" {
		logFile, err = os.CreateTemp("", "planrun-service-*.log")
		if err == nil {
			logPath = logFile.Name()
		}
	} else {
		logFile, err = os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	}
	if err != nil {
		return nil, fmt.Errorf("service: create the service's log file: %w", err)
	}
	defer logFile.Close() // the child holds its own copy

	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = s.Dir
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	if s.DatabaseURL != "" {
		cmd.Env = append(cmd.Env, s.DatabaseEnv+"="+s.DatabaseURL) // last wins over planrun's own
	}
	cmd.Stdin = nil // /dev/null
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = procAttr()
	if err := cmd.Start(); err != nil {
		return nil, startError(err, argv[0], red)
	}

	p := &Process{
		url:         "http://127.0.0.1:" + strconv.Itoa(port),
		log:         logPath,
		pid:         cmd.Process.Pid,
		stopTimeout: s.StopTimeout,
		red:         red,
		exited:      make(chan struct{}),
		stopCh:      make(chan struct{}),
	}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	go func() {
		select {
		case <-ctx.Done():
			_ = p.Stop()
		case <-p.stopCh:
		}
	}()

	if err := p.waitReady(ctx, s); err != nil {
		if stopErr := p.Stop(); stopErr != nil && !errors.Is(stopErr, ErrKilled) {
			err = errors.Join(err, stopErr)
		}
		return nil, p.withTail(err)
	}
	return p, nil
}

// startError explains a failure to start argv0 and says what to do.
func startError(err error, argv0 string, red *redact.Redactor) error {
	var pathErr *os.PathError
	var msg string
	switch {
	case errors.Is(err, exec.ErrNotFound):
		msg = fmt.Sprintf("service: cannot start the service: %q is not found in PATH: install it, or name it by its path in target.service.start; a plan names its interpreter, e.g. start: [\"${PYTHON:-python3}\", -m, uvicorn, app:app, --port, %q]",
			argv0, PortPlaceholder)
	case errors.Is(err, exec.ErrDot):
		msg = fmt.Sprintf("service: cannot start the service: %q is found only in the current directory (%v): name it as ./%s in target.service.start", argv0, err, argv0)
	case errors.As(err, &pathErr) && errors.Is(err, os.ErrNotExist):
		msg = fmt.Sprintf("service: cannot start the service: %s does not exist (a relative path is taken from target.service.dir): %v", argv0, pathErr.Err)
	case errors.As(err, &pathErr) && errors.Is(err, os.ErrPermission):
		msg = fmt.Sprintf("service: cannot start the service: %s is not executable (chmod +x it, or start it through its interpreter): %v", argv0, pathErr.Err)
	default:
		msg = fmt.Sprintf("service: cannot start the service: %v", err)
	}
	return &redactedError{msg: red.String(msg), err: err}
}

// freePort returns a TCP port on 127.0.0.1 that nothing listens on now.
// Another process may take it before the service binds it; the service then
// exits (address in use) and Start says so with the log's last lines.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("service: pick a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// withPort returns argv and env with PortPlaceholder replaced by port, and
// whether any of them held it.
func withPort(argv []string, env map[string]string, port int) ([]string, map[string]string, bool) {
	p := strconv.Itoa(port)
	found := false
	outArgv := make([]string, len(argv))
	for i, a := range argv {
		found = found || strings.Contains(a, PortPlaceholder)
		outArgv[i] = strings.ReplaceAll(a, PortPlaceholder, p)
	}
	outEnv := make(map[string]string, len(env))
	for k, v := range env {
		found = found || strings.Contains(v, PortPlaceholder)
		outEnv[k] = strings.ReplaceAll(v, PortPlaceholder, p)
	}
	return outArgv, outEnv, found
}

// URL returns the service's base URL without a trailing slash, e.g.
// http://127.0.0.1:40123.
func (p *Process) URL() string { return p.url }

// PID returns the process planrun started, the leader of the service's
// process group (its process tree is the service); 0 for a running service.
func (p *Process) PID() int { return p.pid }

// Log returns the path of the file holding the service's stdout and stderr;
// empty for a running service.
func (p *Process) Log() string { return p.log }

// Exited returns a channel closed once the started process has exited, for
// whatever reason; nil (never ready to receive) for a running service.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// Err returns nil while the service runs, for a running service, and after
// Stop (or a cancelled context) ended it; once it has exited on its own, an
// error naming its exit status and its log's last lines (redacted).
func (p *Process) Err() error {
	if p.exited == nil || p.stopping.Load() {
		return nil
	}
	select {
	case <-p.exited:
	default:
		return nil
	}
	if p.stopping.Load() {
		return nil
	}
	return fmt.Errorf("service: the service exited (%s)\n%s", exitStatus(p.waitErr), p.tailMessage())
}

// Stop ends the started service's whole process group: SIGTERM, then
// SIGKILL when the group has not ended within [Spec.StopTimeout]. It returns
// once nothing of the group is left running (zombies aside: reaping them is
// init's work), or after a further 5 s bound following SIGKILL. Its error
// wraps [ErrKilled] when SIGKILL was needed; it is nil when the service
// ended on SIGTERM or had ended already. Stop is idempotent; concurrent
// calls all return when the first has finished. It does nothing for a
// running service.
func (p *Process) Stop() error {
	if p == nil || p.exited == nil {
		return nil
	}
	p.stopOnce.Do(func() {
		p.stopping.Store(true)
		close(p.stopCh)
		p.stopErr = p.stop()
	})
	return p.stopErr
}

func (p *Process) stop() error {
	pgid := p.pid
	if err := syscall.Kill(-pgid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("service: SIGTERM to the service's process group %d: %w", pgid, err)
	}
	if p.waitGone(p.stopTimeout) {
		return nil
	}
	if err := syscall.Kill(-pgid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("service: SIGKILL to the service's process group %d: %w", pgid, err)
	}
	if p.waitGone(killWait) {
		return fmt.Errorf("service: the service did not stop within %s of SIGTERM, so it was %w (SIGKILL to its process group %d)", p.stopTimeout, ErrKilled, pgid)
	}
	return fmt.Errorf("service: the service's process group %d still runs %s after SIGKILL", pgid, killWait)
}

// waitGone waits up to d until the process has been reaped and no live
// process is left in its group.
func (p *Process) waitGone(d time.Duration) bool {
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	select {
	case <-p.exited:
	case <-deadline.C:
		return false
	}
	for tick := time.NewTicker(20 * time.Millisecond); ; {
		if !groupAlive(p.pid) {
			tick.Stop()
			return true
		}
		select {
		case <-tick.C:
		case <-deadline.C:
			tick.Stop()
			return !groupAlive(p.pid)
		}
	}
}

// exitStatus describes a process's exit as cmd.Wait returned it: "exit
// status 3", "signal: killed".
func exitStatus(err error) string {
	var ee *exec.ExitError
	switch {
	case err == nil:
		return "exit status 0"
	case errors.As(err, &ee):
		return ee.ProcessState.String()
	}
	return err.Error()
}
