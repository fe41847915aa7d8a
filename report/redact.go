package report

import (
	"maps"

	"github.com/planrun/planrun/internal/redact"
	"github.com/planrun/planrun/results"
)

// redacted returns a copy of run in which the target URL went through
// redact.DSN and every free text through redact.Text. Producers redact too;
// renderers do it again, defensively, so no report ever shows a password.
// run itself is not modified.
func redacted(run *results.Run) *results.Run {
	r := *run
	r.Target.URL = redact.DSN(r.Target.URL)
	r.StatusReason = redact.Text(r.StatusReason)
	r.Plan.Description = redact.Text(r.Plan.Description)

	if r.Preflight != nil {
		r.Preflight = make([]results.Check, len(run.Preflight))
		for i, c := range run.Preflight {
			c.Reason = redact.Text(c.Reason)
			r.Preflight[i] = c
		}
	}
	if r.Assertions != nil {
		r.Assertions = make([]results.Outcome, len(run.Assertions))
		for i, o := range run.Assertions {
			o.Actual = redact.Text(o.Actual)
			o.Reason = redact.Text(o.Reason)
			r.Assertions[i] = o
		}
	}
	if r.Verdict.Criteria != nil {
		r.Verdict.Criteria = make([]results.Criterion, len(run.Verdict.Criteria))
		for i, c := range run.Verdict.Criteria {
			if c.Reasons != nil {
				reasons := make([]string, len(c.Reasons))
				for j, s := range c.Reasons {
					reasons[j] = redact.Text(s)
				}
				c.Reasons = reasons
			}
			r.Verdict.Criteria[i] = c
		}
	}
	if r.Scenarios != nil {
		r.Scenarios = make([]results.Scenario, len(run.Scenarios))
		for i, s := range run.Scenarios {
			if s.ErrorSamples != nil {
				samples := maps.Clone(s.ErrorSamples)
				for k, v := range samples {
					samples[k] = redact.Text(v)
				}
				s.ErrorSamples = samples
			}
			r.Scenarios[i] = s
		}
	}
	return &r
}
