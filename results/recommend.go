package results

import "time"

// Recommendations is planrun's advice for the pool, predicted from what the
// run measured (package recommend: a queue model of the pool fed with each
// scenario's measured acquire rate and hold-time histogram; docs/model.md)
// and confirmed, when `planrun tune` ran, by runs. It is plain data: the
// reports print it, `planrun report` recomputes it from a saved run.
type Recommendations struct {
	// Target is the acquire-wait target the advice meets.
	Target WaitTarget `json:"target"`
	// Scenarios holds the prediction for each scenario the model could
	// take (a scenario without acquires, such as one that sends only HTTP
	// requests, is left out, with the reason in Notes).
	Scenarios []ScenarioAdvice `json:"scenarios"`
	// Pool is the configuration recommended for the whole plan: the
	// smallest size that meets Target at the scenarios of normal load,
	// and the max_overflow that covers the others.
	Pool PoolAdvice `json:"pool"`
	// Budget is what the recommendation asks of the server.
	Budget ServerBudget `json:"budget"`
	// Settings are concrete values for what preflight warned about
	// (statement_timeout, idle_in_transaction_session_timeout, pre_ping,
	// recycle).
	Settings []SettingAdvice `json:"settings,omitempty"`
	// Notes say how far to trust the advice: predictions that missed what
	// was measured, hold times that grew with concurrency (the database,
	// not the pool, is the bottleneck), scenarios left out.
	Notes []string `json:"notes,omitempty"`
}

// WaitTarget is an acquire-wait bound: Figure (acquire.p95 or acquire.p99)
// under Limit, read From the plan's assertion of that name, or the guide's
// 200 ms p95 when the plan has none.
type WaitTarget struct {
	Figure string        `json:"figure"`
	Limit  time.Duration `json:"limit"`
	From   string        `json:"from"`
}

// ScenarioAdvice is one scenario's measured load and what the model
// predicts for the configuration that ran and for the recommended one.
type ScenarioAdvice struct {
	Scenario string `json:"scenario"`
	// Rate is the measured acquires per second; HoldMean and HoldP95 the
	// measured hold times the model draws from (their whole histogram).
	Rate     float64       `json:"rate"`
	HoldMean time.Duration `json:"hold_mean"`
	HoldP95  time.Duration `json:"hold_p95"`
	// Measured is what the run measured at the configuration that ran;
	// Current what the model predicts for it (their distance is how far to
	// trust Recommended); Recommended what it predicts for Pool.
	Measured    PoolPrediction `json:"measured"`
	Current     PoolPrediction `json:"current"`
	Recommended PoolPrediction `json:"recommended"`
	// Trusted is false when Current missed Measured by more than the
	// stated margin; Why says by how much and what it means.
	Trusted bool   `json:"trusted"`
	Why     string `json:"why,omitempty"`
}

// PoolPrediction is a pool of Connections (size + max_overflow) under a
// scenario's load: its acquire waits, the share of acquires that timed
// out, and its mean utilization.
type PoolPrediction struct {
	Connections int           `json:"connections"`
	AcquireP95  time.Duration `json:"acquire_p95"`
	AcquireP99  time.Duration `json:"acquire_p99"`
	TimeoutRate float64       `json:"timeout_rate"`
	Utilization float64       `json:"utilization"`
}

// PoolAdvice is a recommended pool configuration, with the reasons for each
// value, and whether runs confirmed it (`planrun tune`).
type PoolAdvice struct {
	Size        int           `json:"size"`
	MaxOverflow int           `json:"max_overflow"`
	Timeout     time.Duration `json:"timeout"`
	Reasons     []string      `json:"reasons,omitempty"`
	// Confirmed says that runs confirmed it: `planrun tune` found the
	// smallest configuration that passes the plan's critical assertions
	// within ±1 connection (size + max_overflow) of this one (set by tune
	// on the recommendations it reports; false in a run's report).
	Confirmed bool `json:"confirmed,omitempty"`
}

// ServerBudget is replicas × processes × (size + max_overflow) against the
// connections the server has for them (max_connections − reserved − other
// sessions, measured in preflight), now and with the recommendation.
type ServerBudget struct {
	Available   int  `json:"available"`
	Current     int  `json:"current"`
	Recommended int  `json:"recommended"`
	Fits        bool `json:"fits"`
	// Headroom is the share of Available left with the recommendation.
	Headroom float64 `json:"headroom"`
}

// SettingAdvice is one server or pool setting: its current value and the
// one recommended, and why.
type SettingAdvice struct {
	Name        string `json:"name"`
	Current     string `json:"current"`
	Recommended string `json:"recommended"`
	Why         string `json:"why"`
}
