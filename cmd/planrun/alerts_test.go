package main

import (
	"strings"
	"testing"
)

func TestAlertsCommand(t *testing.T) {
	t.Setenv("DATABASE_URL", "postgres://app:s3cr3tpw@db.internal:5432/finance")

	r := planrun(t, "alerts", "../../plans/production.yaml", "--source", "postgres_exporter")
	if r.code != ExitApproved {
		t.Fatalf("alerts on the production plan: %s", r)
	}
	for _, want := range []string{
		"name: planrun-production",
		`sum(pg_stat_activity_count{datname="finance", state=~`,
		`/ 50 > 0.85`,
		`from the plan's assertion "pool utilization below 85% sustained"`,
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("the rules lack %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout+r.stderr, "s3cr3tpw") {
		t.Errorf("the output holds the database password:\n%s%s", r.stdout, r.stderr)
	}

	r = planrun(t, "alerts", plan("invalid"))
	if r.code != ExitUsage || !strings.Contains(r.stderr, "invalid.yaml:") || r.stdout != "" {
		t.Errorf("alerts on an invalid plan: want exit 2, the problems with their positions and no rules; got %s", r)
	}
	r = planrun(t, "alerts", "../../plans/production.yaml", "--format", "yaml")
	if r.code != ExitUsage || !strings.Contains(r.stderr, `format "yaml"`) {
		t.Errorf("an unknown format: %s", r)
	}
}
