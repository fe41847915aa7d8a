package results

import "time"

// Tuning is the record of one `planrun tune`: the configurations of the
// pool a scenario ran at, what each measured and whether it passed, and the
// smallest one that passed (docs/tune.md). Durations are integer
// nanoseconds in JSON, as in [Run].
type Tuning struct {
	PlanrunVersion string   `json:"planrun_version"`
	Plan           PlanInfo `json:"plan"`
	// Scenario is the one scenario that ran (--scenario).
	Scenario string `json:"scenario"`
	// TimeScale is the --time-scale factor of every run (1 = as written).
	TimeScale float64 `json:"time_scale"`
	// Seed is the seed every run shared, so that each had the same arrivals.
	Seed int64 `json:"seed,omitempty"`
	// Stated is the configuration the plan states; Model the queue model's
	// recommendation, read from the first run (nil when it had none).
	Stated TuningConfig  `json:"stated"`
	Model  *TuningConfig `json:"model,omitempty"`
	// Sizes is the range of pool.size bisected (max_overflow fixed at the
	// plan's); Overflows the range of max_overflow bisected at the size
	// found (nil when not asked for).
	Sizes     TuningRange  `json:"sizes"`
	Overflows *TuningRange `json:"overflows,omitempty"`
	// Tries are every run, in the order they ran, repeats included.
	Tries []TuningTry `json:"tries"`
	// Smallest is the passing configuration with the fewest connections
	// (then the smallest size); nil when none passed.
	Smallest *TuningConfig `json:"smallest,omitempty"`
	// SizeBracket is what the size bisection proved: FailedAt the largest
	// size known to fail below PassedAt (Sizes.From − 1 when none),
	// PassedAt the smallest known to pass (Sizes.To + 1 when none did).
	SizeBracket TuningBracket `json:"size_bracket"`
	// Exit is why tune stopped: "found", "none_passes", "inconclusive" (a
	// bisection step stayed inconclusive after its repeat), "interrupted"
	// or "could_not_run"; ExitReason says it in a sentence.
	Exit       string `json:"exit"`
	ExitReason string `json:"exit_reason"`
	// Note is set when the first run's recommendations were missing or did
	// not cover the scenario (so nothing is predicted).
	Note string `json:"note,omitempty"`
	// Recommendations are the first run's recommendations (nil when it made
	// none), with Pool.Confirmed set when the search found the smallest
	// passing configuration within ±1 connection of Pool (tune.Confirms).
	Recommendations *Recommendations `json:"recommendations,omitempty"`
}

// TuningConfig is a pool configuration.
type TuningConfig struct {
	Size        int `json:"size"`
	MaxOverflow int `json:"max_overflow"`
}

// TuningRange is an inclusive range.
type TuningRange struct {
	From int `json:"from"`
	To   int `json:"to"`
}

// TuningBracket is a bisection's bracket (see [Tuning.SizeBracket]).
type TuningBracket struct {
	FailedAt int `json:"failed_at"`
	PassedAt int `json:"passed_at"`
}

// Tuning verdicts of a try.
const (
	TunePass         = "pass"
	TuneFail         = "fail"
	TuneInconclusive = "inconclusive"
	TuneInterrupted  = "interrupted"
	TuneCouldNotRun  = "could_not_run"
)

// TuningTry is one run of the scenario at one configuration.
type TuningTry struct {
	Size        int `json:"size"`
	MaxOverflow int `json:"max_overflow"`
	// Why says which step asked for it: "plan", "model", "size" or
	// "overflow"; Repeat marks the repeat of an inconclusive try.
	Why    string `json:"why"`
	Repeat bool   `json:"repeat,omitempty"`
	// AcquireP95 and AcquireP99 are the scenario's measured acquire waits.
	AcquireP95 time.Duration `json:"acquire_p95"`
	AcquireP99 time.Duration `json:"acquire_p99"`
	// Timeouts counts acquires that timed out (errors_by.acquire_timeout);
	// TimeoutRate is Timeouts over the scenario's operations (0 to 1).
	Timeouts    int64   `json:"timeouts"`
	TimeoutRate float64 `json:"timeout_rate"`
	// SuccessRate is the scenario's success_rate (0 to 1).
	SuccessRate float64 `json:"success_rate"`
	// Verdict is one of the Tune* verdicts; Label the run's verdict label
	// and Reason why it did not pass (the failed critical assertions, or
	// the inconclusive verdict's or the failure's reason).
	Verdict string `json:"verdict"`
	Label   string `json:"label,omitempty"`
	Reason  string `json:"reason,omitempty"`
	// PredictedP95 is the model's acquire p95 for this configuration, from
	// the first run's recommendations (0 when it predicted none for it).
	PredictedP95 time.Duration `json:"predicted_p95"`
	// Elapsed is how long the run took, setup and teardown included.
	Elapsed time.Duration `json:"elapsed"`
}
