package service_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/planrun/planrun/engine/localpg/localpgtest"
	"github.com/planrun/planrun/engine/service"
	"github.com/planrun/planrun/internal/pystack"
	"github.com/planrun/planrun/internal/redact"
)

func TestMain(m *testing.M) { os.Exit(localpgtest.Main(m)) }

// The secrets every test's spec carries: none may appear in any error.
const (
	apiToken  = "s3cr3t-api-t0ken-7f1c"
	dbPass    = "pw-S3cr3t-db-91aa"
	fakeDBURL = "postgres://app:" + dbPass + "@127.0.0.1:1/app?sslmode=disable"
)

// python returns a python3 that imports probe's modules; it skips the test
// when there is none (fails under CI), as examples/service's test does.
func python(t *testing.T, probe string, debs, pips []string) string {
	t.Helper()
	pythonsMu.Lock()
	f, ok := pythons[probe]
	if !ok {
		p, err := pystack.Find(probe, debs, pips)
		f = found{p, err}
		pythons[probe] = f
	}
	pythonsMu.Unlock()
	p, err := f.python, f.err
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	return p
}

// pythons caches pystack.Find's answers by probe: a probe imports the
// whole stack, seconds on a busy machine.
var (
	pythonsMu sync.Mutex
	pythons   = map[string]found{}
)

type found struct {
	python string
	err    error
}

// plainPython is a python3 with its standard library's http.server: a
// service that starts in a fraction of a second.
func plainPython(t *testing.T) string {
	return python(t, "import http.server", []string{"python3"}, nil)
}

// spec is a service spec carrying the test's secrets, its log in a temp dir.
func spec(t *testing.T, argv ...string) service.Spec {
	return service.Spec{
		Start:       argv,
		Dir:         t.TempDir(),
		Env:         map[string]string{"API_TOKEN": apiToken, "GREETING": "hello"},
		DatabaseURL: fakeDBURL,
		LogPath:     filepath.Join(t.TempDir(), "service.log"),
	}
}

// echoSecrets is a shell line printing what the service was handed.
const echoSecrets = `echo "pid=$$"; echo "db=$DATABASE_URL token=$API_TOKEN greeting=$GREETING"`

// noSecret fails the test when text holds a secret of s.
func noSecret(t *testing.T, what, text string, s service.Spec) {
	t.Helper()
	secrets := append([]string{apiToken, dbPass}, redact.Passwords(s.DatabaseURL)...)
	for _, sec := range secrets {
		if len(sec) >= redact.MinSecret && strings.Contains(text, sec) {
			t.Errorf("%s holds the secret %q:\n%s", what, sec, text)
		}
	}
}

// logPID reads the "pid=N" line the test's shell wrappers print first: the
// process group of a service whose Start failed.
func logPID(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^pid=(\d+)$`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("no pid= line in the service's log:\n%s", b)
	}
	pid, _ := strconv.Atoi(string(m[1]))
	return pid
}

// liveMembers lists the processes of group pgid that are not zombies, as ps
// sees them (a zombie is dead; reaping an orphan is init's work).
func liveMembers(t *testing.T, pgid int) []string {
	t.Helper()
	out, err := exec.Command("ps", "-eo", "pid=,pgid=,stat=,args=").Output()
	if err != nil {
		t.Fatalf("ps: %v", err)
	}
	var live []string
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) >= 3 && f[1] == strconv.Itoa(pgid) && !strings.HasPrefix(f[2], "Z") {
			live = append(live, line)
		}
	}
	return live
}

// assertGone fails the test unless nothing of process group pgid runs: no
// live member now, and kill(-pgid, 0) reports ESRCH once init has reaped
// any orphaned zombie (bounded by reapWait).
func assertGone(t *testing.T, pgid int) {
	t.Helper()
	if live := liveMembers(t, pgid); len(live) > 0 {
		t.Fatalf("process group %d still runs:\n%s", pgid, strings.Join(live, "\n"))
	}
	const reapWait = 30 * time.Second
	deadline := time.Now().Add(reapWait)
	for {
		err := syscall.Kill(-pgid, 0)
		if errors.Is(err, syscall.ESRCH) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("kill(-%d, 0) = %v after %s, want ESRCH", pgid, err, reapWait)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func get(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestReferenceService starts examples/service on a free port against the
// real server and stops it: the path a plan without APPLICATION_URL takes.
func TestReferenceService(t *testing.T) {
	py := python(t, pystack.Service, pystack.ServiceDebs, pystack.ServicePips)
	dir, err := filepath.Abs("../../examples/service")
	if err != nil {
		t.Fatal(err)
	}
	dsn, err := url.Parse(localpgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	q := dsn.Query()
	q.Set("application_name", "svcproc-test")
	dsn.RawQuery = q.Encode()

	s := service.Spec{
		Start:       []string{py, "-m", "uvicorn", "app:app", "--host", "127.0.0.1", "--port", "{port}"},
		Dir:         dir,
		Env:         map[string]string{"POOL_SIZE": "2", "POOL_MAX_OVERFLOW": "2", "ACCOUNTS": "100", "API_TOKEN": apiToken},
		DatabaseURL: dsn.String(),
		LogPath:     filepath.Join(t.TempDir(), "service.log"),
		// uvicorn ends on SIGTERM in about 0.4 s, 4 s with two busy loops
		// competing for the CPU: a bound well above both.
		StopTimeout: 60 * time.Second,
	}
	began := time.Now()
	p, err := service.Start(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	started := time.Since(began)
	t.Cleanup(func() { _ = p.Stop() })
	noSecret(t, "the URL", p.URL(), s)
	noSecret(t, "the log path", p.Log(), s)

	if !regexp.MustCompile(`^http://127\.0\.0\.1:\d+$`).MatchString(p.URL()) || strings.Contains(p.URL(), "{port}") {
		t.Fatalf("URL() = %q, want http://127.0.0.1:PORT", p.URL())
	}
	if p.Log() != s.LogPath || p.PID() <= 0 {
		t.Fatalf("Log() = %q, PID() = %d; want %q and the started process", p.Log(), p.PID(), s.LogPath)
	}
	if pgid, err := syscall.Getpgid(p.PID()); err != nil || pgid != p.PID() {
		t.Fatalf("the service's process group is %d (%v), want its own (%d)", pgid, err, p.PID())
	}
	// /healthz ran SELECT 1 through the URL handed in DATABASE_URL; a read
	// of the accounts its startup created works too.
	if code, body := get(t, p.URL()+"/healthz"); code != http.StatusOK {
		t.Fatalf("GET /healthz: %d %s", code, body)
	}
	if code, body := get(t, p.URL()+"/accounts/7/balance"); code != http.StatusOK || !strings.Contains(body, `"balance":`) {
		t.Fatalf("GET /accounts/7/balance: %d %s", code, body)
	}
	select {
	case <-p.Exited():
		t.Fatal("Exited() is closed while the service runs")
	default:
	}
	if err := p.Err(); err != nil {
		t.Fatalf("Err() while running: %v", err)
	}

	pgid := p.PID()
	began = time.Now()
	if err := p.Stop(); err != nil {
		t.Fatalf("Stop: %v (SIGTERM should end uvicorn within %s)", err, s.StopTimeout)
	}
	stopped := time.Since(began)
	if err := syscall.Kill(-pgid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Fatalf("after Stop, kill(-%d, 0) = %v, want ESRCH", pgid, err)
	}
	if err := p.Stop(); err != nil {
		t.Fatalf("a second Stop: %v", err)
	}
	if err := p.Err(); err != nil {
		t.Fatalf("Err() after Stop: %v", err)
	}
	log, err := os.ReadFile(p.Log())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Application startup complete", "Finished server process"} {
		if !strings.Contains(string(log), want) {
			t.Errorf("the service's log lacks %q:\n%s", want, log)
		}
	}
	t.Logf("the reference service was ready %s after Start, and stopped %s after Stop", started.Round(time.Millisecond), stopped.Round(time.Millisecond))
}

// neverReady is a service that answers 404 to everything and logs each
// request with the secrets it was handed, so that its log's last lines,
// which the error quotes, hold them.
const neverReady = `import http.server, os, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(404)
        self.end_headers()
    def log_message(self, *args):
        print("404 for", self.path, "token=" + os.environ["API_TOKEN"], "greeting=" + os.environ["GREETING"], "db=" + os.environ["DATABASE_URL"], flush=True)
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
`

// TestReferenceServiceWithoutDatabase: the reference service exits when
// its database refuses (status 3): the wait ends then, the error quotes
// uvicorn's last line and not the URL's password.
func TestReferenceServiceWithoutDatabase(t *testing.T) {
	py := python(t, pystack.Service, pystack.ServiceDebs, pystack.ServicePips)
	dir, err := filepath.Abs("../../examples/service")
	if err != nil {
		t.Fatal(err)
	}
	s := spec(t, py, "-m", "uvicorn", "app:app", "--host", "127.0.0.1", "--port", "{port}")
	s.Dir = dir
	s.ReadyTimeout = 5 * time.Minute // python imports the stack in 0.5 s, 9 s on a busy machine
	began := time.Now()
	p, err := service.Start(context.Background(), s)
	took := time.Since(began)
	if err == nil {
		p.Stop()
		t.Fatal("Start returned no error for a service whose database refuses")
	}
	t.Logf("error after %s:\n%s", took.Round(time.Millisecond), err)
	for _, want := range []string{"exit status 3", "GET /healthz", "Application startup failed. Exiting.", s.LogPath} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error lacks %q", want)
		}
	}
	if took >= s.ReadyTimeout/2 {
		t.Errorf("Start took %s to notice the exit, a good part of the bound %s", took, s.ReadyTimeout)
	}
	noSecret(t, "the error", err.Error(), s)
}

// TestNeverReady: a service that answers 404 on its ready path is stopped
// after the bound, with its whole process group (a child too), and the
// error names the path, the bound and the log.
func TestNeverReady(t *testing.T) {
	py := plainPython(t)
	s := spec(t, "sh", "-c", echoSecrets+`; sleep 600 & exec "$0" never_ready.py "$1"`, py, "{port}")
	if err := os.WriteFile(filepath.Join(s.Dir, "never_ready.py"), []byte(neverReady), 0o644); err != nil {
		t.Fatal(err)
	}
	s.Ready = "/nope"
	s.ReadyTimeout = 3 * time.Second
	began := time.Now()
	p, err := service.Start(context.Background(), s)
	took := time.Since(began)
	if err == nil {
		p.Stop()
		t.Fatal("Start returned no error for a service whose ready path answers 404")
	}
	msg := err.Error()
	t.Logf("error after %s:\n%s", took.Round(time.Millisecond), msg)
	// The log's last lines are the echo or the 404s (a busy machine may not
	// have started python within the bound): both show the token, masked.
	for _, want := range []string{"GET /nope did not answer 2xx within 3s", s.LogPath, "greeting=hello", "token=" + redact.Mask} {
		if !strings.Contains(msg, want) {
			t.Errorf("the error lacks %q", want)
		}
	}
	if took < s.ReadyTimeout {
		t.Errorf("Start gave up after %s, before the bound %s", took, s.ReadyTimeout)
	}
	noSecret(t, "the error", msg, s)
	assertGone(t, logPID(t, s.LogPath))
	if log, _ := os.ReadFile(s.LogPath); !strings.Contains(string(log), "token="+apiToken) {
		t.Fatalf("the service did not log what it was handed (the test proves nothing):\n%s", log)
	}
}

// TestExitsAtOnce: a service that exits ends the wait at once, with its
// exit status and its log's last line.
func TestExitsAtOnce(t *testing.T) {
	s := spec(t, "sh", "-c", echoSecrets+`; echo boom >&2; exit 3`, "sh", "{port}")
	s.ReadyTimeout = time.Minute
	began := time.Now()
	p, err := service.Start(context.Background(), s)
	took := time.Since(began)
	if err == nil {
		p.Stop()
		t.Fatal("Start returned no error for a service that exited")
	}
	msg := err.Error()
	t.Logf("error after %s:\n%s", took.Round(time.Millisecond), msg)
	for _, want := range []string{"exit status 3", "GET /healthz", "bound 1m0s", s.LogPath, "\n    boom"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the error lacks %q", want)
		}
	}
	if took >= s.ReadyTimeout/4 {
		t.Errorf("Start took %s to notice the exit, a good part of the bound %s", took, s.ReadyTimeout)
	}
	// The log itself is the service's own output: it holds what it printed.
	log, _ := os.ReadFile(s.LogPath)
	if !strings.Contains(string(log), apiToken) || !strings.Contains(string(log), dbPass) {
		t.Fatalf("the service did not print what it was handed (the test proves nothing):\n%s", log)
	}
	noSecret(t, "the error", msg, s)
	assertGone(t, logPID(t, s.LogPath))
}

// TestMissingModule: a service whose interpreter lacks a module exits at
// once with Python's ModuleNotFoundError in its log; Start's error quotes
// it and MissingModule names the module. A service that fails otherwise
// names none.
func TestMissingModule(t *testing.T) {
	py := plainPython(t)
	s := spec(t, py, "-c", "import json; import nosuchmodule_planrun.sub", "{port}")
	s.ReadyTimeout = time.Minute
	p, err := service.Start(context.Background(), s)
	if err == nil {
		p.Stop()
		t.Fatal("Start returned no error for a service that cannot import its module")
	}
	msg := err.Error()
	t.Logf("error:\n%s", msg)
	for _, want := range []string{"exit status 1", s.LogPath, "No module named 'nosuchmodule_planrun'"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the error lacks %q", want)
		}
	}
	if got := service.MissingModule(err); got != "nosuchmodule_planrun" {
		t.Errorf("MissingModule = %q, want nosuchmodule_planrun", got)
	}
	noSecret(t, "the error", msg, s)

	// Python 2's wording, and a service that fails for another reason.
	s = spec(t, "sh", "-c", `echo "ImportError: No module named psycopg2" >&2; exit 1`, "sh", "{port}")
	if _, err := service.Start(context.Background(), s); service.MissingModule(err) != "psycopg2" {
		t.Errorf("MissingModule(%v) = %q, want psycopg2", err, service.MissingModule(err))
	}
	s = spec(t, "sh", "-c", `echo "address already in use" >&2; exit 1`, "sh", "{port}")
	if _, err := service.Start(context.Background(), s); err == nil || service.MissingModule(err) != "" {
		t.Errorf("MissingModule(%v) = %q, want none", err, service.MissingModule(err))
	}
}

// TestStartFails: what cannot start says what to do, before anything runs.
func TestStartFails(t *testing.T) {
	t.Run("argv[0] not found", func(t *testing.T) {
		s := spec(t, "planrun-no-such-python3", "-m", "uvicorn", "--port", "{port}", "--token", apiToken)
		_, err := service.Start(context.Background(), s)
		if err == nil || !errors.Is(err, exec.ErrNotFound) {
			t.Fatalf("Start: %v, want exec.ErrNotFound", err)
		}
		for _, want := range []string{`"planrun-no-such-python3" is not found in PATH`, "${PYTHON:-python3}", "target.service.start"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("the error lacks %q: %s", want, err)
			}
		}
		noSecret(t, "the error", err.Error(), s)
	})
	t.Run("no such directory", func(t *testing.T) {
		s := spec(t, "sh", "-c", "exit 0", "sh", "{port}")
		s.Dir = filepath.Join(s.Dir, "missing")
		_, err := service.Start(context.Background(), s)
		if err == nil || !strings.Contains(err.Error(), s.Dir+" (target.service.dir)") {
			t.Fatalf("Start: %v, want the missing directory named", err)
		}
	})
	t.Run("no {port}", func(t *testing.T) {
		_, err := service.Start(context.Background(), spec(t, "sh", "-c", "sleep 60"))
		if err == nil || !strings.Contains(err.Error(), "names no {port}") {
			t.Fatalf("Start: %v, want the missing {port} named", err)
		}
	})
	t.Run("ready path without a slash", func(t *testing.T) {
		s := spec(t, "sh", "-c", "sleep 60", "sh", "{port}")
		s.Ready = "healthz"
		_, err := service.Start(context.Background(), s)
		if err == nil || !strings.Contains(err.Error(), `"healthz" does not begin with '/'`) {
			t.Fatalf("Start: %v", err)
		}
	})
}

// TestCancel: cancelling Start's context stops the service, before it is
// ready and after.
func TestCancel(t *testing.T) {
	py := plainPython(t)
	t.Run("after ready", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		s := spec(t, py, "-m", "http.server", "--bind", "127.0.0.1", "{port}")
		s.Ready = "/"
		p, err := service.Start(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		defer p.Stop()
		pgid := p.PID()
		cancel()
		select {
		case <-p.Exited():
		case <-time.After(2 * service.DefaultStopTimeout):
			t.Fatalf("the service still runs %s after the cancel", 2*service.DefaultStopTimeout)
		}
		if err := p.Stop(); err != nil {
			t.Fatalf("Stop after the cancel: %v", err)
		}
		if err := p.Err(); err != nil {
			t.Fatalf("Err() after a cancel: %v", err)
		}
		assertGone(t, pgid)
	})
	t.Run("before ready", func(t *testing.T) {
		ctx, cancel := context.WithCancelCause(context.Background())
		s := spec(t, "sh", "-c", echoSecrets+`; exec "$0" -m http.server --bind 127.0.0.1 "$1"`, py, "{port}")
		s.Ready = "/nope"
		s.ReadyTimeout = time.Minute
		time.AfterFunc(500*time.Millisecond, func() { cancel(errors.New("interrupted (Ctrl-C)")) })
		began := time.Now()
		_, err := service.Start(ctx, s)
		took := time.Since(began)
		if err == nil || !strings.Contains(err.Error(), "interrupted (Ctrl-C)") || !strings.Contains(err.Error(), s.LogPath) {
			t.Fatalf("Start: %v, want the cancel's cause and the log", err)
		}
		if took >= s.ReadyTimeout/4 {
			t.Errorf("Start returned %s after it began: the cancel did not end the wait (bound %s)", took, s.ReadyTimeout)
		}
		noSecret(t, "the error", err.Error(), s)
		assertGone(t, logPID(t, s.LogPath))
	})
}

// TestStopKills: a service that ignores SIGTERM is killed after StopTimeout.
func TestStopKills(t *testing.T) {
	py := plainPython(t)
	s := spec(t, "sh", "-c", `trap "" TERM; exec "$0" -m http.server --bind 127.0.0.1 "$1"`, py, "{port}")
	s.Ready = "/"
	s.StopTimeout = 500 * time.Millisecond
	p, err := service.Start(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	pgid := p.PID()
	began := time.Now()
	err = p.Stop()
	took := time.Since(began)
	if !errors.Is(err, service.ErrKilled) {
		t.Fatalf("Stop: %v, want ErrKilled", err)
	}
	if took < s.StopTimeout {
		t.Errorf("Stop killed after %s, before the bound %s", took, s.StopTimeout)
	}
	assertGone(t, pgid)
}

// TestDiesWhileRunning: a service that dies after it was ready shows in
// Exited and Err, with the exit and the log.
func TestDiesWhileRunning(t *testing.T) {
	py := plainPython(t)
	s := spec(t, "sh", "-c", echoSecrets+`; exec "$0" -m http.server --bind 127.0.0.1 "$1"`, py, "{port}")
	s.Ready = "/"
	p, err := service.Start(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	if err := syscall.Kill(p.PID(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.Exited():
	case <-time.After(time.Minute):
		t.Fatal("Exited() not closed a minute after SIGKILL")
	}
	err = p.Err()
	if err == nil || !strings.Contains(err.Error(), "signal: killed") || !strings.Contains(err.Error(), s.LogPath) {
		t.Fatalf("Err(): %v, want the signal and the log", err)
	}
	noSecret(t, "Err()", err.Error(), s)
	if err := p.Stop(); err != nil {
		t.Fatalf("Stop after the exit: %v", err)
	}
}

// TestRunningService: with a URL, nothing starts; Start waits for the ready
// path, through 5xx and refused connections, within its bound.
func TestRunningService(t *testing.T) {
	var flaky atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/healthz":
			w.WriteHeader(http.StatusNoContent)
		case "/flaky": // 503 three times, then 200
			if flaky.Add(1) <= 3 {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			fmt.Fprintln(w, "ok")
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()

	t.Run("ready", func(t *testing.T) {
		p, err := service.Start(context.Background(), service.Spec{URL: srv.URL + "/"})
		if err != nil {
			t.Fatal(err)
		}
		if p.URL() != srv.URL || p.PID() != 0 || p.Log() != "" || p.Stop() != nil || p.Err() != nil || p.Exited() != nil {
			t.Fatalf("a running service: URL %q (want %q), PID %d, Log %q, Exited %v", p.URL(), srv.URL, p.PID(), p.Log(), p.Exited())
		}
	})
	t.Run("5xx keeps polling", func(t *testing.T) {
		if _, err := service.Start(context.Background(), service.Spec{URL: srv.URL, Ready: "/flaky"}); err != nil {
			t.Fatal(err)
		}
		if n := flaky.Load(); n != 4 {
			t.Fatalf("/flaky was asked %d times, want 4 (three 503s, then 200)", n)
		}
	})
	t.Run("never ready", func(t *testing.T) {
		u, _ := url.Parse(srv.URL)
		u.User = url.UserPassword("app", dbPass)
		s := service.Spec{URL: u.String(), Ready: "/nope", ReadyTimeout: time.Second}
		_, err := service.Start(context.Background(), s)
		if err == nil {
			t.Fatal("Start returned no error for a ready path that answers 404")
		}
		for _, want := range []string{"/nope did not answer 2xx within 1s", "404 Not Found"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("the error lacks %q: %s", want, err)
			}
		}
		noSecret(t, "the error", err.Error(), service.Spec{DatabaseURL: fakeDBURL})
	})
	t.Run("refused", func(t *testing.T) {
		closed := httptest.NewServer(http.NotFoundHandler())
		closed.Close()
		_, err := service.Start(context.Background(), service.Spec{URL: closed.URL, ReadyTimeout: 500 * time.Millisecond})
		if err == nil || !strings.Contains(err.Error(), "connection refused") {
			t.Fatalf("Start: %v, want the refused connection named", err)
		}
	})
}

// TestSecrets: what the spec says is a secret.
func TestSecrets(t *testing.T) {
	s := service.Spec{
		DatabaseURL: fakeDBURL,
		Env: map[string]string{
			"API_TOKEN": apiToken, "Stripe_Key": "sk-live-1234", "DB_PASSWORD": "hunter22", "client_secret": "c-secret-9",
			"OTHER_DB": "postgres://u:other-pass-5@h/db", "GREETING": "hello", "PORT": "{port}",
		},
	}
	got := strings.Join(s.Secrets(), "\n")
	for _, want := range []string{dbPass, apiToken, "sk-live-1234", "hunter22", "c-secret-9", "other-pass-5"} {
		if !strings.Contains(got, want) {
			t.Errorf("Secrets() lacks %q", want)
		}
	}
	for _, not := range []string{"hello", "{port}"} {
		if strings.Contains(got, not) {
			t.Errorf("Secrets() holds %q, not a secret", not)
		}
	}
}
