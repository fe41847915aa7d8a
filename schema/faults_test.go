package schema_test

import (
	"testing"
	"time"

	"github.com/planrun/planrun/schema"
)

// netHead is a plan head with target.network (lines 1-4); withFaults
// adds the app mix (lines 5-7) and one scenario `s` of users with duration
// 1m (lines 8-12) whose faults are the given lines, from line 13 on.
const netHead = "version: 1\nname: t\ntarget:\n  network: {latency: 1ms}"

func withFaults(head string, faults ...string) string {
	return doc(append([]string{head, mixApp, "scenarios:", "  - name: s", "    users: 1", "    duration: 1m", "    faults:"}, faults...)...)
}

// TestParseBandwidth checks the units a bandwidth may be written in and
// what each is in bytes per second.
func TestParseBandwidth(t *testing.T) {
	tests := []struct {
		text string
		want schema.Bandwidth
	}{
		{"1B/s", 1},
		{"100MB/s", 100_000_000},
		{"1.5kB/s", 1500},
		{"2GB/s", 2_000_000_000},
		{"512KiB/s", 512 << 10},
		{"1MiB/s", 1 << 20},
		{"1GiB/s", 1 << 30},
		{"64kbit/s", 8000},
		{"10Mbit/s", 1_250_000},
		{"1Gbit/s", 125_000_000},
		{"10 Mbit/s", 1_250_000},
		{".5kB/s", 500},
		{"100GB/s", schema.MaxBandwidth},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			p := parseOK(t, doc(head, "target:", "  network: {bandwidth: '"+tt.text+"'}", mixApp, scenario))
			if got := p.Target.Network.Bandwidth; got != tt.want {
				t.Errorf("bandwidth %s = %d B/s, want %d", tt.text, got, tt.want)
			}
		})
	}
}

// TestParseShare checks that a share is a percentage, read as a fraction,
// and 100% when not written (SharePos then has no line).
func TestParseShare(t *testing.T) {
	tests := []struct {
		text    string
		want    schema.Percent
		written bool
	}{
		{"50%", 0.5, true},
		{"12.5%", 0.125, true},
		{"100%", 1, true},
		{"0.1%", 0.001, true},
		{"", 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			share := ""
			if tt.text != "" {
				share = ", share: " + tt.text
			}
			p := parseOK(t, withFaults(netHead, "      - {at: 1s, fault: terminate_backends"+share+"}"))
			f := p.Scenarios[0].Faults[0]
			if f.Share != tt.want {
				t.Errorf("share %s = %v, want %v", tt.text, f.Share, tt.want)
			}
			if (f.SharePos.Line > 0) != tt.written {
				t.Errorf("SharePos = %v, want written = %v", f.SharePos, tt.written)
			}
			if tt.written && f.SharePos != at(13, 52) {
				t.Errorf("SharePos = %v, want %v", f.SharePos, at(13, 52))
			}
		})
	}
}

// TestFaultsValid loads a plan with target.network and every fault kind,
// on a closed model and on stages, and checks what it decodes to.
func TestFaultsValid(t *testing.T) {
	src := doc(
		"version: 1",
		"name: t",
		"target:",
		"  network:",
		"    latency: 2ms",
		"    jitter: 500us",
		"    bandwidth: 100MB/s",
		mixApp,
		"scenarios:",
		"  - name: s",
		"    users: 10",
		"    duration: 3m",
		"    faults:",
		"      - {at: 30s, fault: stall, for: 5s}",
		"      - {at: 60s, fault: latency, add: 200ms, for: 10s}",
		"      - {at: 90s, fault: reset}",
		"      - {at: 100s, fault: terminate_backends, share: 50%}",
		"      - {at: 120s, fault: lock, table: planrun_accounts, for: 3s}",
		"      - {at: 121s, fault: lock, table: app.\"Other\", for: 3s}",
		"      - {at: 150s, fault: restart, for: 2s}",
		"      - {at: 152s, fault: restart, for: 2s}",
		"      - {at: 35s, fault: stall, for: 1s}",
		"  - name: staged",
		"    stages: [{users: 5, duration: 30s}, {users: 20, duration: 30s}]",
		"    faults: [{at: 59s, fault: stall, for: 1s}]",
	)
	p := parseOK(t, src)
	n := p.Target.Network
	if n == nil || n.Latency.D() != 2*time.Millisecond || n.Jitter.D() != 500*time.Microsecond || n.Bandwidth != 100_000_000 {
		t.Fatalf("network = %+v", n)
	}
	if n.Pos != at(5, 5) {
		t.Errorf("network at %v, want %v", n.Pos, at(5, 5))
	}
	fs := p.Scenarios[0].Faults
	if len(fs) != 9 {
		t.Fatalf("%d faults, want 9", len(fs))
	}
	want := []schema.Fault{
		{At: schema.Duration(30 * time.Second), Fault: schema.FaultStall, For: schema.Duration(5 * time.Second)},
		{At: schema.Duration(60 * time.Second), Fault: schema.FaultLatency, Add: schema.Duration(200 * time.Millisecond), For: schema.Duration(10 * time.Second)},
		{At: schema.Duration(90 * time.Second), Fault: schema.FaultReset},
		{At: schema.Duration(100 * time.Second), Fault: schema.FaultTerminateBackends, Share: 0.5},
		{At: schema.Duration(120 * time.Second), Fault: schema.FaultLock, Table: "planrun_accounts", For: schema.Duration(3 * time.Second)},
		{At: schema.Duration(121 * time.Second), Fault: schema.FaultLock, Table: `app."Other"`, For: schema.Duration(3 * time.Second)},
		{At: schema.Duration(150 * time.Second), Fault: schema.FaultRestart, For: schema.Duration(2 * time.Second)},
	}
	for i, w := range want {
		got := fs[i]
		got.Pos, got.SharePos = schema.Pos{}, schema.Pos{}
		if got != w {
			t.Errorf("fault %d = %+v, want %+v", i, got, w)
		}
	}
	if fs[0].Pos != at(16, 9) {
		t.Errorf("fault 0 at %v, want %v", fs[0].Pos, at(16, 9))
	}
}

// TestEmptyNetwork: an empty block, or a bare `network:`, is a proxy that
// adds nothing; no block is no proxy.
func TestEmptyNetwork(t *testing.T) {
	for _, block := range []string{"  network: {}", "  network:"} {
		p := parseOK(t, doc(head, "target:", block, mixApp, scenario))
		if n := p.Target.Network; n == nil || *n != (schema.Network{Pos: n.Pos}) {
			t.Errorf("%q: network = %+v, want an empty block", block, n)
		}
	}
	if p := parseOK(t, doc(head, mixApp, scenario)); p.Target.Network != nil {
		t.Errorf("no block: network = %+v, want nil", p.Target.Network)
	}
}

// TestRestartWithURL: a restart with a literal target.url is a plan error;
// with a URL from ${VAR}, set or not, the engine decides at preflight.
func TestRestartWithURL(t *testing.T) {
	fault := "      - {at: 1s, fault: restart, for: 1s}"
	for _, url := range []string{"${DATABASE_URL}", "${DATABASE_URL:-postgres://h/db}", "postgres://${DB_HOST:-h}/db", "''"} {
		src := withFaults("version: 1\nname: t\ntarget:\n  url: "+url, fault)
		if _, err := schema.Parse("plan.yaml", []byte(src), envOf(map[string]string{"DATABASE_URL": "postgres://x@db/prod"})); err != nil {
			t.Errorf("url %s: %v", url, err)
		}
	}
}

// TestFaultErrors checks every error of target.network and faults: its
// position, message and hint.
func TestFaultErrors(t *testing.T) {
	noNet := "version: 1\nname: t"
	tests := []struct {
		name string
		src  string
		want []want
	}{
		{
			name: "bandwidth without a unit",
			src:  doc(head, "target:", "  network: {bandwidth: 100}", mixApp, scenario),
			want: []want{{"4:@100", "bandwidth: bandwidth needs a unit", "write `100MB/s` (bytes) or `100Mbit/s` (bits)"}},
		},
		{
			name: "bandwidth in Mbps",
			src:  doc(head, "target:", "  network: {bandwidth: 10Mbps}", mixApp, scenario),
			want: []want{{"4:@10Mbps", `bandwidth: unknown bandwidth unit "Mbps"`, "write `10Mbit/s`"}},
		},
		{
			name: "bandwidth in an unknown unit lists the units",
			src:  doc(head, "target:", "  network: {bandwidth: 10 furlongs/s}", mixApp, scenario),
			want: []want{{"4:@10", `bandwidth: unknown bandwidth unit "furlongs/s"`, "units B/s, kB/s, MB/s, GB/s; KiB/s, MiB/s, GiB/s; kbit/s, Mbit/s, Gbit/s"}},
		},
		{
			name: "bandwidth zero",
			src:  doc(head, "target:", "  network: {bandwidth: 0MB/s}", mixApp, scenario),
			want: []want{{"4:@0MB", "bandwidth: bandwidth must be > 0, got 0MB/s", "remove `bandwidth` for no limit"}},
		},
		{
			name: "bandwidth negative",
			src:  doc(head, "target:", "  network: {bandwidth: -1MB/s}", mixApp, scenario),
			want: []want{{"4:@-1", "bandwidth must not be negative, got -1MB/s", "remove `bandwidth`"}},
		},
		{
			name: "bandwidth in Tbit/s",
			src:  doc(head, "target:", "  network: {bandwidth: 1Tbit/s}", mixApp, scenario),
			want: []want{{"4:@1T", `bandwidth: unknown bandwidth unit "Tbit/s"`, "Gbit/s"}},
		},
		{
			name: "bandwidth above 100GB/s",
			src:  doc(head, "target:", "  network: {bandwidth: 101GB/s}", mixApp, scenario),
			want: []want{{"4:@101", "bandwidth: bandwidth 101GB/s is more than 100GB/s", "remove `bandwidth` for no limit"}},
		},
		{
			name: "latency written as a bandwidth",
			src:  doc(head, "target:", "  network: {bandwidth: 1kbit/s, latency: 0.1B/s}", mixApp, scenario),
			want: []want{{"4:@0.1", `latency: invalid duration "0.1B/s"`, "Go-style durations"}},
		},
		{
			name: "bandwidth rounds to zero",
			src:  doc(head, "target:", "  network: {bandwidth: 0.1B/s}", mixApp, scenario),
			want: []want{{"4:@0.1", "bandwidth: bandwidth 0.1B/s is less than 1 B/s", "`1B/s`"}},
		},
		{
			name: "bandwidth a list",
			src:  doc(head, "target:", "  network: {bandwidth: [1, 2]}", mixApp, scenario),
			want: []want{{"4:@[1", "bandwidth must be a bandwidth such as `100MB/s`, got a list", "`512KiB/s`"}},
		},
		{
			name: "latency and jitter",
			src:  doc(head, "target:", "  network: {latency: 11s, jitter: 12s}", mixApp, scenario),
			want: []want{
				{"4:@11s", "latency 11s is more than 10s", "simulate it with a `stall` fault"},
				{"4:@12s", "jitter 12s is more than latency 11s", "make it at most 11s"},
			},
		},
		{
			name: "jitter without latency",
			src:  doc(head, "target:", "  network: {jitter: 1ms}", mixApp, scenario),
			want: []want{{"4:@1ms", "jitter 1ms is more than latency 0", "make it at most 0"}},
		},
		{
			name: "unknown key in network",
			src:  doc(head, "target:", "  network: {latancy: 1ms}", mixApp, scenario),
			want: []want{{"4:@latancy", "unknown key `latancy` in target.network", "did you mean `latency`?"}},
		},
		{
			name: "unknown fault",
			src:  withFaults(netHead, "      - {at: 1s, fault: stal, for: 1s}"),
			want: []want{{"13:@stal", "unknown fault `stal`", "did you mean `stall`?"}},
		},
		{
			name: "unknown fault lists the kinds",
			src:  withFaults(netHead, "      - {at: 1s, fault: explode}"),
			want: []want{{"13:@explode", "unknown fault `explode`", "valid faults: `latency`, `lock`, `reset`, `restart`, `stall`, `terminate_backends`"}},
		},
		{
			name: "fault without a kind or at",
			src:  withFaults(netHead, "      - {for: 1s}"),
			want: []want{
				{"13:@{", "fault needs a kind", "add `fault:` with one of `stall`, `latency`, `reset`, `terminate_backends`, `lock`, `restart`"},
				{"13:@{", "fault needs `at`", "add `at: 30s`"},
			},
		},
		{
			name: "unknown key in a fault",
			src:  withFaults(netHead, "      - {at: 1s, fault: stall, duration: 1s}"),
			want: []want{
				{"13:@{", "`stall` fault needs `for`", "`{at: 30s, fault: stall, for: 5s}`"},
				{"13:@duration", "unknown key `duration` in fault", "a fault's length is `for`: write `for: 1s`"},
			},
		},
		{
			name: "at the end of the scenario",
			src:  withFaults(netHead, "      - {at: 1m, fault: reset}"),
			want: []want{{"13:@1m", "fault at 1m is not before the end of scenario `s`, which lasts 1m", "`at` counts from the scenario's start"}},
		},
		{
			name: "at beyond the stages",
			src: doc(netHead, mixApp, "scenarios:", "  - name: s", "    stages: [{users: 1, duration: 10s}, {users: 2, duration: 5s}]",
				"    faults: [{at: 20s, fault: reset}]"),
			want: []want{{"11:@20s", "fault at 20s is not before the end of scenario `s`, which lasts 15s", ""}},
		},
		{
			name: "at beyond an open model",
			src:  doc(netHead, mixApp, "scenarios:", "  - name: s", "    rate: 10/s", "    duration: 10s", "    faults: [{at: 10s, fault: reset}]"),
			want: []want{{"12:@10s,", "fault at 10s is not before the end of scenario `s`, which lasts 10s", ""}},
		},
		{
			name: "at without a unit",
			src:  withFaults(netHead, "      - {at: 30, fault: reset}"),
			want: []want{{"13:@30", "at: duration needs a unit", "write `30s`, not `30`"}},
		},
		{
			name: "fault lasts past the end",
			src:  withFaults(netHead, "      - {at: 50s, fault: stall, for: 20s}"),
			want: []want{{"13:@20s", "`stall` fault lasts past the end of scenario `s`: from 50s, the scenario has 10s left, not 20s", "make `for` at most 10s"}},
		},
		{
			name: "for is required",
			src: withFaults(netHead, "      - {at: 1s, fault: stall}", "      - {at: 1s, fault: latency, add: 1ms}",
				"      - {at: 1s, fault: lock, table: t}", "      - {at: 1s, fault: restart}"),
			want: []want{
				{"13:@{", "`stall` fault needs `for`", "add `for: 5s`"},
				{"14:@{", "`latency` fault needs `for`", ""},
				{"15:@{", "`lock` fault needs `for`", ""},
				{"16:@{", "`restart` fault needs `for`", ""},
			},
		},
		{
			name: "for is zero",
			src:  withFaults(netHead, "      - {at: 1s, fault: stall, for: 0}"),
			want: []want{{"13:@0}", "`stall` fault: for must be > 0", "`for: 5s`"}},
		},
		{
			name: "for on an instant fault",
			src:  withFaults(netHead, "      - {at: 1s, fault: reset, for: 1s}", "      - {at: 1s, fault: terminate_backends, for: 1s}"),
			want: []want{
				{"13:@1s}", "`reset` fault is instant: `for` does not apply", "use a `stall` fault"},
				{"14:@1s}", "`terminate_backends` fault is instant: `for` does not apply", "remove `for`"},
			},
		},
		{
			name: "for over 24h",
			src:  doc(netHead, mixApp, "scenarios:", "  - {name: s, users: 1, duration: 48h, faults: [{at: 1s, fault: stall, for: 25h}]}"),
			want: []want{{"9:@25h", "`stall` fault: for 25h is longer than 24h", "at most 24h"}},
		},
		{
			name: "add",
			src: withFaults(netHead, "      - {at: 1s, fault: latency, for: 1s}", "      - {at: 2s, fault: latency, for: 1s, add: 0s}",
				"      - {at: 3s, fault: latency, for: 1s, add: 11s}", "      - {at: 4s, fault: stall, for: 1s, add: 1s}"),
			want: []want{
				{"13:@{", "`latency` fault needs `add`", "add `add: 200ms`"},
				{"14:@0s", "`latency` fault: add must be > 0", ""},
				{"15:@11s", "`latency` fault: add 11s is more than 10s", "`stall`"},
				{"16:@1s}", "`stall` fault: `add` applies to latency faults only", "remove `add`"},
			},
		},
		{
			name: "share",
			src: withFaults(netHead, "      - {at: 1s, fault: terminate_backends, share: 0%}",
				"      - {at: 2s, fault: terminate_backends, share: 101%}",
				"      - {at: 3s, fault: terminate_backends, share: 0.5}",
				"      - {at: 4s, fault: terminate_backends, share: 50}",
				"      - {at: 5s, fault: reset, share: 50%}",
				"      - {at: 6s, fault: terminate_backends, share: half}"),
			want: []want{
				{"13:@0%", "share must be more than 0% and at most 100%, got 0%", "`50%` terminates half"},
				{"14:@101%", "share must be more than 0% and at most 100%, got 101%", ""},
				{"15:@0.5", "share: a percentage needs `%`", "write `50%` for the fraction 0.5"},
				{"16:@50}", "share: a percentage needs `%`", "write `50%`"},
				{"17:@50%", "`reset` fault: `share` applies to terminate_backends faults only", "remove `share`"},
				{"18:@half", `share: invalid percentage "half"`, "`50%`"},
			},
		},
		{
			name: "table",
			src: withFaults(netHead, "      - {at: 1s, fault: lock, for: 1s}",
				"      - {at: 2s, fault: lock, for: 1s, table: 'a; DROP TABLE b'}",
				"      - {at: 3s, fault: lock, for: 1s, table: ''}",
				"      - {at: 4s, fault: lock, for: 1s, table: a.b.c}",
				"      - {at: 5s, fault: stall, for: 1s, table: t}"),
			want: []want{
				{"13:@{", "`lock` fault needs `table`", "add `table:`"},
				{"14:@'a", "`lock` fault: \"a; DROP TABLE b\" is not a table name", "`app.accounts`"},
				{"15:@''", "`lock` fault: \"\" is not a table name", ""},
				{"16:@a.b", "`lock` fault: \"a.b.c\" is not a table name", ""},
				{"17:@t}", "`stall` fault: `table` applies to lock faults only", "remove `table`"},
			},
		},
		{
			name: "overlapping faults of one kind",
			src: withFaults(netHead,
				"      - {at: 10s, fault: stall, for: 5s}",
				"      - {at: 14s, fault: stall, for: 5s}",
				"      - {at: 15s, fault: stall, for: 1s}",
				"      - {at: 12s, fault: latency, add: 1ms, for: 5s}",
				"      - {at: 20s, fault: lock, table: Accounts, for: 5s}",
				"      - {at: 21s, fault: lock, table: accounts, for: 5s}",
				"      - {at: 21s, fault: lock, table: '\"Accounts\"', for: 5s}",
				"      - {at: 30s, fault: restart, for: 5s}",
				"      - {at: 25s, fault: restart, for: 10s}"),
			want: []want{
				{"14:@14s", "`stall` fault from 14s to 19s overlaps the one at line 13 (10s to 15s)", "start this one at 15s or later"},
				{"15:@15s", "`stall` fault from 15s to 16s overlaps the one at line 14 (14s to 19s)", "start this one at 19s or later"},
				{"18:@21s", "`lock` fault on accounts from 21s to 26s overlaps the one at line 17 (20s to 25s)", ""},
				{"21:@25s", "`restart` fault from 25s to 35s overlaps the one at line 20 (30s to 35s)", ""},
			},
		},
		{
			// A table is compared by its quoted form: atk_fz and "atk_fz" are
			// one table; public.atk_fz may be too, but only the search_path
			// at run time says, so it is another name.
			name: "lock tables by their quoted form",
			src: withFaults(netHead,
				"      - {at: 1s, fault: lock, table: atk_fz, for: 5s}",
				"      - {at: 2s, fault: lock, table: '\"atk_fz\"', for: 1s}",
				"      - {at: 3s, fault: lock, table: public.atk_fz, for: 5s}",
				"      - {at: 4s, fault: lock, table: '\"public\".ATK_FZ', for: 1s}",
				"      - {at: 5s, fault: lock, table: '\"ATK_FZ\"', for: 1s}"),
			want: []want{
				{"14:@2s", "`lock` fault on \"atk_fz\" from 2s to 3s overlaps the one at line 13 (1s to 6s)", ""},
				{"16:@4s", "`lock` fault on \"public\".ATK_FZ from 4s to 5s overlaps the one at line 15 (3s to 8s)", ""},
			},
		},
		{
			name: "network faults without target.network",
			src: withFaults(noNet, "      - {at: 1s, fault: stall, for: 1s}", "      - {at: 2s, fault: latency, add: 1ms, for: 1s}",
				"      - {at: 3s, fault: reset}", "      - {at: 4s, fault: terminate_backends}", "      - {at: 5s, fault: lock, table: t, for: 1s}",
				"      - {at: 6s, fault: restart, for: 1s}"),
			want: []want{
				{"11:@stall", "`stall` fault needs target.network", "add `target.network`, e.g. `network: {latency: 1ms}`"},
				{"12:@latency", "`latency` fault needs target.network", ""},
				{"13:@reset", "`reset` fault needs target.network", ""},
			},
		},
		{
			name: "restart with a literal url",
			src:  withFaults("version: 1\nname: t\ntarget:\n  url: postgres://h/db", "      - {at: 1s, fault: restart, for: 1s}"),
			want: []want{{"13:@restart", "`restart` fault restarts the embedded server, but target.url (line 4) names another one", "restart needs the embedded server: remove target.url"}},
		},
		{
			name: "faults not a list",
			src:  doc(netHead, mixApp, "scenarios:", "  - {name: s, users: 1, duration: 1m, faults: stall}"),
			want: []want{{"9:@stall", "faults must be a list, got string \"stall\"", ""}},
		},
		{
			name: "fault not a mapping",
			src:  withFaults(netHead, "      - stall"),
			want: []want{{"13:@stall", "faults[0] must be a mapping, got string \"stall\"", ""}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkErrors(t, tt.src, nil, tt.want)
		})
	}
}

// TestTooManyFaults checks the MaxFaults limit, at the faults key.
func TestTooManyFaults(t *testing.T) {
	lines := []string{netHead, mixApp, "scenarios:", "  - name: s", "    users: 1", "    duration: 2h", "    faults:"}
	for i := range schema.MaxFaults + 1 {
		lines = append(lines, "      - {at: "+time.Duration(i*int(time.Second)).String()+", fault: reset}")
	}
	checkErrors(t, doc(lines...), nil, []want{{"13:7", "scenario `s` has 1,001 faults, more than 1,000", "split the scenario"}})
}
