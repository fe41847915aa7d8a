package engine

import "testing"

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
