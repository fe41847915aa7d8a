package schema

// applyDefaults fills the fields the file did not write, by presence: a key
// written as 0 keeps its 0 (`max_overflow: 0` is meaningful). See the
// Default* constants.
func applyDefaults(p *Plan, m *meta) {
	setIfAbsent(m, &p.Target.ApplicationName, ApplicationNameFor(p.Name))
	setIfAbsent(m, &p.Target.Replicas, DefaultReplicas)
	setIfAbsent(m, &p.Target.Balance, DefaultBalance)
	serviceDefaults(p, m)
	setIfAbsent(m, &p.Pool.Size, DefaultPoolSize)
	setIfAbsent(m, &p.Pool.MaxOverflow, DefaultMaxOverflow)
	setIfAbsent(m, &p.Pool.Timeout, Duration(DefaultPoolTimeout))
	setIfAbsent(m, &p.Pool.ConnectTimeout, Duration(DefaultConnectTimeout))
	setIfAbsent(m, &p.Pool.IsolationLevel, DefaultIsolationLevel)
	setIfAbsent(m, &p.Pool.ResetOnReturn, DefaultResetOnReturn)
	setIfAbsent(m, &p.Verdict.Pass, DefaultVerdictPass)
	setIfAbsent(m, &p.Verdict.Fail, DefaultVerdictFail)
	setIfAbsent(m, &p.Verdict.Generator.MaxTimerLateness, Duration(DefaultMaxTimerLateness))
	setIfAbsent(m, &p.Verdict.Generator.MaxLag, Duration(DefaultMaxLag))
	for _, name := range p.MixOrder {
		for i := range p.Mixes[name] {
			setIfAbsent(m, &p.Mixes[name][i].Weight, DefaultWeight)
		}
	}
	for i := range p.Scenarios {
		s := &p.Scenarios[i]
		if s.RecoveryAfter > 0 {
			setIfAbsent(m, &s.RecoveryThreshold, Duration(DefaultRecoveryThreshold))
		}
		if writesRate(s, m) {
			setIfAbsent(m, &s.Arrival, DefaultArrival)
			setIfAbsent(m, &s.MaxInFlight, DefaultMaxInFlight)
		}
		for j := range s.Faults {
			if f := &s.Faults[j]; f.Fault == FaultTerminateBackends {
				setIfAbsent(m, &f.Share, 1)
			}
		}
		if !m.has(&s.Mix) && len(p.MixOrder) == 1 {
			s.Mix = p.MixOrder[0]
			s.MixPos = s.Pos
		}
	}
	for i := range p.Assertions {
		setIfAbsent(m, &p.Assertions[i].Severity, Critical)
	}
}

// setIfAbsent sets *ptr to def when the file did not write the field.
func setIfAbsent[T any](m *meta, ptr *T, def T) {
	if !m.has(ptr) {
		*ptr = def
	}
}

// writesRate reports whether the file gives scenario s a rate, its own or a
// stage's: an open model, whose arrival and max_in_flight get defaults.
func writesRate(s *Scenario, m *meta) bool {
	if m.has(&s.Rate) {
		return true
	}
	for i := range s.Stages {
		if m.has(&s.Stages[i].Rate) {
			return true
		}
	}
	return false
}
