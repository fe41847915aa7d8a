package main

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/planrun/planrun/engine/localpg/localpgtest"
	"github.com/planrun/planrun/internal/pystack"
)

// redactPlan is a light plan on ${DATABASE_URL}; extra is added at the top
// level (setup, teardown).
func redactPlan(t *testing.T, extra string) string {
	t.Helper()
	text := `version: 1
name: redact
target:
  url: ${DATABASE_URL}
  application_name: planrun-cli-test
pool:
  size: 2
  max_overflow: 0
  timeout: 5s
  connect_timeout: 3s
mixes:
  app:
    - name: ping
      sql: SELECT 1
scenarios:
  - name: steady
    users: 2
    duration: 1s
assertions:
  - name: some operations ran
    check: ops > 0
` + extra
	path := filepath.Join(t.TempDir(), "redact.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// leakCheck runs planrun with args (a plan and flags; --out and
// GITHUB_STEP_SUMMARY are added) and fails the test if any 4-character
// piece of any of secrets appears on stdout, on stderr, in a report file
// or in the job summary. It returns the result for further checks.
func leakCheck(t *testing.T, secrets []string, args ...string) result {
	t.Helper()
	out := t.TempDir()
	summary := filepath.Join(t.TempDir(), "summary.md")
	t.Setenv("GITHUB_STEP_SUMMARY", summary)
	r := planrun(t, append(args, "--out", out)...)
	outputs := map[string]string{"stdout": r.stdout, "stderr": r.stderr}
	files, _ := filepath.Glob(filepath.Join(out, "*"))
	files = append(files, summary)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			if f == summary && r.code == ExitUsage {
				continue // the plan did not load: no run, no summary
			}
			t.Error(err)
			continue
		}
		// Encoded histograms are base64 of counts: by chance they spell
		// 4-character pieces of a password ("3DCh"), never the password.
		outputs[filepath.Base(f)] = encodedHistogram.ReplaceAllString(string(data), `"histogram": "…"`)
	}
	if r.code != ExitUsage {
		for _, ext := range []string{".json", ".md", ".xml", ".html"} {
			if m, _ := filepath.Glob(filepath.Join(out, "*"+ext)); len(m) != 1 {
				t.Errorf("want one %s report in --out, got %q", ext, m)
			}
		}
	}
	for name, text := range outputs {
		for _, secret := range secrets {
			if piece, at := leakedPiece(text, secret); at >= 0 {
				t.Errorf("%s shows %q, a piece of the password %q:\n…%s…", name, piece, secret, text[max(0, at-100):min(len(text), at+len(piece)+40)])
			}
		}
	}
	return r
}

// encodedHistogram matches a JSON report's encoded histogram field.
var encodedHistogram = regexp.MustCompile(`"histogram": ?"[A-Za-z0-9+/=]*"`)

// leakedPiece returns the first 4-byte piece of secret found in text and
// where, or -1. The piece is searched for as written and URL-encoded.
func leakedPiece(text, secret string) (string, int) {
	for _, s := range []string{secret, url.QueryEscape(secret), pctEncode(secret)} {
		for i := 0; i+4 <= len(s); i++ {
			if at := strings.Index(text, s[i:i+4]); at >= 0 {
				return s[i : i+4], at
			}
		}
	}
	return "", -1
}

// pctEncode percent-encodes every byte of s but letters and digits.
func pctEncode(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// testTarget is the test server's address, from its DSN.
type testTarget struct{ host, port, user, db string }

func target(t *testing.T) testTarget {
	t.Helper()
	u, err := url.Parse(localpgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	if u.User == nil || u.Hostname() == "" {
		t.Skip("the test server's DSN is not a URL with a user and host")
	}
	if _, has := u.User.Password(); has {
		t.Skip("the test server's DSN has a password of its own (PLANRUN_TEST_DATABASE_URL)")
	}
	return testTarget{u.Hostname(), u.Port(), u.User.Username(), strings.TrimPrefix(u.Path, "/")}
}

// passwordServer listens on 127.0.0.1 like a PostgreSQL server that asks
// every client for a cleartext password and then refuses it. When echo is
// set, its error message quotes the password it was sent, as a badly written
// proxy might. It returns the port.
func passwordServer(t *testing.T, echo bool) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go refusePassword(conn, echo)
		}
	}()
	return fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
}

func refusePassword(conn net.Conn, echo bool) {
	defer conn.Close()
	be := pgproto3.NewBackend(conn, conn)
	for {
		msg, err := be.ReceiveStartupMessage()
		if err != nil {
			return
		}
		switch msg.(type) {
		case *pgproto3.SSLRequest, *pgproto3.GSSEncRequest:
			if _, err := conn.Write([]byte("N")); err != nil {
				return
			}
			continue
		}
		break
	}
	be.Send(&pgproto3.AuthenticationCleartextPassword{})
	if be.Flush() != nil {
		return
	}
	if be.SetAuthType(pgproto3.AuthTypeCleartextPassword) != nil {
		return
	}
	msg, err := be.Receive()
	if err != nil {
		return
	}
	e := &pgproto3.ErrorResponse{Severity: "FATAL", Code: "28P01", Message: `password authentication failed for user "app"`}
	if pm, ok := msg.(*pgproto3.PasswordMessage); ok && echo {
		e.Code = "XX000"
		e.Message = fmt.Sprintf("rejected password %s (%q)", pm.Password, pm.Password)
	}
	be.Send(e)
	_ = be.Flush()
}

// TestNoPasswordAnywhere runs the real command with a password in every
// shape a DSN can hold one, valid or not, connecting or not, and checks
// that no piece of it reaches stdout, stderr, a report file or the job
// summary, in every format.
func TestNoPasswordAnywhere(t *testing.T) {
	tt := target(t)
	hostPort := net.JoinHostPort(tt.host, tt.port)
	down := fmt.Sprint(closedPort(t))
	auth := passwordServer(t, false)
	echo := passwordServer(t, true)
	kv := func(port, pw string) string {
		return fmt.Sprintf("host=%s port=%s user=%s dbname=%s sslmode=disable connect_timeout=3 %s", tt.host, port, tt.user, tt.db, pw)
	}
	const special = `Sp3c !@:/?#%&'\=Ch4rs`

	cases := []struct {
		name     string
		dsn      string
		password string
		want     int
		pgpass   string // PGPASSWORD, when set
	}{
		// The embedded test server trusts every local connection: these connect and run.
		{"url encoded special characters", fmt.Sprintf("postgres://%s:%s@%s/%s?sslmode=disable", tt.user, pctEncode(special), hostPort, tt.db), special, ExitApproved, ""},
		{"url user info encoded", fmt.Sprintf("postgres://%s@%s/%s?sslmode=disable", url.UserPassword(tt.user, special), hostPort, tt.db), special, ExitApproved, ""},
		{"key=value with &", kv(tt.port, "password=Pw&Lq9Zz7"), "Pw&Lq9Zz7", ExitApproved, ""},
		{"key=value quoted", kv(tt.port, `password='Qu0 ted\'Pw'`), "Qu0 ted'Pw", ExitApproved, ""},
		{"key=value escaped space", kv(tt.port, `password=Ek7\ Vq9Pw`), "Ek7 Vq9Pw", ExitApproved, ""},
		{"key=value sslpassword", kv(tt.port, "sslpassword=Sk9Zq7Wx"), "Sk9Zq7Wx", ExitApproved, ""},
		{"query password", fmt.Sprintf("postgres://%s@%s/%s?sslmode=disable&password=%s", tt.user, hostPort, tt.db, url.QueryEscape(special)), special, ExitApproved, ""},
		{"query options percent-encoded", fmt.Sprintf("postgres://%s@%s/%s?sslmode=disable&options=-c%%20app.password%%3DOptSecret31", tt.user, hostPort, tt.db), "OptSecret31", ExitApproved, ""},
		{"query options unencoded", fmt.Sprintf("postgres://%s@%s/%s?sslmode=disable&options=-c app.password=OptSecret32", tt.user, hostPort, tt.db), "OptSecret32", ExitCouldNotRun, ""},
		// Malformed: pgx cannot parse them, and its own message is best effort.
		{"url unencoded spaces", fmt.Sprintf("postgres://%s:Gh4 Wq ze Mn8@%s/%s?sslmode=disable", tt.user, hostPort, tt.db), "Gh4 Wq ze Mn8", ExitCouldNotRun, ""},
		{"url unencoded @ : / # ?", fmt.Sprintf("postgres://%s:Xq7@Zz:9/Kk%%2Fw#Vv?Ll@%s/%s", tt.user, hostPort, tt.db), "Xq7@Zz:9/Kk%2Fw#Vv?Ll", ExitCouldNotRun, ""},
		{"url unencoded, long tail", fmt.Sprintf("postgres://%s:Xq7@Zz:9/Kk#Vv?LqTz9Wk@%s/%s", tt.user, hostPort, tt.db), "Xq7@Zz:9/Kk#Vv?LqTz9Wk", ExitCouldNotRun, ""},
		{"key=value unbalanced quote", kv(tt.port, "password='Ub4Qz7nk"), "Ub4Qz7nk", ExitCouldNotRun, ""},
		{"key=value unquoted space", kv(tt.port, "password=Sp4ce Sep4r8tqd"), "Sp4ce Sep4r8tqd", ExitCouldNotRun, ""},
		{"query PASSWORD upper case", fmt.Sprintf("postgres://%s@%s/%s?sslmode=disable&PASSWORD=Uq9Wz7Pk", tt.user, hostPort, tt.db), "Uq9Wz7Pk", ExitCouldNotRun, ""},
		// Refused or unreachable.
		{"wrong password", fmt.Sprintf("postgres://app:%s@127.0.0.1:%s/app?sslmode=disable", pctEncode(special), auth), special, ExitCouldNotRun, ""},
		{"wrong password key=value", kv(auth, "password='Wr0ng Pw&x'"), "Wr0ng Pw&x", ExitCouldNotRun, ""},
		{"server echoes the password", fmt.Sprintf("postgres://app:%s@127.0.0.1:%s/app?sslmode=disable", pctEncode(special), echo), special, ExitCouldNotRun, ""},
		{"unreachable host", fmt.Sprintf("postgres://%s:%s@127.0.0.1:%s/%s?sslmode=disable&connect_timeout=2", tt.user, pctEncode(special), down, tt.db), special, ExitCouldNotRun, ""},
		{"any key holding password", kv(tt.port, "x_password=Xp9Wq7Zk"), "Xp9Wq7Zk", ExitCouldNotRun, ""},
		{"PGPASSWORD echoed by the server", fmt.Sprintf("postgres://app@127.0.0.1:%s/app?sslmode=disable", echo), "Env7Pw9Qz", ExitCouldNotRun, "Env7Pw9Qz"},
		{"unknown host", fmt.Sprintf("postgres://%s:%s@no-such-host.invalid:5432/%s?connect_timeout=2", tt.user, pctEncode(special), tt.db), special, ExitCouldNotRun, ""},
	}
	p := redactPlan(t, "")
	formats := []string{"table", "json", "markdown", "junit"}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("DATABASE_URL", c.dsn)
			if c.pgpass != "" {
				t.Setenv("PGPASSWORD", c.pgpass)
			}
			format := formats[i%len(formats)]
			// Not --quiet: the progress and pipeline lines on stderr count too.
			r := leakCheck(t, []string{c.password}, p, "--format", format, "--time-scale", "0.3")
			if r.code != c.want {
				t.Errorf("want exit %d, got %s", c.want, r)
			}
			// preflight prints too.
			pf := planrun(t, "preflight", p, "--format", formats[(i+1)%len(formats)])
			for name, text := range map[string]string{"preflight stdout": pf.stdout, "preflight stderr": pf.stderr} {
				if piece, at := leakedPiece(text, c.password); at >= 0 {
					t.Errorf("%s shows %q of %q:\n%s", name, piece, c.password, text)
				}
			}
			if testing.Verbose() {
				t.Logf("exit %d\n%s", r.code, r.stderr)
			}
		})
	}
}

// TestNoPasswordFromSetupSQL: a setup that creates a role with a password
// and then fails, and a teardown statement that fails with a password in it:
// the password is in no output.
func TestNoPasswordFromSetupSQL(t *testing.T) {
	useDB(t)
	role := fmt.Sprintf("planrun_redact_%d", os.Getpid())
	p := redactPlan(t, fmt.Sprintf(`setup:
  - CREATE ROLE %[1]s PASSWORD 'S3cretPw'
  - ALTER ROLE %[1]s WITH ENCRYPTED PASSWORD 'An0therPw' VALID UNTIL 'infinity'
  - CREATE ROLE %[1]s PASSWORD 'S3cretPw'
teardown:
  - DROP ROLE IF EXISTS %[1]s
  - ALTER USER %[1]s_missing PASSWORD 'T3qZw9Pk'
  - ALTER USER %[1]s_missing PASSWORD /* c */ 'CmtSecret11'
  - |
    ALTER USER %[1]s_missing PASSWORD--c
    'DashSecret18'
  - SELECT set_config('app.password', 'GucSecret22', false) FROM planrun_no_such_table
  - ALTER ROLE %[1]s_missing SET app.password TO 'SetSecret24'
`, role))
	for _, format := range []string{"table", "json", "markdown", "junit"} {
		t.Run(format, func(t *testing.T) {
			r := leakCheck(t, []string{"S3cretPw", "An0therPw", "T3qZw9Pk", "CmtSecret11", "DashSecret18", "GucSecret22", "SetSecret24"}, p, "--format", format)
			if r.code != ExitCouldNotRun {
				t.Errorf("want exit %d, got %s", ExitCouldNotRun, r)
			}
			if !strings.Contains(r.stderr, "already exists") || !strings.Contains(r.stderr, "does not exist") {
				t.Errorf("the setup and teardown errors should still be shown:\n%s", r.stderr)
			}
			if testing.Verbose() {
				t.Logf("%s", r.stderr)
			}
		})
	}
}

// TestNoExpandedValueInPlanErrors: ${DATABASE_URL} used where a number
// belongs is reported without its expanded password.
func TestNoExpandedValueInPlanErrors(t *testing.T) {
	for _, c := range []struct{ name, dsn string }{
		{"url with spaces", "postgres://app:Gh4 Wq ze Mn8@db/app"},
		{"url with @ : / # ?", "postgres://app:Xq7@Zz:9/Kk%2Fw#Vv?Ll@db/app"},
		{"key=value with &", "host=db password=Pw&Lq9Zz7"},
		{"key=value quoted", "host=db password='Qu0 ted\\'Pw'"},
	} {
		dsn := c.dsn
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("DATABASE_URL", dsn)
			p := redactPlan(t, "")
			text, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			bad := strings.Replace(string(text), "application_name: planrun-cli-test", "replicas: ${DATABASE_URL}", 1)
			if err := os.WriteFile(p, []byte(bad), 0o644); err != nil {
				t.Fatal(err)
			}
			pw := redactedPasswordOf(dsn)
			for _, args := range [][]string{{"validate", p}, {"run", p}, {"preflight", p}} {
				r := planrun(t, args...)
				if r.code != ExitUsage || !strings.Contains(r.stderr, "replicas") {
					t.Errorf("%s: want exit %d naming replicas, got %s", args[0], ExitUsage, r)
				}
				if piece, at := leakedPiece(r.stdout+r.stderr, pw); at >= 0 {
					t.Errorf("%s shows %q of %q:\n%s", args[0], piece, pw, r)
				}
			}
		})
	}
}

// redactedPasswordOf names the password of the DSNs above.
func redactedPasswordOf(dsn string) string {
	for _, pw := range []string{"Gh4 Wq ze Mn8", "Xq7@Zz:9/Kk%2Fw#Vv?Ll", "Pw&Lq9Zz7", "Qu0 ted'Pw"} {
		if strings.Contains(strings.ReplaceAll(dsn, `\'`, "'"), pw) {
			return pw
		}
	}
	panic("no password in " + dsn)
}

// TestNoServiceSecretAnywhere extends the password matrix to the service
// under test: planrun starts the reference service with a database URL
// holding a password (handed over through its proxy), a secret in its env
// and a bearer token in a request header. No piece of any of them reaches
// stdout, stderr, a report file, the service's log or the job summary, in
// any format.
func TestNoServiceSecretAnywhere(t *testing.T) {
	py, err := pystack.Find(pystack.Service, pystack.ServiceDebs, pystack.ServicePips)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	tt := target(t)
	const (
		password = `Sv9 !@:/?#%&Pw`
		token    = "Tk7Qz9Wv3Xp"
		envKey   = "Ek4Rz8Mq2Ln"
	)
	serviceDir, err := filepath.Abs(filepath.Join("..", "..", "examples", "service"))
	if err != nil {
		t.Fatal(err)
	}
	text := fmt.Sprintf(`version: 1
name: redact-service
target:
  url: ${DATABASE_URL}
  service:
    start: [sh, serve.sh, "{port}"]
    dir: %s
    env: {POOL_SIZE: "2", POOL_MAX_OVERFLOW: "0", ACCOUNTS: "10", API_SECRET_KEY: "${SKEY}"}
pool: {size: 2, max_overflow: 0}
mixes:
  api:
    - name: balance
      http: GET /accounts/$1/balance
      args: [randInt(1, 10)]
      headers: {Authorization: "Bearer ${TOKEN}"}
scenarios:
  - {name: steady, rate: 10/s, duration: 1s}
`, serviceDir)
	path := filepath.Join(t.TempDir(), "redact-service.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DATABASE_URL", fmt.Sprintf("postgres://%s:%s@%s/%s?sslmode=disable", tt.user, pctEncode(password), net.JoinHostPort(tt.host, tt.port), tt.db))
	t.Setenv("TOKEN", token)
	t.Setenv("SKEY", envKey)
	t.Setenv("PYTHON", py)
	for _, format := range []string{"table", "json", "markdown", "junit"} {
		t.Run(format, func(t *testing.T) {
			r := leakCheck(t, []string{password, token, envKey}, path, "--format", format)
			if r.code != ExitApproved {
				t.Errorf("want exit %d, got %s", ExitApproved, r)
			}
		})
	}
}
