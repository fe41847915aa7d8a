package engine_test

import (
	"testing"
	"time"

	"github.com/planrun/planrun/engine"
	"github.com/planrun/planrun/schema"
)

// TestNetworkEmbeddedServer: with the embedded server, the emulated
// network's proxy reaches the server through its Unix socket (and the
// pool reaches the proxy through one): every statement still pays the
// round trip, and nothing fails.
func TestNetworkEmbeddedServer(t *testing.T) {
	const latency = 20 * time.Millisecond
	plan, err := schema.Parse(t.Name()+".yaml", []byte(`
version: 1
name: network-embedded
target: {network: {latency: 20ms}}
pool: {size: 2, max_overflow: 0, isolation_level: autocommit}
mixes:
  m:
    - {name: one, sql: SELECT 1}
scenarios:
  - {name: s, users: 2, duration: 1s}
`), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	prog, err := engine.Compile(plan, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := run(t, prog, engine.RunOptions{})
	if !r.Target.Embedded {
		t.Fatal("the plan names no URL: the run should use the embedded server")
	}
	sc := r.Scenarios[0]
	t.Logf("ops %d, errors %v %v, query %+v", sc.Ops, sc.ErrorsBy, sc.ErrorSamples, sc.Query)
	if sc.Ops == 0 || sc.Errors != 0 {
		t.Fatalf("ops %d, errors %d: want operations and no error", sc.Ops, sc.Errors)
	}
	if sc.Query.Min < latency {
		t.Errorf("query min %v through a latency of %v", sc.Query.Min, latency)
	}
}
