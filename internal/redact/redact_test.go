package redact_test

import (
	"strings"
	"testing"

	"github.com/planrun/planrun/internal/redact"
)

func TestDSN(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"url with password", "postgres://app:s3cret@db:5432/x?sslmode=require", "postgres://app:xxxxx@db:5432/x?sslmode=require"},
		{"url without password", "postgres://app@db/x", "postgres://app@db/x"},
		{"password in the query", "postgres://app@db/x?password=s3cret&sslmode=disable", "postgres://app@db/x?password=xxxxx&sslmode=disable"},
		{"escaped characters", "postgresql://app:p%40ss%3Aw@db/x", "postgresql://app:xxxxx@db/x"},
		{"key=value", "host=db user=app password=s3cret dbname=x", "host=db user=app password=xxxxx dbname=x"},
		{"key=value quoted", "host=db password='s3 cret' dbname=x", "host=db password=xxxxx dbname=x"},
		{"empty", "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := redact.DSN(c.in)
			if got != c.want {
				t.Errorf("DSN(%q) = %q, want %q", c.in, got, c.want)
			}
			for _, secret := range []string{"s3cret", "s3 cret", "p%40ss"} {
				if strings.Contains(got, secret) {
					t.Errorf("DSN(%q) = %q still holds %q", c.in, got, secret)
				}
			}
		})
	}
}

func TestText(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"url inside a message", `failed to connect to postgres://app:s3cret@db/x: refused`, `failed to connect to postgres://app:xxxxx@db/x: refused`},
		{"password= inside a message", `bad dsn "host=db password=s3cret"`, `bad dsn "host=db password=xxxxx"`},
		{"nothing to hide", "connection refused", "connection refused"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := redact.Text(c.in); got != c.want {
				t.Errorf("Text(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

func TestSecret(t *testing.T) {
	got := redact.Secret("auth failed for password hunter2 (hunter2)", "hunter2")
	if strings.Contains(got, "hunter2") {
		t.Errorf("Secret left the password: %q", got)
	}
}
