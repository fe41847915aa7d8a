package github_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/planrun/planrun/internal/github"
	"github.com/planrun/planrun/internal/github/githubtest"
)

const token = "ghs_test-token"

// now is the clients' clock: a rate limit's reset is read against it.
var now = time.Date(2025, 3, 14, 9, 30, 0, 0, time.UTC)

// newClient returns a client of srv whose waits are recorded, never slept.
func newClient(t *testing.T, srv *githubtest.Server) (*github.Client, *[]time.Duration) {
	t.Helper()
	c, err := github.FromEnv(env(map[string]string{
		"GITHUB_API_URL":    srv.APIURL(),
		"GITHUB_TOKEN":      token,
		"GITHUB_REPOSITORY": srv.Owner + "/" + srv.Repo,
	}))
	if err != nil {
		t.Fatal(err)
	}
	c.Now = func() time.Time { return now }
	var waits []time.Duration
	c.Sleep = func(ctx context.Context, d time.Duration) error {
		waits = append(waits, d)
		return ctx.Err()
	}
	return c, &waits
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestCommentClientFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		base    string
		problem []string
	}{
		{"defaults to github.com", map[string]string{"GITHUB_TOKEN": "t", "GITHUB_REPOSITORY": "o/r"}, github.DefaultBaseURL, nil},
		{"enterprise", map[string]string{"GITHUB_TOKEN": "t", "GITHUB_REPOSITORY": "o/r", "GITHUB_API_URL": "https://ghe.example.com/api/v3"}, "https://ghe.example.com/api/v3", nil},
		{"nothing set", nil, "", []string{"GITHUB_TOKEN is not set", "GITHUB_REPOSITORY is not set"}},
		{"bad repository", map[string]string{"GITHUB_TOKEN": "t", "GITHUB_REPOSITORY": "just-a-name"}, "", []string{`GITHUB_REPOSITORY "just-a-name" is not owner/name`}},
		{"bad api url", map[string]string{"GITHUB_TOKEN": "t", "GITHUB_REPOSITORY": "o/r", "GITHUB_API_URL": "ftp://x"}, "", []string{"GITHUB_API_URL"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := github.FromEnv(env(tt.env))
			if len(tt.problem) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if c.BaseURL != tt.base || c.Owner != "o" || c.Repo != "r" {
					t.Errorf("got %s %s/%s", c.BaseURL, c.Owner, c.Repo)
				}
				return
			}
			if err == nil {
				t.Fatal("want an error")
			}
			for _, p := range tt.problem {
				if !strings.Contains(err.Error(), p) {
					t.Errorf("error %q does not say %q", err, p)
				}
			}
		})
	}
}

// TestCommentUpsert: the first call creates the marked comment, the second finds
// it on page 2 of the listing (pages of 2 here) and updates the same one.
func TestCommentUpsert(t *testing.T) {
	srv := githubtest.New(t, token, "acme", "shop", "/api/v3")
	srv.PageSize = 2
	srv.Add(7, "alice", "looks good")
	srv.Add(7, "bob", "<!-- planrun:other -->\nanother plan's comment")
	srv.Add(8, "alice", "another pull request")
	c, waits := newClient(t, srv)
	ctx := context.Background()
	const marker = "<!-- planrun:smoke -->"

	first, created, err := c.Upsert(ctx, 7, marker, marker+"\nfirst")
	if err != nil || !created {
		t.Fatalf("first upsert: created %v, %v", created, err)
	}
	srv.Add(7, "carol", "a later review comment")
	srv.Add(7, "dave", "quoting it: "+marker)
	second, created, err := c.Upsert(ctx, 7, marker, marker+"\nsecond")
	if err != nil || created {
		t.Fatalf("second upsert: created %v, %v", created, err)
	}
	if second.ID != first.ID {
		t.Errorf("the second upsert wrote comment %d, want %d", second.ID, first.ID)
	}
	var ours []githubtest.Comment
	for _, cm := range srv.Comments(7) {
		if strings.HasPrefix(cm.Body, marker) {
			ours = append(ours, cm)
		}
	}
	if len(ours) != 1 || ours[0].Body != marker+"\nsecond" {
		t.Errorf("want one marked comment saying second, got %+v", ours)
	}
	var pages, patches int
	for _, r := range srv.Requests() {
		if r.Method == http.MethodGet && strings.Contains(r.Query, "page=3") {
			pages++
		}
		if r.Method == http.MethodPatch {
			patches++
			if want := fmt.Sprintf("/api/v3/repos/acme/shop/issues/comments/%d", first.ID); r.Path != want {
				t.Errorf("PATCH %s, want %s", r.Path, want)
			}
		}
	}
	if pages != 1 || patches != 1 {
		t.Errorf("want page 3 listed once (by the second upsert: 6 comments, 2 a page) and one PATCH, got %d and %d:\n%+v", pages, patches, srv.Requests())
	}
	if len(*waits) != 0 {
		t.Errorf("waited %v without a fault", *waits)
	}
}

// TestCommentRetries: server errors and rate limits are retried, Retry-After
// honoured up to MaxWait; a refusal is not retried and is ErrForbidden.
func TestCommentRetries(t *testing.T) {
	path := "/repos/acme/shop/issues/7/comments"
	tests := []struct {
		name      string
		faults    []githubtest.Fault
		wantErr   error // nil: success
		wantWaits []time.Duration
		wantPosts int
	}{
		{
			name:      "502 then created",
			faults:    []githubtest.Fault{{Method: "POST", Path: path, Status: 502, Message: "Server Error"}},
			wantWaits: []time.Duration{time.Second}, wantPosts: 2,
		},
		{
			name:      "502 after creating it: found by the next listing, not posted twice",
			faults:    []githubtest.Fault{{Method: "POST", Path: path, Status: 502, Message: "Server Error", Apply: true}},
			wantWaits: []time.Duration{time.Second}, wantPosts: 1,
		},
		{
			name:      "listing: 503 twice",
			faults:    []githubtest.Fault{{Method: "GET", Status: 503}, {Method: "GET", Status: 503}},
			wantWaits: []time.Duration{time.Second, 2 * time.Second}, wantPosts: 1,
		},
		{
			name: "secondary rate limit with Retry-After",
			faults: []githubtest.Fault{{Method: "POST", Status: 403, Header: map[string]string{"Retry-After": "7"},
				Message: "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}},
			wantWaits: []time.Duration{7 * time.Second}, wantPosts: 2,
		},
		{
			name: "Retry-After capped by MaxWait",
			faults: []githubtest.Fault{{Method: "POST", Status: 429, Header: map[string]string{"Retry-After": "3600"},
				Message: "too many"}},
			wantWaits: []time.Duration{github.DefaultMaxWait}, wantPosts: 2,
		},
		{
			name: "primary rate limit: until the reset",
			faults: []githubtest.Fault{{Method: "GET", Status: 403, Message: "API rate limit exceeded for installation ID 1.",
				Header: map[string]string{"X-Ratelimit-Remaining": "0", "X-Ratelimit-Reset": strconv.FormatInt(now.Add(30*time.Second).Unix(), 10)}}},
			wantWaits: []time.Duration{30 * time.Second}, wantPosts: 1,
		},
		{
			name:      "secondary rate limit without headers waits a minute",
			faults:    []githubtest.Fault{{Method: "POST", Status: 403, Message: "You have exceeded a secondary rate limit"}},
			wantWaits: []time.Duration{time.Minute}, wantPosts: 2,
		},
		{
			name:    "a fork's read-only token",
			faults:  []githubtest.Fault{{Method: "POST", Status: 403, Message: "Resource not accessible by integration"}},
			wantErr: github.ErrForbidden, wantPosts: 1,
		},
		{
			name: "server errors past the attempts",
			faults: []githubtest.Fault{
				{Method: "GET", Status: 502}, {Method: "GET", Status: 502}, {Method: "GET", Status: 502},
				{Method: "GET", Status: 502}, {Method: "GET", Status: 502}, {Method: "GET", Status: 502}},
			wantErr:   errors.New("502"),
			wantWaits: []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := githubtest.New(t, token, "acme", "shop", "")
			for _, f := range tt.faults {
				srv.Fail(f)
			}
			c, waits := newClient(t, srv)
			_, _, err := c.Upsert(context.Background(), 7, "<!-- planrun:x -->", "<!-- planrun:x -->\nreport")
			switch {
			case tt.wantErr == nil && err != nil:
				t.Fatalf("want success, got %v", err)
			case tt.wantErr != nil && err == nil:
				t.Fatalf("want %v, got success", tt.wantErr)
			case tt.wantErr != nil && errors.Is(tt.wantErr, github.ErrForbidden) != errors.Is(err, github.ErrForbidden):
				t.Errorf("errors.Is(%v, ErrForbidden) = %v", err, errors.Is(err, github.ErrForbidden))
			case tt.wantErr != nil && !strings.Contains(err.Error(), "Resource not accessible") && !strings.Contains(err.Error(), tt.wantErr.Error()):
				t.Errorf("error %q does not say %q", err, tt.wantErr)
			}
			if fmt.Sprint(*waits) != fmt.Sprint(tt.wantWaits) {
				t.Errorf("waits %v, want %v", *waits, tt.wantWaits)
			}
			posts := 0
			for _, r := range srv.Requests() {
				if r.Method == http.MethodPost {
					posts++
				}
			}
			if posts != tt.wantPosts {
				t.Errorf("%d POSTs, want %d: %+v", posts, tt.wantPosts, srv.Requests())
			}
			if tt.wantErr == nil && len(srv.Comments(7)) != 1 {
				t.Errorf("want exactly one comment, got %+v", srv.Comments(7))
			}
		})
	}
}

// TestCommentTotalWaitBound: a rate limit that keeps asking for long waits ends
// when the waits together would pass MaxTotalWait.
func TestCommentTotalWaitBound(t *testing.T) {
	srv := githubtest.New(t, token, "acme", "shop", "")
	for range 5 {
		srv.Fail(githubtest.Fault{Method: "GET", Status: 429, Header: map[string]string{"Retry-After": "50"}, Message: "slow down"})
	}
	c, waits := newClient(t, srv)
	c.MaxTotalWait = 2 * time.Minute
	_, err := c.ListIssueComments(context.Background(), 7)
	if err == nil || !github.Retryable(err) {
		t.Fatalf("want the rate limit's error, got %v", err)
	}
	if fmt.Sprint(*waits) != fmt.Sprint([]time.Duration{50 * time.Second, 50 * time.Second}) {
		t.Errorf("waits %v, want two of 50s (a third would pass 2m)", *waits)
	}
}

// TestCommentNextPageElsewhere: a Link to another host is not followed, so the
// token goes nowhere else. The client reaches the server as localhost;
// its Link header names 127.0.0.1.
func TestCommentNextPageElsewhere(t *testing.T) {
	srv := githubtest.New(t, token, "acme", "shop", "")
	srv.PageSize = 1
	srv.Add(7, "a", "one")
	srv.Add(7, "b", "two")
	c, _ := newClient(t, srv)
	if got, err := c.ListIssueComments(context.Background(), 7); err != nil || len(got) != 2 {
		t.Fatalf("same host: %d comments, %v", len(got), err)
	}
	c.BaseURL = strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	_, err := c.ListIssueComments(context.Background(), 7)
	if err == nil || !strings.Contains(err.Error(), "not followed") {
		t.Errorf("want the next page on another host refused, got %v", err)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestCommentContextCancel: the wait before a retry ends with the context, and
// the error says so.
func TestCommentContextCancel(t *testing.T) {
	srv := githubtest.New(t, token, "acme", "shop", "")
	srv.Fail(githubtest.Fault{Method: "GET", Status: 502})
	c, _ := newClient(t, srv)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c.Sleep = nil // the real timer (1s): the context must end it
	c.HTTP = &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		resp, err := http.DefaultTransport.RoundTrip(r)
		if err == nil { // the whole answer (the 502) is in before the cancel
			body, rerr := io.ReadAll(resp.Body)
			resp.Body.Close()
			resp.Body, err = io.NopCloser(bytes.NewReader(body)), rerr
		}
		cancel()
		return resp, err
	})}
	_, err := c.ListIssueComments(ctx, 7)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "502") {
		t.Errorf("want the 502 and context.Canceled, got %v", err)
	}
	if n := len(srv.Requests()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}
