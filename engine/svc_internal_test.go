package engine

import (
	"strings"
	"testing"

	"github.com/planrun/planrun/schema"
)

// TestServiceDatabaseURL: the URL handed to a service points at the proxy
// with the service's application_name, and keeps the target's user,
// password, database and other parameters.
func TestServiceDatabaseURL(t *testing.T) {
	for _, c := range []struct{ dsn, want string }{
		{"postgres://app:pw@db.example:5433/fin?sslmode=require&application_name=x",
			"postgres://app:pw@127.0.0.1:7000/fin?application_name=svc&sslmode=require"},
		{"postgresql://app@/fin?host=/var/run/postgresql",
			"postgresql://app@127.0.0.1:7000/fin?application_name=svc"},
		{"host=/tmp port=5432 user=postgres password=secret dbname=d sslmode=disable",
			"postgres://postgres:secret@127.0.0.1:7000/d?application_name=svc&sslmode=disable"},
	} {
		got, err := serviceDatabaseURL(c.dsn, "127.0.0.1:7000", "svc")
		if err != nil || got != c.want {
			t.Errorf("serviceDatabaseURL(%q) = %q, %v; want %q", c.dsn, got, err, c.want)
		}
	}
}

// TestStartedServiceRefusesVerifyFull: a service planrun starts connects to
// 127.0.0.1 (the proxy), so a target that verifies the server's host name
// is a plan error at target.url, found before anything starts; verify-ca,
// or a running service, is fine.
func TestStartedServiceRefusesVerifyFull(t *testing.T) {
	const src = `
version: 1
name: tls
target:
  url: ${DB}
  service: {url: "${APP}", start: [sh, serve.sh, "{port}"]}
mixes:
  m: [{name: r, http: GET /}]
scenarios:
  - {name: s, rate: 1/s, duration: 1s}
`
	for _, c := range []struct {
		db, app string
		refused bool
	}{
		{"postgres://u:pw@db.example/d?sslmode=verify-full", "", true},
		{"host=db.example user=u sslmode=verify-full", "", true},
		{"postgres://u:pw@db.example/d?sslmode=verify-ca", "", false},
		{"postgres://u:pw@db.example/d?sslmode=require", "", false},
		{"postgres://u:pw@db.example/d?sslmode=verify-full", "http://127.0.0.1:8000", false},
	} {
		env := map[string]string{"DB": c.db, "APP": c.app}
		plan, err := schema.Parse("tls.yaml", []byte(src), func(k string) (string, bool) { v, ok := env[k]; return v, ok })
		if err != nil {
			t.Fatalf("plan does not load:\n%v", err)
		}
		_, err = Compile(plan, Options{})
		refused := err != nil && strings.Contains(err.Error(), "tls.yaml:5:8: target.url verifies the server's host name")
		if refused != c.refused || (err != nil && !refused) {
			t.Errorf("%s with service url %q: %v, want refused %v", c.db, c.app, err, c.refused)
		}
		if err != nil && strings.Contains(err.Error(), "pw") {
			t.Errorf("the error shows the password: %v", err)
		}
	}
}
