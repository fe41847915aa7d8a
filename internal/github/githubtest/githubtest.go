// Package githubtest plays the part of GitHub's REST API that package
// github uses, for tests: an issue's comments listed in pages with a Link
// header, created and updated, kept in memory. It checks what a real API
// would refuse (method, path, bearer token, User-Agent, JSON body) and
// answers injected faults (a 502, a rate limit, a fork's 403) in order.
package githubtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Comment is a stored comment.
type Comment struct {
	ID    int64
	Issue int
	Body  string
	User  string
}

// Request is one request the server received.
type Request struct {
	Method, Path, Query string
	// Body is the "body" field of a POST or PATCH.
	Body string
	// Status is what the server answered.
	Status int
}

// Fault is an answer given instead of the normal one, to the first request
// that matches Method (and Path, when set). When Apply is set the request
// takes effect all the same (a 502 after the comment was created).
type Fault struct {
	Method, Path string
	Status       int
	Header       map[string]string
	Message      string
	Apply        bool
}

// Server is a fake GitHub API for Owner/Repo under Prefix (e.g. /api/v3, as
// GitHub Enterprise Server has). Use its fields only before requests, or
// through its methods.
type Server struct {
	*httptest.Server
	Token, Owner, Repo, Prefix string
	// PageSize is the size of a page of comments (default 100); the
	// client's per_page must be 100 all the same.
	PageSize int
	// Login is the author of created comments (default github-actions[bot]).
	Login string

	t        testing.TB
	mu       sync.Mutex
	comments []Comment
	nextID   int64
	faults   []Fault
	requests []Request
}

// New starts a server for owner/repo that accepts token; it stops with the
// test.
func New(t testing.TB, token, owner, repo, prefix string) *Server {
	s := &Server{Token: token, Owner: owner, Repo: repo, Prefix: prefix, t: t, nextID: 1000}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// APIURL is the value GITHUB_API_URL takes for this server.
func (s *Server) APIURL() string { return s.URL + s.Prefix }

// Add stores a comment on issue by user and returns its id.
func (s *Server) Add(issue int, user, body string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	s.comments = append(s.comments, Comment{ID: s.nextID, Issue: issue, Body: body, User: user})
	return s.nextID
}

// Fail queues a fault.
func (s *Server) Fail(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, f)
}

// Comments returns the comments of issue, oldest first.
func (s *Server) Comments(issue int) []Comment {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Comment
	for _, c := range s.comments {
		if c.Issue == issue {
			out = append(out, c)
		}
	}
	return out
}

// Requests returns the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

var (
	listPath  = regexp.MustCompile(`^/repos/([^/]+)/([^/]+)/issues/([0-9]+)/comments$`)
	patchPath = regexp.MustCompile(`^/repos/([^/]+)/([^/]+)/issues/comments/([0-9]+)$`)
)

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery}
	status := s.handle(w, r, &rec)
	rec.Status = status
	s.requests = append(s.requests, rec)
}

// handle answers one request under s.mu and returns the status it wrote.
func (s *Server) handle(w http.ResponseWriter, r *http.Request, rec *Request) int {
	fail := func(status int, msg string, header map[string]string) int {
		for k, v := range header {
			w.Header().Set(k, v)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]string{"message": msg, "documentation_url": "https://docs.github.com/rest"})
		return status
	}
	if got := r.Header.Get("Authorization"); got != "Bearer "+s.Token {
		s.t.Errorf("githubtest: %s %s: Authorization %q, want the bearer token", r.Method, r.URL.Path, got)
		return fail(http.StatusUnauthorized, "Bad credentials", nil)
	}
	if ua := r.Header.Get("User-Agent"); ua != "planrun" {
		s.t.Errorf("githubtest: %s %s: User-Agent %q, want planrun", r.Method, r.URL.Path, ua)
	}
	if a := r.Header.Get("Accept"); a != "application/vnd.github+json" {
		s.t.Errorf("githubtest: %s %s: Accept %q", r.Method, r.URL.Path, a)
	}
	path, ok := strings.CutPrefix(r.URL.Path, s.Prefix)
	if !ok {
		s.t.Errorf("githubtest: %s %s: not under %q", r.Method, r.URL.Path, s.Prefix)
		return fail(http.StatusNotFound, "Not Found", nil)
	}
	if r.Method == http.MethodPost || r.Method == http.MethodPatch {
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			s.t.Errorf("githubtest: %s %s: Content-Type %q", r.Method, r.URL.Path, ct)
		}
		var in struct {
			Body *string `json:"body"`
		}
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&in); err != nil || in.Body == nil {
			s.t.Errorf("githubtest: %s %s: body is not {\"body\": ...}: %v", r.Method, r.URL.Path, err)
			return fail(http.StatusUnprocessableEntity, "Invalid request", nil)
		}
		rec.Body = *in.Body
		if len(rec.Body) > 65536 {
			return fail(http.StatusUnprocessableEntity, "Validation Failed: body is too long (maximum is 65536 characters)", nil)
		}
	}
	var fault *Fault
	for i, f := range s.faults {
		if f.Method == r.Method && (f.Path == "" || f.Path == path) {
			fault = &f
			s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			break
		}
	}
	if fault != nil && !fault.Apply {
		return fail(fault.Status, fault.Message, fault.Header)
	}
	status, out := s.route(w, r, path, rec)
	if fault != nil {
		return fail(fault.Status, fault.Message, fault.Header)
	}
	if status >= 300 {
		return fail(status, http.StatusText(status), nil)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(out)
	return status
}

func (s *Server) route(w http.ResponseWriter, r *http.Request, path string, rec *Request) (int, any) {
	if m := listPath.FindStringSubmatch(path); m != nil {
		if m[1] != s.Owner || m[2] != s.Repo {
			return http.StatusNotFound, nil
		}
		issue, _ := strconv.Atoi(m[3])
		switch r.Method {
		case http.MethodGet:
			return s.list(w, r, issue)
		case http.MethodPost:
			s.nextID++
			c := Comment{ID: s.nextID, Issue: issue, Body: rec.Body, User: s.login()}
			s.comments = append(s.comments, c)
			return http.StatusCreated, s.json(c)
		}
		return http.StatusMethodNotAllowed, nil
	}
	if m := patchPath.FindStringSubmatch(path); m != nil && r.Method == http.MethodPatch {
		if m[1] != s.Owner || m[2] != s.Repo {
			return http.StatusNotFound, nil
		}
		id, _ := strconv.ParseInt(m[3], 10, 64)
		for i := range s.comments {
			if s.comments[i].ID == id {
				s.comments[i].Body = rec.Body
				return http.StatusOK, s.json(s.comments[i])
			}
		}
		return http.StatusNotFound, nil
	}
	s.t.Errorf("githubtest: unexpected %s %s", r.Method, r.URL.Path)
	return http.StatusNotFound, nil
}

func (s *Server) list(w http.ResponseWriter, r *http.Request, issue int) (int, any) {
	q := r.URL.Query()
	if q.Get("per_page") != "100" {
		s.t.Errorf("githubtest: GET %s: per_page %q, want 100", r.URL.Path, q.Get("per_page"))
	}
	page := 1
	if p := q.Get("page"); p != "" {
		page, _ = strconv.Atoi(p)
	}
	size := s.PageSize
	if size <= 0 {
		size = 100
	}
	var all []Comment
	for _, c := range s.comments {
		if c.Issue == issue {
			all = append(all, c)
		}
	}
	from := min((page-1)*size, len(all))
	to := min(from+size, len(all))
	if to < len(all) {
		next := url.Values{"per_page": {"100"}, "page": {strconv.Itoa(page + 1)}}
		last := url.Values{"per_page": {"100"}, "page": {strconv.Itoa((len(all) + size - 1) / size)}}
		w.Header().Set("Link", fmt.Sprintf(`<%s%s?%s>; rel="next", <%s%s?%s>; rel="last"`,
			s.URL, r.URL.Path, next.Encode(), s.URL, r.URL.Path, last.Encode()))
	}
	out := make([]map[string]any, 0, to-from)
	for _, c := range all[from:to] {
		out = append(out, s.json(c))
	}
	return http.StatusOK, out
}

func (s *Server) login() string {
	if s.Login != "" {
		return s.Login
	}
	return "github-actions[bot]"
}

func (s *Server) json(c Comment) map[string]any {
	return map[string]any{
		"id":       c.ID,
		"body":     c.Body,
		"html_url": fmt.Sprintf("%s/%s/%s/pull/%d#issuecomment-%d", s.URL, s.Owner, s.Repo, c.Issue, c.ID),
		"user":     map[string]any{"login": c.User, "type": "Bot"},
	}
}
