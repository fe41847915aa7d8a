package schema_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/planrun/planrun/engine/service"
	"github.com/planrun/planrun/internal/httpop"
	"github.com/planrun/planrun/schema"
)

// TestServicePlan loads a plan with a service planrun starts and http
// operations, and checks every value, the defaults included.
func TestServicePlan(t *testing.T) {
	p, err := schema.Load("testdata/service.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := p.Target.Service
	if s == nil {
		t.Fatal("target.service is nil")
	}
	wantDir, _ := filepath.Abs("testdata/service")
	tests := []struct {
		name      string
		got, want any
	}{
		{"url (APPLICATION_URL unset)", s.URL, ""},
		{"start", s.Start, []string{"python3", "-m", "uvicorn", "app:app", "--port", "{port}"}},
		{"dir, absolute, relative to the plan file", s.Dir, wantDir},
		{"env, a number as its text", s.Env, map[string]string{"POOL_SIZE": "20", "POOL_MAX_OVERFLOW": "30", "POOL_TIMEOUT": "30"}},
		{"database_env default", s.DatabaseEnv, "DATABASE_URL"},
		{"ready default", s.Ready, "/healthz"},
		{"processes default", s.Processes, 1},
		{"application_name default", s.ApplicationName, "planrun-service-service"},
		{"start position", s.StartPos.String(), "testdata/service.yaml:9:12"},
		{"balance method", p.Mixes["api"][0].Method(), "GET"},
		{"balance path", p.Mixes["api"][0].Path(), "/accounts/$1/balance"},
		{"balance expect", p.Mixes["api"][0].Expect, []int{200}},
		{"balance timeout", p.Mixes["api"][0].Timeout.D(), 10 * time.Second},
		{"balance http position", p.Mixes["api"][0].HTTPPos.String(), "testdata/service.yaml:19:13"},
		{"transfer headers", p.Mixes["api"][1].Headers, map[string]string{"Content-Type": "application/json"}},
		{"transfer body", p.Mixes["api"][1].Body, `{"from": $1, "to": $2, "amount": 5}`},
		{"transfer timeout unset", p.Mixes["api"][1].Timeout.D(), time.Duration(0)},
		{"report is sql", p.Mixes["api"][2].Method(), ""},
		{"report hold range", p.Mixes["api"][2].Hold, schema.DurationRange{Min: 10 * time.Millisecond, Max: 50 * time.Millisecond}},
	}
	for _, tt := range tests {
		if !reflect.DeepEqual(tt.got, tt.want) {
			t.Errorf("%s = %#v, want %#v", tt.name, tt.got, tt.want)
		}
	}
	// The engine compiles an operation's Template with httpop: the args it
	// needs are those the plan gives.
	for _, op := range p.Mixes["api"][:2] {
		r, err := httpop.Compile(op.Template())
		if err != nil {
			t.Fatalf("%s: httpop.Compile: %v", op.Name, err)
		}
		if r.Args() != len(op.Args) {
			t.Errorf("%s: the request needs %d args, the plan gives %d", op.Name, r.Args(), len(op.Args))
		}
	}
}

// TestServiceDefaultsAgree keeps schema's defaults equal to those the
// packages that run the service apply.
func TestServiceDefaultsAgree(t *testing.T) {
	if schema.DefaultServiceDatabaseEnv != service.DefaultDatabaseEnv || schema.DefaultServiceReady != service.DefaultReady ||
		schema.PortPlaceholder != service.PortPlaceholder {
		t.Errorf("schema's database_env %q, ready %q, {port} %q; engine/service's %q, %q, %q",
			schema.DefaultServiceDatabaseEnv, schema.DefaultServiceReady, schema.PortPlaceholder,
			service.DefaultDatabaseEnv, service.DefaultReady, service.PortPlaceholder)
	}
}

const serviceHead = "version: 1\nname: t\nscenarios:\n  - {name: s, users: 1, duration: 1s}\n"

func TestServiceURL(t *testing.T) {
	src := serviceHead + doc("target:", "  service:", "    url: ${APPLICATION_URL}", "    start: [python3, app.py]",
		"mixes:", "  app:", "    - {name: get, http: GET /}")
	t.Run("set: a running service, start ignored (no {port} needed)", func(t *testing.T) {
		p := mustParse(t, src, map[string]string{"APPLICATION_URL": "http://127.0.0.1:8000"})
		if got := p.Target.Service.URL; got != "http://127.0.0.1:8000" {
			t.Errorf("url = %q", got)
		}
	})
	t.Run("unset: start it, which must name {port}", func(t *testing.T) {
		checkErrors(t, src, nil, []want{{"8:12", "target.service start names no {port}, nor does any env value: planrun cannot tell where the service listens", `"{port}"`}})
	})
	t.Run("unset, {port} in an env value", func(t *testing.T) {
		p := mustParse(t, strings.Replace(src, "app.py]", "app.py]\n    env: {PORT: \"{port}\"}", 1), nil)
		if p.Target.Service.URL != "" || p.Target.Service.Env["PORT"] != "{port}" {
			t.Errorf("url %q, env %v", p.Target.Service.URL, p.Target.Service.Env)
		}
	})
	t.Run("unset and no start", func(t *testing.T) {
		checkErrors(t, strings.Replace(src, "    start: [python3, app.py]\n", "", 1), nil,
			[]want{{"7:10", "target.service needs url or start", "APPLICATION_URL is unset or empty"}})
	})
	t.Run("not a URL, from the environment: named by its variable", func(t *testing.T) {
		checkErrors(t, src, map[string]string{"APPLICATION_URL": "127.0.0.1:8000"},
			[]want{{"7:10", "target.service url (the value of ${APPLICATION_URL}) is not an http:// or https:// URL with a host", "http://127.0.0.1:8000"}})
	})
}

// TestServiceExpansion checks that start, env and header values expand
// ${VAR}, and that a secret's value never appears in a message.
func TestServiceExpansion(t *testing.T) {
	src := serviceHead + doc("target:", "  service:",
		`    start: ["${PYTHON:-python3}", -m, app, --port, "{port}"]`,
		"    env: {API_KEY: '${API_TOKEN}', MODE: fast}",
		"mixes:", "  app:",
		"    - name: get",
		"      http: GET /me",
		"      headers: {Authorization: 'Bearer ${API_TOKEN}', X-Literal: '$${x}'}")
	p := mustParse(t, src, map[string]string{"API_TOKEN": "s3cr3t-t0ken"})
	s, op := p.Target.Service, p.Mixes["app"][0]
	// A $ the variable brings into a header is doubled: it stays literal
	// where $1 would be a placeholder (httpop sends $$ as $).
	if dollar := mustParse(t, src, map[string]string{"API_TOKEN": "s3c$1"}).Mixes["app"][0]; dollar.Headers["Authorization"] != "Bearer s3c$$1" {
		t.Errorf("a token holding $1: header %q, want it escaped as Bearer s3c$$1", dollar.Headers["Authorization"])
	}
	if s.Start[0] != "python3" || s.Env["API_KEY"] != "s3cr3t-t0ken" || s.Env["MODE"] != "fast" {
		t.Errorf("start %q, env %v", s.Start, s.Env)
	}
	if op.Headers["Authorization"] != "Bearer s3cr3t-t0ken" || op.Headers["X-Literal"] != "${x}" {
		t.Errorf("headers %v", op.Headers)
	}
	es := parseErrs(t, src, nil)
	if len(es) != 2 {
		t.Fatalf("got %d errors, want the unset API_TOKEN in env and in the header:\n%v", len(es), es)
	}
	for i, at := range []string{"plan.yaml:8:21", "plan.yaml:13:40"} {
		if es[i].Pos.String() != at || !strings.Contains(es[i].Msg, "environment variable API_TOKEN is not set") {
			t.Errorf("error %d: %v, want at %s", i, es[i], at)
		}
	}
	src = strings.Replace(src, "GET /me", "GET /me/$1", 1)
	es = parseErrs(t, src, map[string]string{"API_TOKEN": "s3cr3t-t0ken\r\nX-Evil: 1"})
	if msg := es.Error(); strings.Contains(msg, "s3cr3t") || !strings.Contains(msg, `header "Authorization"`) || !strings.Contains(msg, "line break") {
		t.Errorf("want the line break in the Authorization header reported, the secret not shown:\n%s", msg)
	}
}

func TestServiceErrors(t *testing.T) {
	mix := func(ops ...string) string { return doc(append([]string{"mixes:", "  app:"}, ops...)...) }
	svc := doc("target:", "  service: {url: 'http://127.0.0.1:1'}")
	tests := []struct {
		name string
		src  string
		want []want
	}{
		{
			name: "http without target.service, reported once",
			src:  serviceHead + mix("    - {name: a, http: GET /a}", "    - {name: b, http: GET /b}"),
			want: []want{{"7:23", "operation `a`: http needs target.service, the service the requests go to", "${APPLICATION_URL}"}},
		},
		{
			name: "sql, transaction and http",
			src:  serviceHead + svc + mix("    - {name: a, transaction: [SELECT 1], http: GET /a}"),
			want: []want{{"9:@GET", "operation `a` has both transaction and http", "not several"}},
		},
		{
			name: "a hold range above the limit, and a range inverted",
			src: serviceHead + mix("    - {name: a, sql: SELECT 1, hold: 1s..25h}",
				"    - {name: b, sql: SELECT 1, hold: 50ms..10ms}"),
			want: []want{
				{"7:@1s..", "hold 25h is longer than 24h", "at most 24h"},
				{"8:@50ms", "hold: minimum 50ms is greater than maximum 10ms", "10ms..50ms"},
			},
		},
		{
			name: "headers a list, expect a number, body a mapping",
			src:  serviceHead + svc + mix("    - {name: a, http: POST /a, headers: [X-A], expect: 200, body: {a: 1}}"),
			want: []want{
				{"9:@[X-A]", "headers must be a mapping of names to strings, got a list", "write `headers: {NAME: value}`"},
				{"9:@200", "expect must be a list, got integer 200", ""},
				{"9:@{a: 1}", "body must be a string, got a mapping", ""},
			},
		},
		{
			name: "a header value not a string",
			src:  serviceHead + svc + mix("    - {name: a, http: GET /a, headers: {X-A: [1]}}"),
			want: []want{{"9:@[1]", "headers X-A must be a string, got a list", ""}},
		},
		{
			name: "service keys at once: database_env in env, processes and application_name",
			src: serviceHead + doc("target:", "  service:", "    start: [app, \"{port}\"]", "    env: {DATABASE_URL: x}",
				"    processes: 10001", "    application_name: "+strings.Repeat("a", 64)) + mix("    - {name: a, http: GET /a}"),
			want: []want{
				{"8:11", "target.service env sets DATABASE_URL, the variable planrun hands the database URL in", "remove it"},
				{"9:16", "target.service processes must be at most 10,000, got 10,001", "capacity check"},
				{"10:23", "target.service application_name is longer than 63 bytes", "63 bytes"},
			},
		},
		{
			name: "processes too large to read, from the environment, and a timeout too long",
			src: serviceHead + doc("target:", "  service: {url: 'http://h', processes: 99999999999}") +
				mix("    - {name: a, http: GET /a, timeout: 25h, expect: []}"),
			want: []want{
				{"6:@99999999999", "processes: integer 99999999999 is out of range", "processes is from 1 to 10,000"},
				{"9:@25h", "operation `a`: timeout 25h is longer than 24h", ""},
				{"9:@[]", "operation `a`: expect is empty", "any 2xx"},
			},
		},
		{
			name: "other tools' spellings of an HTTP operation and of the service",
			src: serviceHead + doc("target:", "  application_url: http://h") +
				mix("    - {name: a, method: GET, url: /a, status: 200}"),
			want: []want{
				{"6:3", "unknown key `application_url` in target", "write `service: {url: ${APPLICATION_URL}}`"},
				{"9:7", "operation `a` needs sql, transaction or http", "`http: METHOD PATH`"},
				{"9:@method", "unknown key `method` in operation", "`http: METHOD PATH`"},
				{"9:@url", "unknown key `url` in operation", "`http: METHOD PATH`"},
				{"9:@status", "unknown key `status` in operation", "`expect: [200]`"},
			},
		},
		{
			name: "an unknown service key",
			src:  serviceHead + doc("target:", "  service: {url: 'http://h', ready_path: /up}") + mix("    - {name: a, http: GET /a}"),
			want: []want{{"6:@ready_path", "unknown key `ready_path` in target.service", "valid keys: `application_name`, `database_env`"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkErrors(t, tt.src, nil, tt.want) })
	}
}

func TestServiceApplicationName(t *testing.T) {
	for _, name := range []string{"", "checkout", strings.Repeat("x", 200)} {
		got := schema.ServiceApplicationNameFor(name)
		if !strings.HasPrefix(got, "planrun-") || !strings.HasSuffix(got, "-service") || len(got)+len("-1000of1000") > 63 {
			t.Errorf("ServiceApplicationNameFor(%.10q…) = %q (%d bytes): want planrun-…-service, room for a segment suffix in 63 bytes", name, got, len(got))
		}
		if got == schema.ApplicationNameFor(name) {
			t.Errorf("the service's name %q is the pool's", got)
		}
	}
	if got := schema.ServiceApplicationNameFor("checkout"); got != "planrun-checkout-service" {
		t.Errorf("ServiceApplicationNameFor(checkout) = %q", got)
	}
}

// TestServiceDirDefault: without dir, start runs in the plan file's
// directory, whatever planrun's working directory.
func TestServiceDirDefault(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "plan.yaml")
	src := serviceHead + doc("target:", "  service: {start: [app, \"{port}\"]}", "mixes:", "  app:", "    - {name: a, http: GET /a}")
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := schema.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	if p.Target.Service.Dir != dir {
		t.Errorf("dir = %q, want the plan's directory %q", p.Target.Service.Dir, dir)
	}
}
