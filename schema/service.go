package schema

// The service under test (target.service) and the HTTP operations that go
// to it: their defaults, their checks, and how the engine reads them. The
// HTTP rules themselves (method, path, headers, expect, timeout, the $n of
// args) are internal/httpop's: the checks here call httpop.Compile on each
// part of an operation, so that each problem is reported at its own
// position and a rule is written once.

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/planrun/planrun/internal/httpop"
	"github.com/planrun/planrun/internal/humanize"
)

// PortPlaceholder is replaced, in target.service.start and env values, by
// the free port planrun picks for a service it starts (engine/service's
// PortPlaceholder).
const PortPlaceholder = "{port}"

// Method is the method of an HTTP operation's `http: METHOD PATH`; "" when
// the operation is not one.
func (op *Operation) Method() string { m, _ := splitHTTP(op.HTTP); return m }

// Path is the path of an HTTP operation's `http: METHOD PATH`, with its $n;
// "" when the operation is not one.
func (op *Operation) Path() string { _, p := splitHTTP(op.HTTP); return p }

// Template is an HTTP operation as internal/httpop compiles it.
func (op *Operation) Template() httpop.Template {
	return httpop.Template{Method: op.Method(), Path: op.Path(), Headers: op.Headers, Body: op.Body,
		Expect: op.Expect, Timeout: op.Timeout.D()}
}

// splitHTTP splits `METHOD PATH` at its blanks; both are "" unless there
// are exactly two words.
func splitHTTP(s string) (method, path string) {
	f := strings.Fields(s)
	if len(f) != 2 {
		return "", ""
	}
	return f[0], f[1]
}

// serviceDefaults fills target.service's defaults and resolves its dir
// against the plan file's directory, to an absolute path.
func serviceDefaults(p *Plan, m *meta) {
	s := p.Target.Service
	if s == nil {
		return
	}
	setIfAbsent(m, &s.DatabaseEnv, DefaultServiceDatabaseEnv)
	setIfAbsent(m, &s.Ready, DefaultServiceReady)
	setIfAbsent(m, &s.Processes, DefaultServiceProcesses)
	setIfAbsent(m, &s.ApplicationName, ServiceApplicationNameFor(p.Name))
	m.serviceDir = s.Dir
	dir := s.Dir
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(filepath.Dir(p.File), dir)
	}
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	s.Dir = dir
}

// service checks target.service.
func (v *validator) service() {
	s := v.p.Target.Service
	if s == nil || !v.m.ok(s) {
		return
	}
	v.serviceURL(s)
	v.check(!envName.MatchString(s.DatabaseEnv), &s.DatabaseEnv, s.Pos,
		"it names the environment variable that hands the service its database URL, e.g. `DATABASE_URL`: letters, digits and _, not starting with a digit",
		"target.service database_env %s is not a variable name", v.shownText(&s.DatabaseEnv))
	v.check(!strings.HasPrefix(s.Ready, "/"), &s.Ready, s.Pos,
		"it is a path on the service, polled with GET until it answers 2xx, e.g. `/healthz`",
		"target.service ready %s must begin with /", v.shownText(&s.Ready))
	v.check(s.Processes < 1, &s.Processes, s.Pos, "the number of pools the service runs (workers × pools per worker); 1 for one process with one engine",
		"target.service processes must be ≥ 1, got %s", v.shown(&s.Processes))
	v.atMost(&s.Processes, MaxReplicas, s.Pos, "target.service processes", "each process is a pool of its own, and the capacity check counts them")
	v.check(strings.TrimSpace(s.ApplicationName) == "", &s.ApplicationName, s.Pos,
		"remove the key for the default, the name planrun hands a service it starts", "target.service application_name must not be empty")
	v.check(len(s.ApplicationName) > maxAppNameBytes, &s.ApplicationName, s.Pos,
		"PostgreSQL keeps 63 bytes of an application_name: a longer one never matches the service's backends",
		"target.service application_name is longer than %d bytes", maxAppNameBytes)

	entries := v.m.entries[&s.Env]
	for _, name := range sortedNames(s.Env) {
		e := entries[name]
		switch {
		case !envName.MatchString(name):
			v.errs.Add(e.key, "names are letters, digits and _, not starting with a digit",
				"target.service env: %s is not a variable name", strconv.Quote(name))
		case name == s.DatabaseEnv && v.m.ok(&s.DatabaseEnv):
			v.errs.Add(e.key, fmt.Sprintf("remove it: planrun sets %s to the database URL through its proxy (database_env), so that the proxy sees the service's connections", name),
				"target.service env sets %s, the variable planrun hands the database URL in", name)
		}
	}
}

// serviceURL checks url, or, when it is empty, start and dir.
func (v *validator) serviceURL(s *Service) {
	if !v.m.ok(&s.URL) {
		return
	}
	if s.URL != "" {
		u, err := url.Parse(s.URL)
		v.check(err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "", &s.URL, s.Pos,
			"the base URL of a running service, e.g. `http://127.0.0.1:8000`; leave it empty for planrun to start `start`",
			"target.service url %s is not an http:// or https:// URL with a host", v.shownText(&s.URL))
		return // a running service: start, dir and env are not used
	}
	if !v.m.ok(&s.Start) {
		return
	}
	if len(s.Start) == 0 {
		at, hint := s.Pos, "set `url: ${APPLICATION_URL}` for a running service, or `start:` with the argv that starts it, e.g. `start: [python3, -m, uvicorn, app:app, --port, \"{port}\"]`"
		if ref, ok := v.m.env[&s.URL]; ok {
			at = v.m.at(&s.URL, s.Pos)
			hint = fmt.Sprintf("%s is unset or empty: export it to test a running service, or add `start:` with the argv that starts one, e.g. `start: [python3, -m, uvicorn, app:app, --port, \"{port}\"]`", strings.Trim(ref, "${}"))
		}
		v.check(true, &s.Start, at, hint, "target.service needs url or start")
		return
	}
	if strings.TrimSpace(s.Start[0]) == "" {
		v.errs.Add(s.StartPos, "the first element is the program, looked up in PATH, e.g. `python3` or `${PYTHON:-python3}`",
			"target.service start: the program (start[0]) is empty")
	}
	hasPort := slices.ContainsFunc(s.Start, func(a string) bool { return strings.Contains(a, PortPlaceholder) })
	for _, val := range s.Env {
		hasPort = hasPort || strings.Contains(val, PortPlaceholder)
	}
	v.check(!hasPort, &s.Start, s.Pos,
		"planrun picks a free port and writes it in place of {port}: e.g. `start: [python3, -m, uvicorn, app:app, --port, \"{port}\"]`, or `env: {PORT: \"{port}\"}`",
		"target.service start names no {port}, nor does any env value: planrun cannot tell where the service listens")
	if v.m.has(&s.Dir) && v.m.ok(&s.Dir) {
		if st, err := os.Stat(s.Dir); err != nil || !st.IsDir() {
			why := "no such directory"
			if err == nil {
				why = "not a directory"
			}
			v.errs.Add(s.DirPos, fmt.Sprintf("dir is the working directory of start, relative to the plan file's directory (%s)", filepath.Dir(v.p.File)),
				"target.service dir %s: %s", v.shownDir(), why)
		}
	}
}

// shownDir is how a message shows target.service.dir: as written, or,
// when it was expanded from ${VAR}, the variable.
func (v *validator) shownDir() string {
	if ref, ok := v.m.env[&v.p.Target.Service.Dir]; ok {
		return "(the value of " + ref + ")"
	}
	return strconv.Quote(v.m.serviceDir)
}

// shownText is how a message shows the string behind ptr: quoted, or, when
// it was expanded from ${VAR}, the variable (its value is never echoed).
func (v *validator) shownText(ptr *string) string {
	if ref, ok := v.m.env[ptr]; ok {
		return "(the value of " + ref + ")"
	}
	return strconv.Quote(*ptr)
}

// sortedNames returns a string map's keys in order.
func sortedNames(m map[string]string) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

// httpOnly reports the keys of an HTTP operation written on an operation
// of kind (sql or transaction).
func (v *validator) httpOnly(op *Operation, label, kind string) {
	for _, k := range []struct {
		name string
		ptr  any
	}{{"headers", &op.Headers}, {"body", &op.Body}, {"expect", &op.Expect}, {"timeout", &op.Timeout}} {
		v.check(v.m.has(k.ptr), k.ptr, op.Pos, "remove it, or make the operation a request to target.service: `http: METHOD PATH`",
			"%s: %s goes with http, not %s", label, k.name, kind)
	}
}

// httpOperation checks an HTTP operation: target.service, `METHOD PATH`,
// headers, expect, timeout, and that args match the $n of its path,
// headers and body.
func (v *validator) httpOperation(op *Operation, label string) {
	if !v.m.ok(&op.HTTP) {
		return
	}
	if v.p.Target.Service == nil && !v.noServiceReported {
		v.noServiceReported = true
		v.errs.Add(op.HTTPPos, "add `target: {service: {url: ${APPLICATION_URL}}}` for a running service, or `start:` for one planrun starts (see target.service in docs/plan-format.md)",
			"%s: http needs target.service, the service the requests go to", label)
	}
	v.check(v.m.has(&op.Hold), &op.Hold, op.Pos,
		"the connections of an http operation are the service's, held by its own pool; pause between a user's requests with the scenario's `think`",
		"%s: hold goes with sql or transaction, not http", label)
	method, path := splitHTTP(op.HTTP)
	if method == "" {
		v.errs.Add(op.HTTPPos, httpFormHint(op.HTTP), "%s: http must be `METHOD PATH`, got %q", label, strings.TrimSpace(op.HTTP))
		return
	}
	if _, err := httpop.Compile(httpop.Template{Method: method, Path: "/"}); err != nil {
		hint := "a method in upper case: GET, POST, PUT, PATCH, DELETE, …"
		if up := strings.ToUpper(method); up != method {
			if _, err := httpop.Compile(httpop.Template{Method: up, Path: "/"}); err == nil {
				hint = "methods are upper case: write `" + up + " " + path + "`"
			}
		}
		v.errs.Add(op.HTTPPos, hint, "%s: %v", label, err)
	}
	pathAt := v.placeholderPos(&op.HTTP, strings.Index(op.HTTP, path), op.HTTPPos)
	if _, err := httpop.Compile(httpop.Template{Method: "GET", Path: path}); err != nil {
		v.errs.Add(pathAt, "write the path from its first /, e.g. `GET /accounts/$1`", "%s: %v", label, err)
	}
	v.headers(op, label)
	for _, s := range op.Expect {
		if _, err := httpop.Compile(httpop.Template{Method: "GET", Path: "/", Expect: []int{s}}); err != nil {
			v.check(true, &op.Expect, op.Pos, "list the statuses that count as success, e.g. `expect: [200, 204]`", "%s: %v", label, err)
			break
		}
	}
	v.check(v.m.has(&op.Expect) && len(op.Expect) == 0, &op.Expect, op.Pos, "remove it: by default any 2xx counts as success",
		"%s: expect is empty", label)
	v.check(v.m.has(&op.Timeout) && op.Timeout <= 0, &op.Timeout, op.Pos,
		fmt.Sprintf("it bounds one request; remove it for the default %s", humanize.Exact(httpop.DefaultTimeout)),
		"%s: timeout must be > 0", label)
	v.check(op.Timeout.D() > MaxPause, &op.Timeout, op.Pos, "a timeout bounds one request, at most the longest pause a plan has (see Limits in docs/plan-format.md)",
		"%s: timeout %s is longer than %s", label, humanize.Exact(op.Timeout.D()), humanize.Exact(MaxPause))
	v.httpArgs(op, label, path, pathAt)
}

// httpFormHint is the hint for an `http:` value that is not `METHOD PATH`.
func httpFormHint(s string) string {
	f := strings.Fields(s)
	switch {
	case len(f) == 1 && strings.HasPrefix(f[0], "/"):
		return "add the method: `GET " + f[0] + "`"
	case len(f) == 1:
		return "add the path, relative to target.service.url: `" + f[0] + " /path`"
	case len(f) > 2:
		return "a path holds no blank: escape it as %20; headers and body are keys of their own (`headers:`, `body:`)"
	}
	return "a method and a path relative to target.service.url, e.g. `http: GET /accounts/$1/balance`"
}

// headers checks an HTTP operation's headers: each with httpop's rules,
// reported at the name or the value at fault, and no name twice in two
// spellings (names are case-insensitive).
func (v *validator) headers(op *Operation, label string) {
	entries := v.m.entries[&op.Headers]
	seen := map[string]string{}
	for _, name := range sortedNames(op.Headers) {
		e := entries[name]
		if strings.TrimSpace(name) == "" {
			v.errs.Add(e.key, "name the header, e.g. `Content-Type: application/json`", "%s: a header name is empty", label)
			continue
		}
		if _, err := httpop.Compile(httpop.Template{Method: "GET", Path: "/", Headers: map[string]string{name: op.Headers[name]}}); err != nil {
			at := e.val
			if strings.ContainsAny(name, " :\r\n") {
				at = e.key
			}
			v.errs.Add(at, "write each header as `Name: value` on its own key; a value from ${VAR} must hold no line break", "%s: %v", label, err)
			continue
		}
		canon := http.CanonicalHeaderKey(name)
		if first, dup := seen[canon]; dup {
			v.errs.Add(e.key, "header names are case-insensitive: keep one of them",
				"%s: headers `%s` and `%s` are the same header", label, first, name)
			continue
		}
		seen[canon] = name
	}
}

// httpArgs checks that args match the $n of an HTTP operation's path,
// headers and body: the highest $n is the number of args (a $n without an
// arg is reported at it, an arg without a $n at the arg). Unlike SQL, a
// number below the highest may go unused.
func (v *validator) httpArgs(op *Operation, label, path string, pathAt Pos) {
	if !v.m.ok(&op.Args) || !v.m.ok(&op.Body) || !v.m.ok(&op.Headers) {
		return
	}
	type use struct {
		n     int
		where string
		at    Pos
	}
	var highest use
	consider := func(t httpop.Template, where string, at func(n int) Pos) {
		if r, err := httpop.Compile(t); err == nil && r.Args() > highest.n {
			highest = use{r.Args(), where, at(r.Args())}
		}
	}
	consider(httpop.Template{Method: "GET", Path: path}, "the path", func(n int) Pos {
		off := strings.Index(op.HTTP, path) + placeholderOffset(path, n)
		return v.placeholderPos(&op.HTTP, off, pathAt)
	})
	entries := v.m.entries[&op.Headers]
	for _, name := range sortedNames(op.Headers) {
		consider(httpop.Template{Method: "GET", Path: "/", Headers: map[string]string{name: op.Headers[name]}},
			"header "+name, func(int) Pos { return entries[name].val })
	}
	consider(httpop.Template{Method: "GET", Path: "/", Body: op.Body}, "the body", func(n int) Pos {
		return v.placeholderPos(&op.Body, placeholderOffset(op.Body, n), v.m.at(&op.Body, op.Pos))
	})
	n := len(op.Args)
	values := humanize.Count(int64(n), "value", "values")
	switch {
	case highest.n > n && n == 0:
		v.errs.Add(highest.at, "add `args:` with one expression per placeholder, the first for $1, e.g. `args: [randInt(1, 100)]`",
			"%s: %s uses $%d but the operation has no args", label, highest.where, highest.n)
	case highest.n > n:
		v.errs.Add(highest.at, fmt.Sprintf("give one arg per placeholder: $1 is the first arg, $%d the last", highest.n),
			"%s: %s uses $%d but args has %s", label, highest.where, highest.n, values)
	case highest.n == 0 && n > 0:
		v.errs.Add(v.m.at(&op.Args, op.Pos), "refer to the args as $1, $2, ... in the path, a header or the body, or remove `args`",
			"%s: args has %s but the request has no placeholders", label, values)
	case highest.n < n:
		uses := fmt.Sprintf("$1..$%d", highest.n)
		if highest.n == 1 {
			uses = "$1"
		}
		v.errs.Add(op.Args[highest.n].Pos, fmt.Sprintf("remove the args after the %s, or use them in the request as $%d, ...", ordinal(highest.n), highest.n+1),
			"%s: args has %s but the request uses only %s", label, values, uses)
	}
}

// placeholderOffset is the byte offset of `$n` in s (not followed by
// another digit), or 0 when it is not there.
func placeholderOffset(s string, n int) int {
	p := "$" + strconv.Itoa(n)
	for off := 0; ; {
		i := strings.Index(s[off:], p)
		if i < 0 {
			return 0
		}
		end := off + i + len(p)
		if end == len(s) || !isDigit(s[end]) {
			return off + i
		}
		off = end
	}
}

// OnlyHTTP reports whether every operation of the mix is an HTTP request
// (`http:`): a scenario running it never uses planrun's own pool, whose
// figures (acquire, utilization, leaks, ...) would measure nothing there.
func (m Mix) OnlyHTTP() bool {
	for _, op := range m {
		if op.HTTP == "" {
			return false
		}
	}
	return len(m) > 0
}
