package httpop

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/planrun/planrun/internal/redact"
)

func compile(t *testing.T, tmpl Template) *Request {
	t.Helper()
	r, err := Compile(tmpl)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestCompileRefusesWhatCannotBeSent(t *testing.T) {
	for _, c := range []struct {
		name string
		t    Template
		want string
	}{
		{"lower-case method", Template{Method: "get", Path: "/"}, "method"},
		{"relative path", Template{Method: "GET", Path: "accounts"}, "starts with /"},
		{"status out of range", Template{Method: "GET", Path: "/", Expect: []int{200, 99}}, "99 is not an HTTP status"},
		{"line break in a header", Template{Method: "GET", Path: "/", Headers: map[string]string{"X-A": "a\r\nX-B: b"}}, "line break"},
		{"negative timeout", Template{Method: "GET", Path: "/", Timeout: -time.Second}, "positive"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Compile(c.t)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Compile: %v, want an error saying %q", err, c.want)
			}
		})
	}
}

func TestArgsAreWrittenForWhereTheyStand(t *testing.T) {
	r := compile(t, Template{
		Method:  "POST",
		Path:    "/accounts/$1/balance?note=$2&n=$3",
		Headers: map[string]string{"X-Request-Tag": "tag-$3"},
		Body:    `{"name": $2, "amount": $3, "memo": $4, "at": $5}`,
	})
	if r.Args() != 5 {
		t.Fatalf("Args() = %d, want 5", r.Args())
	}
	at := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	req, err := r.Build(context.Background(), "http://svc:8000/", []any{"a b/c", `he said "hi" & left`, 42, nil, at})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := req.URL.EscapedPath(), "/accounts/a%20b%2Fc/balance"; got != want {
		t.Errorf("path %q, want %q", got, want)
	}
	if got := req.URL.Query().Get("note"); got != `he said "hi" & left` {
		t.Errorf("query note=%q: the & was not escaped", got)
	}
	if got := req.Header.Get("X-Request-Tag"); got != "tag-42" {
		t.Errorf("header %q, want tag-42", got)
	}
	if got := req.Header.Get("Content-Type"); got != "application/json" {
		t.Errorf("a JSON body without a Content-Type header: Content-Type %q", got)
	}
	b, _ := io.ReadAll(req.Body)
	var body map[string]any
	if err := json.Unmarshal(b, &body); err != nil {
		t.Fatalf("the body %s is not JSON: %v", b, err)
	}
	if body["name"] != `he said "hi" & left` || body["amount"] != 42.0 || body["memo"] != nil || body["at"] != "2026-12-07T10:00:00Z" {
		t.Errorf("body %s: each arg must be its JSON value", b)
	}
}

// TestDoubledDollarIsLiteral: `$$` sends one `$` and is no placeholder,
// so a header can carry `$1` as written (and a secret holding it is
// redacted as it is sent).
func TestDoubledDollarIsLiteral(t *testing.T) {
	r := compile(t, Template{Method: "GET", Path: "/price/$$$1", Headers: map[string]string{"X-Api-Key": "k3y$$1-value", "X-Tag": "t-$1-$$2"}})
	if r.Args() != 1 {
		t.Fatalf("Args() = %d, want 1: only the path's $1 and X-Tag's $1 are placeholders", r.Args())
	}
	req, err := r.Build(context.Background(), "http://svc/", []any{7})
	if err != nil {
		t.Fatal(err)
	}
	if got := req.URL.Path; got != "/price/$7" {
		t.Errorf("path %q, want /price/$7", got)
	}
	if key, tag := req.Header.Get("X-Api-Key"), req.Header.Get("X-Tag"); key != "k3y$1-value" || tag != "t-7-$2" {
		t.Errorf("headers X-Api-Key %q, X-Tag %q: want k3y$1-value and t-7-$2", key, tag)
	}
	if s := r.Secrets(); len(s) != 1 || s[0] != "k3y$1-value" {
		t.Errorf("secrets %q: want the key as it is sent", s)
	}
}

func TestArgsThatCannotBeWrittenAreArgsErrors(t *testing.T) {
	r := compile(t, Template{Method: "GET", Path: "/accounts/$1"})
	if _, err := r.Build(context.Background(), "http://svc", []any{nil}); err == nil || !strings.Contains(err.Error(), "null") {
		t.Errorf("a null in the path: %v", err)
	}
	if _, err := r.Build(context.Background(), "http://svc", nil); err == nil || !strings.Contains(err.Error(), "needs 1 args") {
		t.Errorf("too few args: %v", err)
	}
	h := compile(t, Template{Method: "GET", Path: "/", Headers: map[string]string{"X-A": "$1"}})
	if _, err := h.Build(context.Background(), "http://svc", []any{"a\nb"}); err == nil || !strings.Contains(err.Error(), "line break") {
		t.Errorf("a line break in a header arg: %v", err)
	}
	o := h.Do(context.Background(), NewClient(1), "http://127.0.0.1:1", []any{"a\nb"}, nil)
	if o.Category != "args" {
		t.Errorf("Do with an arg that cannot be written: category %q, want args", o.Category)
	}
}

// service answers by path, as a service under test would.
func service(t *testing.T) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "fine") })
	mux.HandleFunc("/created", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusCreated) })
	mux.HandleFunc("/missing", http.NotFound)
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/ok", http.StatusFound) })
	mux.HandleFunc("/timeout", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, "pool timeout: QueuePool limit of size 4 overflow 4 reached, connection timed out, timeout 2.00\nTraceback (most recent call last):\n")
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, "bad token "+r.Header.Get("Authorization")+" \x1b[31m"+strings.Repeat("x", 500))
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	})
	s := httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

func TestOutcomesAreCategorised(t *testing.T) {
	s := service(t)
	c := NewClient(4)
	for _, tc := range []struct {
		path     string
		expect   []int
		status   int
		category string
		sample   string
	}{
		{"/ok", nil, 200, "", ""},
		{"/missing", nil, 404, Err4xx, "GET /missing: 404 404 page not found"},
		{"/missing", []int{200, 404}, 404, "", ""},
		{"/timeout", nil, 503, Err5xx, "GET /timeout: 503 pool timeout: QueuePool limit of size 4 overflow 4 reached, connection timed out, timeout 2.00"},
		{"/created", []int{200}, 201, ErrOther, "GET /created: 201, not among the expected statuses [200]"},
		{"/moved", nil, 302, ErrOther, "GET /moved: 302, not among the expected statuses 2xx"},
	} {
		r := compile(t, Template{Method: "GET", Path: tc.path, Expect: tc.expect})
		o := r.Do(context.Background(), c, s.URL, nil, nil)
		if o.Status != tc.status || o.Category != tc.category || o.Sample != tc.sample {
			t.Errorf("GET %s expect %v: %+v, want status %d category %q sample %q", tc.path, tc.expect, o, tc.status, tc.category, tc.sample)
		}
	}
}

func TestTimeoutConnectAndStop(t *testing.T) {
	s := service(t)
	c := NewClient(2)
	const timeout = 200 * time.Millisecond
	slow := compile(t, Template{Method: "GET", Path: "/slow", Timeout: timeout})
	start := time.Now()
	o := slow.Do(context.Background(), c, s.URL, nil, nil)
	if took := time.Since(start); o.Category != ErrTimeout || took < timeout {
		t.Errorf("a response slower than the timeout: %+v after %s, want %s after at least %s", o, took, ErrTimeout, timeout)
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	l.Close()
	if o := compile(t, Template{Method: "GET", Path: "/"}).Do(context.Background(), c, closed, nil, nil); o.Category != ErrConnect || o.Status != 0 {
		t.Errorf("a closed port: %+v, want %s", o, ErrConnect)
	}

	stop, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	long := compile(t, Template{Method: "GET", Path: "/slow", Timeout: 5 * time.Second})
	if o := long.Do(stop, c, s.URL, nil, nil); o.Category != ErrStopped {
		t.Errorf("a request cut short by the run's stop: %+v, want %s", o, ErrStopped)
	}
}

func TestSecretsNeverShow(t *testing.T) {
	const token = "Bearer s3cr3t-t0ken-value"
	s := service(t)
	r := compile(t, Template{Method: "GET", Path: "/echo", Headers: map[string]string{"Authorization": token, "X-Api-Key": "k3y-value-1234", "Accept": "text/plain"}})
	if got := r.String(); strings.Contains(got, "s3cr3t") || strings.Contains(got, "k3y-value") || !strings.Contains(got, "Accept: text/plain") {
		t.Errorf("String() = %q: secret header values must be masked, others shown", got)
	}
	o := r.Do(context.Background(), NewClient(1), s.URL, nil, redact.New(r.Secrets()...))
	if o.Category != Err5xx {
		t.Fatalf("outcome %+v", o)
	}
	if strings.Contains(o.Sample, "s3cr3t") {
		t.Errorf("the service echoed the token and the sample shows it: %q", o.Sample)
	}
	if strings.Contains(o.Sample, "\x1b") || len(o.Sample) > maxSample+len("…") {
		t.Errorf("sample %q: control characters must be escaped and the length bounded to %d", o.Sample, maxSample)
	}
	for _, name := range []string{"Authorization", "cookie", "X-Auth-Token", "X-API-KEY", "client_secret", "Db-Password"} {
		if !SecretHeader(name) {
			t.Errorf("SecretHeader(%q) = false", name)
		}
	}
	if SecretHeader("Accept") || SecretHeader("Content-Type") {
		t.Error("an ordinary header counted as a secret")
	}
}
