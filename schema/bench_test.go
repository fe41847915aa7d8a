package schema_test

import (
	"os"
	"strings"
	"testing"

	"github.com/planrun/planrun/schema"
)

// BenchmarkParse covers the production plan and inputs that once were
// quadratic (many flow args on one long line).
func BenchmarkParse(b *testing.B) {
	production, err := os.ReadFile("testdata/production.yaml")
	if err != nil {
		b.Fatal(err)
	}
	cases := []struct{ name, src string }{
		{"production", string(production)},
		{"10k flow args on one line", "version: 1\nname: t\nmixes:\n  app:\n    - {name: a, sql: S, args: [" +
			strings.Repeat("f(1, 2), ", 10000) + "]}\nscenarios: [{name: s, users: 1, duration: 1s}]\n"},
		{"10k flow operations on one line", "version: 1\nname: t\nmixes: {app: [" +
			strings.Repeat("{name: a, sql: S, args: [f(1, 2)]}, ", 10000) + "]}\nscenarios: [{name: s, users: 1, duration: 1s}]\n"},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			data := []byte(c.src)
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				_, _ = schema.Parse("plan.yaml", data, nil)
			}
		})
	}
}
