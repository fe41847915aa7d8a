// Package github is the small part of GitHub's REST API that `planrun
// comment` needs: a pull request's issue comments listed (every page),
// created and updated, with retries of server errors and rate limits. It
// uses the standard library only.
//
// A [Client] made by [FromEnv] reads what GitHub Actions sets in every step:
// GITHUB_API_URL (so GitHub Enterprise Server works), GITHUB_TOKEN and
// GITHUB_REPOSITORY. The token is sent only to the API's own scheme and
// host, never to an address a response names elsewhere.
package github

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/planrun/planrun/internal/printable"
)

// Errors a caller tells apart with [errors.Is].
var (
	// ErrForbidden: the API refused the token (403) for a reason other than
	// a rate limit, such as the read-only token of a pull request from a
	// fork ("Resource not accessible by integration").
	ErrForbidden = errors.New("github: forbidden")
	// ErrUnauthorized: the token is missing, expired or wrong (401).
	ErrUnauthorized = errors.New("github: unauthorized")
	// ErrNotFound: no such repository, pull request or comment, or one the
	// token may not see (404).
	ErrNotFound = errors.New("github: not found")
)

// Defaults of a [Client].
const (
	// DefaultBaseURL is github.com's API, when GITHUB_API_URL is unset.
	DefaultBaseURL = "https://api.github.com"
	// DefaultMaxAttempts is how many times one request is sent at most.
	DefaultMaxAttempts = 5
	// DefaultMaxWait caps one wait between attempts, whatever Retry-After
	// or the rate limit's reset asks for.
	DefaultMaxWait = 60 * time.Second
	// DefaultMaxTotalWait caps the waits of one request together: a retry
	// whose wait would pass it is not made.
	DefaultMaxTotalWait = 3 * time.Minute
	// DefaultTimeout bounds one HTTP exchange (the default HTTP client's).
	DefaultTimeout = 30 * time.Second
	// userAgent is sent with every request (GitHub requires one).
	userAgent = "planrun"
	// perPage is the page size of a listing, GitHub's largest.
	perPage = 100
	// maxBody bounds what is read of one response.
	maxBody = 32 << 20
)

// Client calls GitHub's REST API for one repository. Its zero values take
// the defaults above; fields must not change while requests run.
type Client struct {
	// BaseURL is the API's root, e.g. https://api.github.com or
	// https://ghe.example.com/api/v3 (default [DefaultBaseURL]).
	BaseURL string
	// Token is sent as a bearer token; never printed.
	Token string
	// Owner and Repo name the repository.
	Owner, Repo string
	// HTTP sends the requests (default: a client with [DefaultTimeout]).
	HTTP *http.Client
	// MaxAttempts, MaxWait and MaxTotalWait bound the retries of one request
	// (defaults [DefaultMaxAttempts], [DefaultMaxWait], [DefaultMaxTotalWait]).
	MaxAttempts           int
	MaxWait, MaxTotalWait time.Duration
	// Sleep waits between attempts (default: a timer that ends early with
	// the context's error). Tests replace it so that they never sleep.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now is the clock for a rate limit's reset time (default time.Now).
	Now func() time.Time
}

// FromEnv returns a client for GITHUB_REPOSITORY ("owner/name") on
// GITHUB_API_URL (default [DefaultBaseURL]) with GITHUB_TOKEN. getenv is
// os.Getenv or a test's stand-in. The error names every variable missing or
// malformed.
func FromEnv(getenv func(string) string) (*Client, error) {
	var problems []string
	token := getenv("GITHUB_TOKEN")
	if token == "" {
		problems = append(problems, "GITHUB_TOKEN is not set")
	}
	repo := getenv("GITHUB_REPOSITORY")
	owner, name, ok := strings.Cut(repo, "/")
	switch {
	case repo == "":
		problems = append(problems, "GITHUB_REPOSITORY is not set")
	case !ok || owner == "" || name == "" || strings.Contains(name, "/"):
		problems = append(problems, fmt.Sprintf("GITHUB_REPOSITORY %q is not owner/name", repo))
	}
	base := getenv("GITHUB_API_URL")
	if base == "" {
		base = DefaultBaseURL
	}
	if u, err := url.Parse(base); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		problems = append(problems, fmt.Sprintf("GITHUB_API_URL %q is not an http(s) URL", base))
	}
	if len(problems) > 0 {
		return nil, errors.New(strings.Join(problems, "; "))
	}
	return &Client{BaseURL: base, Token: token, Owner: owner, Repo: name}, nil
}

// Comment is an issue comment (a pull request's conversation comment).
type Comment struct {
	ID      int64  `json:"id"`
	Body    string `json:"body"`
	HTMLURL string `json:"html_url"`
	User    struct {
		Login string `json:"login"`
		Type  string `json:"type"`
	} `json:"user"`
}

// APIError is a response the API gave instead of success. It wraps
// [ErrForbidden], [ErrUnauthorized] or [ErrNotFound] when it is one of
// those.
type APIError struct {
	Method, Path string // what was asked (the path without host or query)
	Status       int
	// Message is the API's own message ("Resource not accessible by
	// integration"), or the status text.
	Message string
	// RateLimited: a primary or secondary rate limit (403 or 429), not a
	// refusal of the token.
	RateLimited bool
}

func (e *APIError) Error() string {
	msg := fmt.Sprintf("github: %s %s: %d %s", e.Method, e.Path, e.Status, e.Message)
	if e.RateLimited {
		msg += " (rate limited)"
	}
	return msg
}

// Unwrap gives the sentinel error of the status.
func (e *APIError) Unwrap() error {
	switch {
	case e.Status == http.StatusForbidden && !e.RateLimited:
		return ErrForbidden
	case e.Status == http.StatusUnauthorized:
		return ErrUnauthorized
	case e.Status == http.StatusNotFound:
		return ErrNotFound
	}
	return nil
}

// Retryable reports whether err is worth another try later: a server
// error (5xx), a rate limit, or a failure to reach the API at all; not a
// refusal (4xx) nor the context's end.
func Retryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.Status >= 500 || apiErr.RateLimited
	}
	var netErr *NetworkError
	return errors.As(err, &netErr)
}

// NetworkError is a request that got no response: the API unreachable, the
// connection broken, the timeout passed.
type NetworkError struct {
	Method, Path string
	Err          error
}

func (e *NetworkError) Error() string {
	return fmt.Sprintf("github: %s %s: %v", e.Method, e.Path, e.Err)
}

func (e *NetworkError) Unwrap() error { return e.Err }

// ListIssueComments returns every comment of issue or pull request number,
// oldest first, following the Link header's rel="next" pages of 100.
func (c *Client) ListIssueComments(ctx context.Context, number int) ([]Comment, error) {
	next, err := c.url(fmt.Sprintf("/repos/%s/%s/issues/%d/comments", url.PathEscape(c.Owner), url.PathEscape(c.Repo), number))
	if err != nil {
		return nil, err
	}
	q := next.Query()
	q.Set("per_page", strconv.Itoa(perPage))
	next.RawQuery = q.Encode()
	var all []Comment
	for page := 1; next != nil; page++ {
		var comments []Comment
		resp, err := c.do(ctx, http.MethodGet, next, nil, &comments, true)
		if err != nil {
			return nil, fmt.Errorf("list comments of #%d (page %d): %w", number, page, err)
		}
		all = append(all, comments...)
		if next, err = c.nextPage(resp.Header.Get("Link")); err != nil {
			return nil, fmt.Errorf("list comments of #%d (page %d): %w", number, page, err)
		}
	}
	return all, nil
}

// CreateIssueComment adds a comment with body to issue or pull request
// number. A POST that met a server error or a broken connection may have
// created the comment all the same, so it is not retried here (rate limits
// are: nothing was created); a caller that wants to retry lists the
// comments first (see [Client.Upsert]).
func (c *Client) CreateIssueComment(ctx context.Context, number int, body string) (Comment, error) {
	u, err := c.url(fmt.Sprintf("/repos/%s/%s/issues/%d/comments", url.PathEscape(c.Owner), url.PathEscape(c.Repo), number))
	if err != nil {
		return Comment{}, err
	}
	var out Comment
	if _, err := c.do(ctx, http.MethodPost, u, map[string]string{"body": body}, &out, false); err != nil {
		return Comment{}, fmt.Errorf("create a comment on #%d: %w", number, err)
	}
	return out, nil
}

// UpdateIssueComment replaces the body of comment id.
func (c *Client) UpdateIssueComment(ctx context.Context, id int64, body string) (Comment, error) {
	u, err := c.url(fmt.Sprintf("/repos/%s/%s/issues/comments/%d", url.PathEscape(c.Owner), url.PathEscape(c.Repo), id))
	if err != nil {
		return Comment{}, err
	}
	var out Comment
	if _, err := c.do(ctx, http.MethodPatch, u, map[string]string{"body": body}, &out, true); err != nil {
		return Comment{}, fmt.Errorf("update comment %d: %w", id, err)
	}
	return out, nil
}

// Upsert keeps one comment on issue or pull request number whose body
// starts with marker: it updates the first such comment, or creates one
// with body when there is none. body should start with marker, so that the
// next call finds it. A create that failed in a way that may have created
// the comment anyway (a server error, a broken connection) is retried only
// after listing the comments again, so that a retry never posts a second
// comment. created tells which it did.
func (c *Client) Upsert(ctx context.Context, number int, marker, body string) (comment Comment, created bool, err error) {
	var waited time.Duration
	for attempt := 1; ; attempt++ {
		comments, err := c.ListIssueComments(ctx, number)
		if err != nil {
			return Comment{}, false, err
		}
		for _, cm := range comments {
			if strings.HasPrefix(cm.Body, marker) {
				out, err := c.UpdateIssueComment(ctx, cm.ID, body)
				return out, false, err
			}
		}
		out, err := c.CreateIssueComment(ctx, number, body)
		if err == nil || !Retryable(err) || attempt >= c.maxAttempts() {
			return out, err == nil, err
		}
		d := c.backoff(attempt)
		if waited+d > c.maxTotalWait() {
			return Comment{}, false, err
		}
		if serr := c.sleep(ctx, d); serr != nil {
			return Comment{}, false, fmt.Errorf("%w (while waiting to retry: %w)", err, serr)
		}
		waited += d
	}
}

// url resolves an API path against BaseURL (keeping BaseURL's own path, as
// GitHub Enterprise Server's /api/v3).
func (c *Client) url(path string) (*url.URL, error) {
	base := c.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	u, err := url.Parse(strings.TrimRight(base, "/"))
	if err != nil {
		return nil, fmt.Errorf("github: base URL: %w", err)
	}
	u.RawPath = ""
	u.Path += path
	if esc := u.EscapedPath(); esc != u.Path {
		u.RawPath = esc
	}
	return u, nil
}

// nextPage returns the rel="next" URL of a Link header, nil when there is
// none. A next page on another scheme or host than the API's is refused:
// the token goes nowhere else.
func (c *Client) nextPage(link string) (*url.URL, error) {
	for _, part := range strings.Split(link, ",") {
		target, params, ok := strings.Cut(strings.TrimSpace(part), ";")
		if !ok || !strings.HasPrefix(target, "<") || !strings.HasSuffix(target, ">") {
			continue
		}
		isNext := false
		for _, p := range strings.Split(params, ";") {
			k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
			if strings.EqualFold(k, "rel") && slices.Contains(strings.Fields(strings.Trim(v, `"`)), "next") {
				isNext = true
			}
		}
		if !isNext {
			continue
		}
		u, err := url.Parse(target[1 : len(target)-1])
		if err != nil {
			return nil, fmt.Errorf("github: next page: %w", err)
		}
		base, err := c.url("")
		if err != nil {
			return nil, err
		}
		if u.Scheme != base.Scheme || u.Host != base.Host {
			return nil, fmt.Errorf("github: the next page is on %s://%s, not the API's %s://%s: not followed", u.Scheme, u.Host, base.Scheme, base.Host)
		}
		return u, nil
	}
	return nil, nil
}

// do sends one request, retrying rate limits always and server errors and
// broken connections when retry5xx (the method is idempotent), and decodes
// a successful response's JSON into out.
func (c *Client) do(ctx context.Context, method string, u *url.URL, in, out any, retry5xx bool) (*http.Response, error) {
	var payload []byte
	if in != nil {
		var err error
		if payload, err = json.Marshal(in); err != nil {
			return nil, fmt.Errorf("github: encode request: %w", err)
		}
	}
	var waited time.Duration
	for attempt := 1; ; attempt++ {
		resp, body, err := c.once(ctx, method, u, payload)
		if err == nil {
			if out != nil && len(bytes.TrimSpace(body)) > 0 {
				if err := json.Unmarshal(body, out); err != nil {
					return nil, fmt.Errorf("github: %s %s: decode the response: %w", method, u.Path, err)
				}
			}
			return resp, nil
		}
		var apiErr *APIError
		isAPI := errors.As(err, &apiErr)
		retry := Retryable(err) && (retry5xx || (isAPI && apiErr.RateLimited))
		if !retry || attempt >= c.maxAttempts() {
			return nil, err
		}
		d := c.backoff(attempt)
		if resp != nil {
			if w, ok := c.retryAfter(resp, isAPI && apiErr.RateLimited); ok {
				d = w
			}
		}
		d = min(d, c.maxWait())
		if waited+d > c.maxTotalWait() {
			return nil, err
		}
		if serr := c.sleep(ctx, d); serr != nil {
			return nil, fmt.Errorf("%w (while waiting to retry: %w)", err, serr)
		}
		waited += d
	}
}

// once sends the request once. A response other than 2xx is an *APIError
// (with the response, for its headers); no response is a *NetworkError.
func (c *Client) once(ctx context.Context, method string, u *url.URL, payload []byte) (*http.Response, []byte, error) {
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, nil, fmt.Errorf("github: %s %s: %w", method, u.Path, err)
	}
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	req.Header.Set("User-Agent", userAgent)
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: DefaultTimeout}
	}
	resp, err := hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, fmt.Errorf("github: %s %s: %w", method, u.Path, ctx.Err())
		}
		return nil, nil, &NetworkError{Method: method, Path: u.Path, Err: scrubURLError(err)}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, nil, &NetworkError{Method: method, Path: u.Path, Err: err}
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp, body, nil
	}
	var msg struct {
		Message string `json:"message"`
	}
	_ = json.Unmarshal(body, &msg)
	if msg.Message == "" {
		msg.Message = http.StatusText(resp.StatusCode)
	}
	return resp, nil, &APIError{
		Method: method, Path: u.Path, Status: resp.StatusCode,
		Message:     oneLine(msg.Message, 300),
		RateLimited: rateLimited(resp, msg.Message),
	}
}

// rateLimited tells a rate limit from a refusal: GitHub answers both with
// 403 (or 429), a rate limit with Retry-After, x-ratelimit-remaining: 0
// or a message that says so.
func rateLimited(resp *http.Response, message string) bool {
	if resp.StatusCode == http.StatusTooManyRequests {
		return true
	}
	if resp.StatusCode != http.StatusForbidden {
		return false
	}
	if resp.Header.Get("Retry-After") != "" || resp.Header.Get("X-Ratelimit-Remaining") == "0" {
		return true
	}
	return strings.Contains(strings.ToLower(message), "rate limit")
}

// retryAfter is how long GitHub asked to wait: Retry-After (seconds or an
// HTTP date), else for a rate limit the time to x-ratelimit-reset, else at
// least a minute for a secondary rate limit (GitHub's advice).
func (c *Client) retryAfter(resp *http.Response, limited bool) (time.Duration, bool) {
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	if ra := strings.TrimSpace(resp.Header.Get("Retry-After")); ra != "" {
		if s, err := strconv.Atoi(ra); err == nil && s >= 0 {
			return time.Duration(s) * time.Second, true
		}
		if t, err := http.ParseTime(ra); err == nil {
			return max(0, t.Sub(now())), true
		}
	}
	if !limited {
		return 0, false
	}
	if resp.Header.Get("X-Ratelimit-Remaining") == "0" {
		if s, err := strconv.ParseInt(resp.Header.Get("X-Ratelimit-Reset"), 10, 64); err == nil {
			return max(0, time.Unix(s, 0).Sub(now())), true
		}
	}
	return time.Minute, true
}

// backoff is the wait before attempt+1 when the API names none: 1s, 2s,
// 4s, ... capped by MaxWait.
func (c *Client) backoff(attempt int) time.Duration {
	d := time.Second << min(attempt-1, 10)
	return min(d, c.maxWait())
}

func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	if c.Sleep != nil {
		return c.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (c *Client) maxAttempts() int {
	if c.MaxAttempts > 0 {
		return c.MaxAttempts
	}
	return DefaultMaxAttempts
}

func (c *Client) maxWait() time.Duration {
	if c.MaxWait > 0 {
		return c.MaxWait
	}
	return DefaultMaxWait
}

func (c *Client) maxTotalWait() time.Duration {
	if c.MaxTotalWait > 0 {
		return c.MaxTotalWait
	}
	return DefaultMaxTotalWait
}

// scrubURLError drops the URL from an *url.Error: the message says what
// failed, the caller already names the request.
func scrubURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// oneLine folds s onto one printable line of at most n bytes (an API
// message is printed in an error).
func oneLine(s string, n int) string {
	s = printable.Line(strings.Join(strings.Fields(s), " "))
	if len(s) > n {
		cut := n
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}
