package compare

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
)

// jsonComparison is the JSON form of a [Comparison] (--format json):
// every row with its raw figures, for tools. Durations are nanoseconds,
// rates fractions 0..1; a figure that is not finite (an infinite noise, a
// change from zero, an unknown value) is null.
type jsonComparison struct {
	Summary      string    `json:"summary"`
	Regressions  int       `json:"regressions"`
	Improvements int       `json:"improvements"`
	Tolerance    float64   `json:"tolerance"`
	NoiseFloorNS int64     `json:"noise_floor_ns"`
	FamilyFactor float64   `json:"family_factor"`
	Changes      []string  `json:"changes"`
	OnlyInBase   []string  `json:"only_in_base"`
	OnlyInNew    []string  `json:"only_in_new"`
	Notes        []string  `json:"notes"`
	Rows         []jsonRow `json:"rows"`
}

type jsonRow struct {
	Scenario      string   `json:"scenario"`
	Operation     string   `json:"operation,omitempty"`
	Metric        string   `json:"metric"`
	Unit          string   `json:"unit"`
	Base          *float64 `json:"base"`
	New           *float64 `json:"new"`
	Change        *float64 `json:"change"`
	Noise         *float64 `json:"noise"`
	Threshold     *float64 `json:"threshold"`
	Detectable    *float64 `json:"detectable"`
	Excess        *float64 `json:"excess"`
	Regression    bool     `json:"regression"`
	Improvement   bool     `json:"improvement"`
	Informational bool     `json:"informational"`
	Errors        bool     `json:"errors"`
	Note          string   `json:"note,omitempty"`
}

// finite is v, or nil (JSON null) when v is NaN or infinite.
func finite(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// JSON writes the comparison as one indented JSON document: the summary
// line, the counts, the options as applied, the changes, scenarios in one
// run only and notes, and every row with the fields of [Row] (detectable
// is [Row.Detectable]; null for none). docs/compare.md, "Output".
func (c *Comparison) JSON(w io.Writer) error {
	strs := func(ss []string) []string {
		if ss == nil {
			return []string{}
		}
		return ss
	}
	out := jsonComparison{
		Summary: c.Summary(), Regressions: c.Regressions, Improvements: c.Improvements,
		Tolerance: c.Tolerance, NoiseFloorNS: int64(c.NoiseFloor), FamilyFactor: c.Family,
		Changes: strs(c.Changes), OnlyInBase: strs(c.OnlyInBase), OnlyInNew: strs(c.OnlyInNew), Notes: strs(c.Notes),
		Rows: make([]jsonRow, 0, len(c.Rows)),
	}
	for _, r := range c.Rows {
		jr := jsonRow{Scenario: r.Scenario, Operation: r.Operation, Metric: r.Metric, Unit: r.Unit,
			Base: finite(r.Base), New: finite(r.New), Change: finite(r.Change),
			Regression: r.Regression, Improvement: r.Improvement, Informational: r.Informational, Errors: r.Errors, Note: r.Note}
		if !r.Informational {
			jr.Noise, jr.Threshold, jr.Detectable, jr.Excess = finite(r.Noise), finite(r.Threshold), finite(r.Detectable), finite(r.Excess)
		}
		out.Rows = append(out.Rows, jr)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("compare: write JSON: %w", err)
	}
	return nil
}
