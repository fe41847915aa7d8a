package main

import (
	"fmt"
	"io"

	"github.com/planrun/planrun/alerts"
	"github.com/planrun/planrun/engine"
	"github.com/planrun/planrun/schema"
)

// cmdAlerts writes the Prometheus alerting rules of a plan to stdout: exit
// 0, or 2 for an invalid plan or usage (every problem printed).
func cmdAlerts(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("planrun alerts", stderr)
	format := fs.String("format", string(alerts.FormatPrometheus), fmt.Sprintf("%s (a rule file) or %s (a Kubernetes PrometheusRule)", alerts.FormatPrometheus, alerts.FormatPrometheusRule))
	source := fs.String("source", string(alerts.Sources[0]), fmt.Sprintf("the metrics the rules read: %s (its standard pg_stat_activity and pg_settings metrics) or %s (the service metrics of planrun watch)", alerts.SourcePostgresExporter, alerts.SourceWatch))
	path, ok := oneArg(fs, args, stderr, "alerts takes one plan file")
	if !ok {
		return ExitUsage
	}
	if prog, _, code := loadPlan(path, engine.Options{}, stderr); prog == nil {
		return code
	}
	plan, err := schema.Load(path)
	if err != nil { // loadPlan read it a moment ago: the file changed
		fmt.Fprintln(stderr, "planrun:", err)
		return ExitUsage
	}
	if err := alerts.Write(stdout, plan, alerts.Source(*source), alerts.Format(*format)); err != nil {
		fmt.Fprintln(stderr, "planrun: alerts:", err)
		return ExitUsage
	}
	return ExitApproved
}
