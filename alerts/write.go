package alerts

import (
	"fmt"
	"io"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/planrun/planrun/schema"
)

// Format is how the rules are written.
type Format string

const (
	// FormatPrometheus is a Prometheus rule file (rule_files:).
	FormatPrometheus Format = "prometheus"
	// FormatPrometheusRule is a Kubernetes PrometheusRule (the Prometheus
	// Operator's custom resource) holding the same groups.
	FormatPrometheusRule Format = "prometheusrule"
)

// Formats lists the formats, default first.
var Formats = []Format{FormatPrometheus, FormatPrometheusRule}

// Write writes the rules of plan for src to w in format f, after a comment
// that names the plan and the limits the rules hold it to.
func Write(w io.Writer, p *schema.Plan, src Source, f Format) error {
	g, err := Rules(p, src)
	if err != nil {
		return err
	}
	l := LimitsOf(p)
	var doc any
	switch f {
	case FormatPrometheus:
		doc = map[string]any{"groups": []Group{g}}
	case FormatPrometheusRule:
		doc = map[string]any{
			"apiVersion": "monitoring.coreos.com/v1",
			"kind":       "PrometheusRule",
			"metadata": map[string]any{
				"name":   resourceName(p.Name),
				"labels": map[string]string{"app.kubernetes.io/managed-by": "planrun", "planrun_plan": p.Name},
			},
			"spec": map[string]any{"groups": []Group{g}},
		}
	default:
		return fmt.Errorf("format %q: want %s or %s", f, FormatPrometheus, FormatPrometheusRule)
	}
	out, err := yaml.Marshal(doc)
	if err != nil {
		return fmt.Errorf("write the rules: %w", err)
	}
	header := fmt.Sprintf("# Alerting rules for plan %q, written by planrun alerts (source %s).\n"+
		"# Capacity %d (replicas × processes × (size + max_overflow)); utilization ceiling %s; idle in transaction at most %s.\n"+
		"# Regenerate them when the plan changes; do not edit by hand.\n",
		p.Name, src, l.Capacity, from(l), promDuration(l.IdleInTransaction))
	if src == SourcePostgresExporter {
		scope := "every backend of the server"
		if l.Database != "" {
			scope = fmt.Sprintf("every backend of database %q", l.Database)
		}
		header += fmt.Sprintf("# postgres_exporter counts %s, not only the service's.\n", scope)
	}
	if _, err := io.WriteString(w, header); err != nil {
		return err
	}
	_, err = w.Write(out)
	return err
}

// resourceName is a Kubernetes object name for a plan: "planrun-" and the
// plan's name in lower case, other characters as "-", at most 63.
func resourceName(plan string) string {
	s := "planrun-" + strings.Trim(regexp.MustCompile(`[^a-z0-9]+`).ReplaceAllString(strings.ToLower(plan), "-"), "-")
	return strings.TrimRight(s[:min(len(s), 63)], "-")
}
