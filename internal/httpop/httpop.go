// Package httpop runs a plan's HTTP operations against the service under
// test: a request compiled once from `http: METHOD PATH`, `headers`, `body`
// and `expect`, filled from the operation's args on every call, sent, and
// its outcome put in one of the error categories planrun reports.
//
// Args fill `$1`, `$2` … as they fill SQL placeholders: URL-escaped in the
// path (query-escaped after its `?`), JSON-encoded in a JSON body (so `$1`
// stands for a whole JSON value: write `{"id": $1}`, not `{"id": "$1"}`),
// and as plain text in a header value or a body of another content type.
package httpop

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/planrun/planrun/internal/printable"
	"github.com/planrun/planrun/internal/redact"
)

// Error categories of an HTTP operation, as errors_by.<category>. A
// response outside `expect` that is neither 4xx nor 5xx (a 201 where 200
// was expected, a redirect: redirects are not followed) counts as "other",
// and a request cut short by the run's stop as "cancelled", as for SQL
// operations.
const (
	Err5xx     = "http_5xx"     // the service answered 500–599
	Err4xx     = "http_4xx"     // the service answered 400–499
	ErrTimeout = "http_timeout" // no complete response within the operation's timeout
	ErrConnect = "http_connect" // no response: connection refused, reset or closed
	ErrOther   = "other"
	ErrStopped = "cancelled"
)

// Categories lists the HTTP error categories, in report order.
var Categories = []string{Err5xx, Err4xx, ErrTimeout, ErrConnect}

// DefaultTimeout bounds one request when the operation sets no timeout.
const DefaultTimeout = 30 * time.Second

// maxSample bounds an error example, in bytes of its one line.
const maxSample = 200

// maxDrain bounds how much of a response body is read (and discarded) so
// that its connection can serve the next request; a longer body's
// connection is closed instead.
const maxDrain = 1 << 20

// Template is an HTTP operation as the plan states it.
type Template struct {
	// Method and Path are `http: METHOD PATH`; Path starts with "/".
	Method, Path string
	// Headers are sent with every request; values may hold $n.
	Headers map[string]string
	// Body is the request body (may hold $n); empty for none.
	Body string
	// Expect lists the statuses that count as success; empty: any 2xx.
	Expect []int
	// Timeout bounds one request, from sending to the end of the body;
	// 0: DefaultTimeout.
	Timeout time.Duration
}

// Request is a compiled Template: its parts split at the placeholders once,
// so each call only writes the args in.
type Request struct {
	method  string
	path    []part
	headers []header
	body    []part
	json    bool // the body is JSON: args are JSON-encoded
	expect  []int
	timeout time.Duration
	args    int // the highest placeholder number
	secrets []string
}

type header struct {
	name   string
	value  []part
	secret bool
}

// part is literal text, then the arg it is followed by (0: none) and how
// that arg is written.
type part struct {
	text string
	arg  int
	how  encoding
}

type encoding int

const (
	asPath encoding = iota
	asQuery
	asJSON
	asText
)

// Compile checks t and compiles it. Its errors name the field at fault
// (the plan's validation reports them with their position).
func Compile(t Template) (*Request, error) {
	if !validMethod(t.Method) {
		return nil, fmt.Errorf("method %q: want an HTTP method such as GET or POST", t.Method)
	}
	if !strings.HasPrefix(t.Path, "/") {
		return nil, fmt.Errorf("path %q: want a path that starts with /, relative to target.service.url", t.Path)
	}
	for _, s := range t.Expect {
		if s < 100 || s > 599 {
			return nil, fmt.Errorf("expect: %d is not an HTTP status (100–599)", s)
		}
	}
	if t.Timeout < 0 {
		return nil, fmt.Errorf("timeout %s: want a positive duration", t.Timeout)
	}
	r := &Request{method: t.Method, expect: slices.Clone(t.Expect), timeout: t.Timeout}
	if r.timeout == 0 {
		r.timeout = DefaultTimeout
	}
	path, query, hasQuery := strings.Cut(t.Path, "?")
	r.path = split(path, asPath)
	if hasQuery {
		q := split(query, asQuery)
		q[0].text = "?" + q[0].text
		r.path = append(r.path, q...)
	}
	names := make([]string, 0, len(t.Headers))
	for name := range t.Headers {
		names = append(names, name)
	}
	slices.Sort(names)
	contentType := ""
	for _, name := range names {
		value := t.Headers[name]
		if http.CanonicalHeaderKey(name) == "Content-Type" {
			contentType = value
		}
		if strings.ContainsAny(name, " :\r\n") || strings.ContainsAny(value, "\r\n") {
			return nil, fmt.Errorf("header %q: a header name holds no space or colon, and no header holds a line break", name)
		}
		h := header{name: http.CanonicalHeaderKey(name), value: split(value, asText), secret: SecretHeader(name)}
		if h.secret {
			r.secrets = append(r.secrets, literals(h.value)...)
		}
		r.headers = append(r.headers, h)
	}
	if t.Body != "" {
		r.json = contentType == "" || strings.Contains(strings.ToLower(contentType), "json")
		how := asText
		if r.json {
			how = asJSON
			if contentType == "" {
				r.headers = append(r.headers, header{name: "Content-Type", value: []part{{text: "application/json"}}})
			}
		}
		r.body = split(t.Body, how)
	}
	for _, ps := range append([][]part{r.path, r.body}, headerParts(r.headers)...) {
		for _, p := range ps {
			r.args = max(r.args, p.arg)
		}
	}
	return r, nil
}

func headerParts(hs []header) [][]part {
	out := make([][]part, len(hs))
	for i, h := range hs {
		out[i] = h.value
	}
	return out
}

// split cuts s at its placeholders `$n` (n from 1); `$$` is a literal `$`.
func split(s string, how encoding) []part {
	var out []part
	lit := 0
	for i := 0; i < len(s); i++ {
		if strings.HasPrefix(s[i:], "$$") {
			out = append(out, part{text: s[lit : i+1]})
			lit, i = i+2, i+1
			continue
		}
		if s[i] != '$' || i+1 >= len(s) || s[i+1] < '1' || s[i+1] > '9' {
			continue
		}
		j, n := i+1, 0
		for ; j < len(s) && '0' <= s[j] && s[j] <= '9' && n < 1<<16; j++ {
			n = n*10 + int(s[j]-'0')
		}
		out = append(out, part{text: s[lit:i], arg: n, how: how})
		lit, i = j, j-1
	}
	return append(out, part{text: s[lit:]})
}

// literals are the texts ps sends as written, joined where no
// placeholder cuts them (`$$` already made `$`), those at least
// redact.MinSecret long: what a secret header's value gives the redactor.
func literals(ps []part) []string {
	var out []string
	var cur strings.Builder
	flush := func() {
		if cur.Len() >= redact.MinSecret {
			out = append(out, cur.String())
		}
		cur.Reset()
	}
	for _, p := range ps {
		cur.WriteString(p.text)
		if p.arg > 0 {
			flush()
		}
	}
	flush()
	return out
}

func validMethod(m string) bool {
	if m == "" {
		return false
	}
	for _, c := range m {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}

// Args is how many args the request needs: its highest placeholder number.
func (r *Request) Args() int { return r.args }

// Timeout is the bound on one request.
func (r *Request) Timeout() time.Duration { return r.timeout }

// Secrets are the values of the headers named like secrets (see
// [SecretHeader]), for the run's redactor: they never appear in any output,
// even when the service echoes them.
func (r *Request) Secrets() []string { return r.secrets }

// String describes the request for messages: method, path with its
// placeholders, and header names, the values of secret ones masked.
func (r *Request) String() string {
	var b strings.Builder
	b.WriteString(r.method)
	b.WriteByte(' ')
	b.WriteString(template(r.path))
	for _, h := range r.headers {
		b.WriteString(" · ")
		b.WriteString(h.name)
		b.WriteString(": ")
		if h.secret {
			b.WriteString(redact.Mask)
		} else {
			b.WriteString(template(h.value))
		}
	}
	return printable.Line(b.String())
}

func template(ps []part) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString(p.text)
		if p.arg > 0 {
			fmt.Fprintf(&b, "$%d", p.arg)
		}
	}
	return b.String()
}

// SecretHeader reports whether a header's values are secrets: the
// credentials headers (Authorization, Proxy-Authorization, Cookie) and any
// header whose name holds token, key, secret, password or auth.
func SecretHeader(name string) bool {
	n := strings.ToLower(name)
	switch n {
	case "authorization", "proxy-authorization", "cookie", "set-cookie":
		return true
	}
	for _, w := range []string{"token", "key", "secret", "password", "auth"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// Build returns the request for base (target.service.url, no trailing
// slash needed) with args written in. An arg that cannot be written (a
// null in the path, a value JSON cannot encode, a line break in a header)
// is an error of category args, as for SQL.
func (r *Request) Build(ctx context.Context, base string, args []any) (*http.Request, error) {
	if len(args) < r.args {
		return nil, fmt.Errorf("%s needs %d args, got %d", r, r.args, len(args))
	}
	path, err := fill(r.path, args)
	if err != nil {
		return nil, err
	}
	var body io.Reader
	if r.body != nil {
		s, err := fill(r.body, args)
		if err != nil {
			return nil, err
		}
		body = strings.NewReader(s)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, strings.TrimSuffix(base, "/")+path, body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", r, err)
	}
	for _, h := range r.headers {
		v, err := fill(h.value, args)
		if err != nil {
			return nil, err
		}
		if strings.ContainsAny(v, "\r\n") {
			return nil, fmt.Errorf("header %s: an arg holds a line break", h.name)
		}
		req.Header.Set(h.name, v)
	}
	return req, nil
}

// fill writes ps with args.
func fill(ps []part, args []any) (string, error) {
	if len(ps) == 1 {
		return ps[0].text, nil
	}
	var b strings.Builder
	for _, p := range ps {
		b.WriteString(p.text)
		if p.arg == 0 {
			continue
		}
		s, err := write(args[p.arg-1], p.how)
		if err != nil {
			return "", fmt.Errorf("$%d: %w", p.arg, err)
		}
		b.WriteString(s)
	}
	return b.String(), nil
}

// write is v as text of kind how.
func write(v any, how encoding) (string, error) {
	if how == asJSON {
		b, err := json.Marshal(v)
		if err != nil {
			return "", fmt.Errorf("cannot be written as JSON: %w", err)
		}
		return string(b), nil
	}
	var s string
	switch x := v.(type) {
	case nil:
		return "", errors.New("is null: a path, query or header cannot hold null")
	case string:
		s = x
	case time.Time:
		s = x.Format(time.RFC3339Nano)
	case float64:
		s = strconv.FormatFloat(x, 'g', -1, 64)
	default:
		s = fmt.Sprint(x)
	}
	switch how {
	case asPath:
		return url.PathEscape(s), nil
	case asQuery:
		return url.QueryEscape(s), nil
	}
	return s, nil
}

// NewClient returns the HTTP client of a scenario with at most
// concurrency requests in flight: keep-alive connections to the service,
// one idle per possible request, no proxy from the environment (the run
// measures the service, not a proxy in front of it), and redirects
// returned, not followed.
func NewClient(concurrency int) *http.Client {
	t := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        max(concurrency, 2),
		MaxIdleConnsPerHost: max(concurrency, 2),
		IdleConnTimeout:     90 * time.Second,
	}
	return &http.Client{
		Transport:     t,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Outcome is what one request came to.
type Outcome struct {
	// Status is the response's status; 0 when none came.
	Status int
	// Category is "" for a success, else one of the categories above.
	Category string
	// Sample describes a failure in one line: the status and the first
	// line of the response body, or the transport error; redacted,
	// length-bounded and with control characters escaped.
	Sample string
}

// Do sends req on c within the request's timeout and reads the response
// body to its end (up to maxDrain). stop is the run's context: a request
// cut short because it ended counts as cancelled, not as a timeout.
// redactor hides the run's known secrets (nil: only what redact.Text finds).
func (r *Request) Do(stop context.Context, c *http.Client, base string, args []any, redactor *redact.Redactor) Outcome {
	ctx, cancel := context.WithTimeout(stop, r.timeout)
	defer cancel()
	req, err := r.Build(ctx, base, args)
	if err != nil {
		return Outcome{Category: "args", Sample: sample(err.Error(), redactor)}
	}
	resp, err := c.Do(req)
	if err != nil {
		return r.failed(stop, ctx, err, redactor)
	}
	defer resp.Body.Close()
	if r.ok(resp.StatusCode) {
		n, err := io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrain))
		if err != nil && n < maxDrain {
			return r.failed(stop, ctx, err, redactor)
		}
		return Outcome{Status: resp.StatusCode}
	}
	first, _ := io.ReadAll(io.LimitReader(resp.Body, maxSample*4))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrain))
	line, _, _ := strings.Cut(string(first), "\n")
	out := Outcome{Status: resp.StatusCode, Sample: sample(fmt.Sprintf("%s %s: %d %s", r.method, req.URL.Path, resp.StatusCode, line), redactor)}
	switch {
	case resp.StatusCode >= 500:
		out.Category = Err5xx
	case resp.StatusCode >= 400:
		out.Category = Err4xx
	default:
		out.Category = ErrOther
		out.Sample = sample(fmt.Sprintf("%s %s: %d, not among the expected statuses %v", r.method, req.URL.Path, resp.StatusCode, r.expected()), redactor)
	}
	return out
}

// failed categorises a request that got no (complete) response.
func (r *Request) failed(stop, ctx context.Context, err error, redactor *redact.Redactor) Outcome {
	out := Outcome{Sample: sample(err.Error(), redactor)}
	var nerr net.Error
	switch {
	case stop.Err() != nil:
		out.Category = ErrStopped
	case ctx.Err() != nil || errors.As(err, &nerr) && nerr.Timeout():
		out.Category = ErrTimeout
		out.Sample = sample(fmt.Sprintf("%s: no complete response within %s", r, r.timeout), redactor)
	default:
		out.Category = ErrConnect
	}
	return out
}

func (r *Request) ok(status int) bool {
	if len(r.expect) == 0 {
		return status >= 200 && status < 300
	}
	return slices.Contains(r.expect, status)
}

func (r *Request) expected() any {
	if len(r.expect) == 0 {
		return "2xx"
	}
	return r.expect
}

// sample is s redacted, on one line, bounded to maxSample bytes.
func sample(s string, redactor *redact.Redactor) string {
	if redactor != nil {
		s = redactor.String(s)
	} else {
		s = redact.Text(s)
	}
	s = printable.Line(s)
	if len(s) > maxSample {
		cut := maxSample
		for cut > 0 && s[cut]&0xC0 == 0x80 { // not inside a UTF-8 sequence
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}
