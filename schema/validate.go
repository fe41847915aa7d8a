package schema

import (
	"fmt"
	"github.com/planrun/planrun/internal/humanize"
	"math"
	"slices"
	"strings"
)

// validate reports every rule the decoded, defaulted plan breaks. It reads
// the plan and never changes it. Fields that were badly typed (already
// reported) are skipped, so one mistake gives one error.
func validate(p *Plan, m *meta, src *source, errs *Errors) {
	v := &validator{p: p, m: m, src: src, errs: errs}
	v.top()
	v.target()
	v.pool()
	for i := range p.Setup {
		v.statement(&p.Setup[i], "setup statement", "setup statement")
	}
	for i := range p.Teardown {
		v.statement(&p.Teardown[i], "teardown statement", "teardown statement")
	}
	for _, name := range p.MixOrder {
		v.mix(name, p.Mixes[name])
	}
	v.scenarios()
	checkLoad(p, 1, errs)
	v.assertions()
	v.verdict()
}

type validator struct {
	p    *Plan
	m    *meta
	src  *source
	errs *Errors
	// noServiceReported is set once an http operation without
	// target.service was reported: the others say nothing more.
	noServiceReported bool
}

// check reports msg at the field behind ptr (or at fallback when the field was
// not written) when bad is true and the field was not already reported.
func (v *validator) check(bad bool, ptr any, fallback Pos, hint, format string, args ...any) {
	if bad && v.m.ok(ptr) {
		v.errs.Add(v.m.at(ptr, fallback), hint, format, args...)
	}
}

func (v *validator) top() {
	p, root := v.p, v.m.root
	switch {
	case !v.m.has(&p.Version):
		v.errs.Add(root, "add `version: 1` at the top of the file", "version is required")
	default:
		v.check(p.Version != 1, &p.Version, root, "only version 1 exists", "unsupported plan version %d", p.Version)
	}
	v.check(strings.TrimSpace(p.Name) == "", &p.Name, root, "add `name: ...`; it names the reports", "name is required")
	v.check(len(p.Mixes) == 0, &p.Mixes, root, "add `mixes:`, a mapping of mix names to weighted operations",
		"at least one mix is required")
	v.check(len(p.Scenarios) == 0, &p.Scenarios, root, "add `scenarios:`, a list of load phases",
		"at least one scenario is required")
	v.check(len(p.Scenarios) > MaxScenarios, &p.Scenarios, root, "split the plan: every reader of its report refuses more",
		"%s scenarios, more than %s", humanize.Int(int64(len(p.Scenarios))), humanize.Int(MaxScenarios))
}

// shown is how a message shows the integer behind ptr: the number, or, when
// it was expanded from ${VAR}, the variable (its value is never echoed).
func (v *validator) shown(ptr *int) string {
	if ref, ok := v.m.env[ptr]; ok {
		return "the value of " + ref
	}
	return humanize.Int(int64(*ptr))
}

// atMost reports the integer behind ptr when it is above limit, naming it
// what, with a hint saying why the limit is there.
func (v *validator) atMost(ptr *int, limit int, fallback Pos, what, why string) {
	v.check(*ptr > limit, ptr, fallback, why+" (see Limits in docs/plan-format.md)",
		"%s must be at most %s, got %s", what, humanize.Int(int64(limit)), v.shown(ptr))
}

func (v *validator) target() {
	t := &v.p.Target
	v.check(t.Replicas < 1, &t.Replicas, v.m.root, "", "target replicas must be ≥ 1, got %s", v.shown(&t.Replicas))
	v.atMost(&t.Replicas, MaxReplicas, v.m.root, "target replicas", "each replica is a pool of its own, and the capacity check counts them")
	v.check(t.Balance != BalanceRoundRobin && t.Balance != BalanceRandom, &t.Balance, v.m.root,
		didYouMean(t.Balance, "balances", []string{BalanceRoundRobin, BalanceRandom}), "unknown balance `%s`", t.Balance)
	v.network()
	v.service()
}

func (v *validator) pool() {
	pl, root := &v.p.Pool, v.m.root
	v.check(pl.Size < 1, &pl.Size, root, "", "pool size must be ≥ 1, got %d", pl.Size)
	v.check(pl.MaxOverflow < 0, &pl.MaxOverflow, root, "write 0 for no overflow", "pool max_overflow must be ≥ 0, got %d", pl.MaxOverflow)
	const whyConns = "one pool's connections; PostgreSQL itself allows at most 262,143"
	v.atMost(&pl.Size, MaxPoolConns, root, "pool size", whyConns)
	v.atMost(&pl.MaxOverflow, MaxPoolConns, root, "pool max_overflow", whyConns)
	v.check(pl.Timeout <= 0, &pl.Timeout, root, "", "pool timeout must be > 0")
	v.check(pl.ConnectTimeout <= 0, &pl.ConnectTimeout, root, "", "pool connect_timeout must be > 0")
	v.enum(&pl.IsolationLevel, "isolation_level", "isolation levels", IsolationLevels)
	v.enum(&pl.ResetOnReturn, "reset_on_return", "resets", ResetsOnReturn)
}

// enum reports the string behind ptr, the value of key, when it is not one
// of valid. A value from the environment is named by its variable, never
// shown.
func (v *validator) enum(ptr *string, key, what string, valid []string) {
	if slices.Contains(valid, *ptr) {
		return
	}
	shown, hint := "`"+*ptr+"`", enumHint(*ptr, what, valid)
	if ref, ok := v.m.env[ptr]; ok {
		shown = "(the value of " + ref + ")"
		if !strings.HasPrefix(hint, "did you mean") && !strings.HasPrefix(hint, "valid ") {
			hint = "planrun spells SQLAlchemy's names in lower case with underscores: valid " + what + ": " + quoteList(valid)
		}
	}
	v.check(true, ptr, v.m.root, hint, "unknown %s %s", key, shown)
}

// enumHint is the hint for an unknown value of a key that takes SQLAlchemy's
// names in lower case with underscores: SQLAlchemy's own spelling
// ("READ COMMITTED", "AUTOCOMMIT", "None") is named as such, anything else
// gets did-you-mean.
func enumHint(got, what string, valid []string) string {
	norm := strings.ToLower(strings.Join(strings.Fields(strings.TrimSpace(got)), "_"))
	if slices.Contains(valid, norm) {
		return fmt.Sprintf("planrun spells SQLAlchemy's `%s` in lower case with underscores: write `%s`", got, norm)
	}
	return didYouMean(got, what, valid)
}

// statement checks one statement; what names it alone ("setup
// statement"), label with its operation when it has one.
func (v *validator) statement(s *Statement, what, label string) {
	if !v.m.ok(s) {
		return
	}
	v.check(strings.TrimSpace(s.SQL) == "", &s.SQL, s.Pos, "", "%s needs sql", what)
	v.placeholderArgs(label, &s.SQL, s.Pos, &s.Args, s.Pos)
}

func (v *validator) mix(name string, mix Mix) {
	at := v.m.mixPos[name]
	if len(mix) == 0 {
		v.errs.Add(at, "list the operations, e.g. `- {name: read, sql: SELECT 1}`", "mix `%s` has no operations", name)
		return
	}
	seen := map[string]Pos{}
	sum, sumOver := 0.0, false
	for i := range mix {
		op := &mix[i]
		if !v.m.ok(op) {
			continue
		}
		if op.Weight > 0 && !math.IsInf(op.Weight, 1) && v.m.ok(&op.Weight) {
			sum += op.Weight
			v.check(math.IsInf(sum, 1) && !sumOver, &op.Weight, op.Pos,
				"weights are relative: scale them down, e.g. `weight: 70` next to `weight: 30`",
				"the weights of mix `%s` add up to more than %.2g (the largest number) by this operation", name, math.MaxFloat64)
			sumOver = sumOver || math.IsInf(sum, 1)
		}
		switch opName := strings.TrimSpace(op.Name); {
		case !v.m.ok(&op.Name):
		case opName == "":
			v.errs.Add(v.m.at(&op.Name, op.Pos), "add `name: ...`; names label the results", "operation needs a name")
		default:
			if first, dup := seen[opName]; dup {
				v.errs.Add(v.m.at(&op.Name, op.Pos), "operation names label the results: make them unique",
					"duplicate operation name `%s` in mix `%s` (first at line %d)", opName, name, first.Line)
			} else {
				seen[opName] = v.m.at(&op.Name, op.Pos)
			}
		}
		v.check(op.Hold.Max > MaxPause, &op.Hold, op.Pos,
			fmt.Sprintf("hold is the application's work on the connection, at most %s", humanize.Exact(MaxPause)),
			"hold %s is longer than %s", humanize.Exact(op.Hold.Max), humanize.Exact(MaxPause))
		v.check(!(op.Weight > 0), &op.Weight, op.Pos,
			"weights are relative: `weight: 70` next to `weight: 30`", "weight must be > 0, got %v", op.Weight)
		v.check(math.IsInf(op.Weight, 1), &op.Weight, op.Pos,
			"weights are relative: `weight: 70` next to `weight: 30`", "weight must be a finite number, got %v", op.Weight)
		v.operationBody(op)
	}
}

func (v *validator) operationBody(op *Operation) {
	label := "operation"
	if op.Name != "" {
		label = "operation `" + op.Name + "`"
	}
	var given []string
	last := op.Pos // the position of the last of them written in the file
	for _, k := range []struct {
		name string
		ptr  any
	}{{"sql", &op.SQL}, {"transaction", &op.Transaction}, {"http", &op.HTTP}} {
		if v.m.has(k.ptr) {
			if at := v.m.at(k.ptr, op.Pos); len(given) == 0 || before(last, at) {
				last = at
			}
			given = append(given, k.name)
		}
	}
	switch {
	case len(given) > 1:
		v.errs.Add(last, "an operation is one statement (sql + args), a transaction, or one HTTP request (http), not several",
			"%s has both %s", label, strings.Join(given, " and "))
	case len(given) == 0:
		v.errs.Add(op.Pos, "add `sql: ...`, `transaction:` with a list of statements, or `http: METHOD PATH` (a request to target.service)",
			"%s needs sql, transaction or http", label)
	case given[0] == "sql":
		v.check(strings.TrimSpace(op.SQL) == "", &op.SQL, op.Pos, "", "%s: sql is empty", label)
		v.placeholderArgs(label, &op.SQL, op.Pos, &op.Args, op.Pos)
	case given[0] == "transaction":
		v.check(len(op.Transaction) == 0, &op.Transaction, op.Pos, "list the statements to run between BEGIN and COMMIT",
			"%s: transaction is empty", label)
		v.check(v.m.has(&op.Args), &op.Args, op.Pos, "give each transaction statement its own `args`",
			"%s: args belong to sql, not to a transaction", label)
		for i := range op.Transaction {
			v.statement(&op.Transaction[i], "transaction statement", fmt.Sprintf("%s, statement %d", label, i+1))
		}
	case given[0] == "http":
		v.httpOperation(op, label)
	}
	if len(given) == 1 && given[0] != "http" {
		v.httpOnly(op, label, given[0])
	}
}

func (v *validator) scenarios() {
	p := v.p
	seen := map[string]Pos{}
	for i := range p.Scenarios {
		s := &p.Scenarios[i]
		if !v.m.ok(s) {
			continue
		}
		name := strings.TrimSpace(s.Name)
		switch {
		case !v.m.ok(&s.Name):
		case name == "":
			v.errs.Add(v.m.at(&s.Name, s.Pos), "add `name: ...`; it names the scenario in reports and assertions", "scenario needs a name")
		default:
			if first, dup := seen[name]; dup {
				v.errs.Add(v.m.at(&s.Name, s.Pos), "", "duplicate scenario name `%s` (first at line %d)", name, first.Line)
			} else {
				seen[name] = v.m.at(&s.Name, s.Pos)
			}
		}
		label := "scenario"
		if name != "" {
			label = "scenario `" + name + "`"
		}
		v.scenarioMix(s, label)
		open := v.loadShape(s, label)
		if open {
			v.openArrivals(s, label)
		}
		v.check(s.Think.Max > MaxPause && !open, &s.Think, s.Pos,
			fmt.Sprintf("think is the pause between a user's operations, at most %s: MIN..MAX, e.g. `50ms..150ms`", humanize.Exact(MaxPause)),
			"think %s is longer than %s", humanize.Exact(s.Think.Max), humanize.Exact(MaxPause))
		v.faults(s, label)
	}
}

func (v *validator) scenarioMix(s *Scenario, label string) {
	p := v.p
	switch {
	case !v.m.ok(&s.Mix) || len(p.MixOrder) == 0:
	case !v.m.has(&s.Mix) && len(p.MixOrder) > 1:
		v.errs.Add(s.Pos, "add `mix:` with one of "+quoteList(p.MixOrder), "%s needs a mix: the plan has %d", label, len(p.MixOrder))
	case !containsKey(p.Mixes, s.Mix):
		v.errs.Add(s.MixPos, didYouMean(s.Mix, "mixes", p.MixOrder), "unknown mix `%s`", s.Mix)
	}
}

func containsKey[V any](m map[string]V, k string) bool { _, ok := m[k]; return ok }

// loadShape checks the scenario's load model: exactly one of `users`,
// `rate` and `stages`, and the keys that go with it. It reports whether the
// scenario is an open model (rate, or stages with rate).
func (v *validator) loadShape(s *Scenario, label string) (open bool) {
	hasUsers, hasRate, hasStages := v.m.has(&s.Users), v.m.has(&s.Rate), v.m.has(&s.Stages)
	var given []string
	last := s.Pos // the position of the last of them written in the file
	for _, k := range []struct {
		name string
		ptr  any
		has  bool
	}{{"users", &s.Users, hasUsers}, {"rate", &s.Rate, hasRate}, {"stages", &s.Stages, hasStages}} {
		if !k.has {
			continue
		}
		given = append(given, k.name)
		if at := v.m.at(k.ptr, s.Pos); len(given) == 1 || before(last, at) {
			last = at
		}
	}
	switch {
	case len(given) == 0:
		v.errs.Add(s.Pos, "add `users:` with `duration:` (a closed model), `rate:` with `duration:` (an open model), or `stages:`",
			"%s needs users, rate or stages", label)
		return false
	case len(given) > 1:
		v.errs.Add(last, bothHint(given), "%s has both %s", label, strings.Join(given, " and "))
		return false
	case hasUsers:
		v.check(s.Users <= 0, &s.Users, s.Pos, "", "users must be > 0, got %d", s.Users)
		v.atMost(&s.Users, MaxUsers, s.Pos, "users", whyUsers)
		v.steady(s, label, "users")
	case hasRate:
		open = true
		v.check(s.Rate <= 0, &s.Rate, s.Pos,
			"a scenario's rate is how many operations it starts a second, e.g. `rate: 100/s`; `0/s` is a pause inside `stages`",
			"rate must be > 0, got 0/s")
		v.check(v.m.has(&s.RampUp), &s.RampUp, s.Pos,
			"an open model ramps with stages: `stages: [{rate: 400/s, ramp: 10s, duration: 1m}]`",
			"ramp_up goes with users, not rate")
		v.steady(s, label, "rate")
	case hasStages:
		v.check(v.m.has(&s.RampUp), &s.RampUp, s.Pos, "with stages, each stage has its own `ramp`",
			"ramp_up belongs with users, not stages")
		v.check(v.m.has(&s.Duration), &s.Duration, s.Pos, "with stages, each stage has its own `duration`; the scenario lasts their sum",
			"duration belongs with users, not stages")
		v.check(len(s.Stages) == 0, &s.Stages, s.Pos, "add stages such as `- {users: 25, duration: 30s}` or `- {rate: 100/s, duration: 30s}`", "stages is empty")
		for i := range s.Stages {
			v.stage(&s.Stages[i])
		}
		open = v.stagesModel(s, label)
		n := len(s.Stages)
		v.check(v.m.has(&s.RecoveryAfter) && n > 0 && (s.RecoveryAfter < 1 || s.RecoveryAfter > n), &s.RecoveryAfter, s.Pos,
			"it is the 1-based number of the stage after whose end recovery is measured",
			"recovery_after must be between 1 and %d (the number of stages), got %d", n, s.RecoveryAfter)
		v.check(v.m.has(&s.RecoveryThreshold) && !v.m.has(&s.RecoveryAfter) && len(s.Faults) == 0, &s.RecoveryThreshold, s.Pos,
			"add `recovery_after: N` to measure recovery from the end of stage N, or `faults` to measure it after each", "recovery_threshold needs recovery_after or faults")
	}
	v.check(v.m.has(&s.RecoveryThreshold) && s.RecoveryThreshold <= 0, &s.RecoveryThreshold, s.Pos,
		"", "recovery_threshold must be > 0")
	v.modelKeys(s, label, open)
	v.check(v.m.has(&s.Warmup) && s.Warmup < 0, &s.Warmup, s.Pos, "", "warmup must be ≥ 0")
	if total := s.TotalDuration(); v.m.has(&s.Warmup) && total > 0 && s.Warmup.D() >= total {
		v.errs.Add(v.m.at(&s.Warmup, s.Pos), "the warm-up is left out of the figures: keep it well under the scenario's length",
			"warmup %s is not shorter than the scenario (%s)", humanize.Exact(s.Warmup.D()), humanize.Exact(total))
	}
	return open
}

// before reports whether position a comes before b in the file.
func before(a, b Pos) bool { return a.Line < b.Line || a.Line == b.Line && a.Col < b.Col }

// bothHint is the hint for a scenario that gives more than one of users,
// rate and stages.
func bothHint(given []string) string {
	switch strings.Join(given, "+") {
	case "users+stages":
		return "use `users` (+ `ramp_up`, `duration`) for a steady load, or `stages` for a ramp profile, not both"
	case "users+rate":
		return "`users` is a closed model (each user waits for its previous operation), `rate` an open one (operations start on a schedule, whatever the earlier ones are doing): keep one"
	case "rate+stages":
		return "use `rate` + `duration` for a steady rate, or `stages` with a `rate` in each stage for a profile, not both"
	}
	return "keep one of `users`, `rate` and `stages`"
}

// steady checks what goes with a steady load (users or rate, no stages):
// a duration, and no recovery_after, which is measured from the end of a
// stage (faults have their own recovery, and so may set its threshold).
func (v *validator) steady(s *Scenario, label, what string) {
	if !v.m.has(&s.Duration) {
		v.errs.Add(s.Pos, "add `duration: 5m`"+map[string]string{"users": "; it includes ramp_up", "rate": ": arrivals are scheduled for that long"}[what],
			"%s needs duration with %s", label, what)
	} else {
		v.check(s.Duration <= 0, &s.Duration, s.Pos, "", "duration must be > 0")
	}
	v.check(v.m.ok(&s.Duration) && s.RampUp > s.Duration && s.Duration > 0 && what == "users", &s.RampUp, s.Pos,
		"duration includes ramp_up", "ramp_up %s is longer than duration %s", humanize.Exact(s.RampUp.D()), humanize.Exact(s.Duration.D()))
	v.check(v.m.has(&s.RecoveryAfter), &s.RecoveryAfter, s.Pos,
		"recovery is measured from the end of a stage: use `stages`", "recovery_after needs stages")
	v.check(v.m.has(&s.RecoveryThreshold) && len(s.Faults) == 0, &s.RecoveryThreshold, s.Pos,
		"recovery is measured from the end of a stage (`stages` and `recovery_after`) or after a fault (`faults`)", "recovery_threshold needs recovery_after or faults")
}

// stagesModel checks that a scenario's stages are all of one model, users
// or rate (a stage that gives neither is a pause in either), and reports
// whether it is rate. A stage of the other model is reported at its key, once.
func (v *validator) stagesModel(s *Scenario, label string) (open bool) {
	first, model := 0, ""
	for i := range s.Stages {
		st := &s.Stages[i]
		users, rate := v.m.has(&st.Users), v.m.has(&st.Rate)
		k, ptr := "users", any(&st.Users)
		switch {
		case users == rate: // neither (a pause), or both (reported by stage)
			continue
		case rate:
			k, ptr = "rate", &st.Rate
		}
		if model == "" {
			first, model = i, k
			continue
		}
		if k != model {
			v.errs.Add(v.m.at(ptr, st.Pos), "a scenario is one model: give every stage `users` (closed) or every stage `rate` (open), or split it into two scenarios",
				"%s: stage %d gives %s, but stage %d gives %s", label, i+1, k, first+1, model)
			break
		}
	}
	if model != "rate" {
		return false
	}
	anyArrival := false
	for i := range s.Stages {
		st := &s.Stages[i]
		if !v.m.ok(&st.Rate) {
			return true // a bad rate was reported already
		}
		anyArrival = anyArrival || st.Rate > 0
	}
	v.check(!anyArrival, &s.Stages, s.Pos, "give at least one stage a rate above 0, e.g. `- {rate: 100/s, duration: 30s}`",
		"%s: every stage has rate 0/s, so no operation ever starts", label)
	return true
}

// modelKeys checks the keys that belong to one model only: think to the
// closed model (users), arrival and max_in_flight to the open one (rate).
func (v *validator) modelKeys(s *Scenario, label string, open bool) {
	if open {
		v.check(v.m.has(&s.Think), &s.Think, s.Pos,
			"an arrival has no think time: an open model starts an operation at each scheduled arrival, whatever the earlier ones are doing; remove `think`, or use `users` for a closed model",
			"%s: think goes with users, not rate", label)
		v.check(s.Arrival != ArrivalPoisson && s.Arrival != ArrivalUniform, &s.Arrival, s.Pos,
			didYouMean(s.Arrival, "arrivals", []string{ArrivalPoisson, ArrivalUniform}), "unknown arrival `%s`", s.Arrival)
		v.check(s.MaxInFlight < 1, &s.MaxInFlight, s.Pos, "it bounds the operations started and not yet finished; arrivals beyond it are dropped and counted",
			"max_in_flight must be ≥ 1, got %s", v.shown(&s.MaxInFlight))
		v.atMost(&s.MaxInFlight, MaxUsers, s.Pos, "max_in_flight",
			"each unfinished operation holds a worker, about as much as a user")
		return
	}
	const openOnly = "`%s` %s: remove it, or give the scenario a `rate` instead of `users`"
	v.check(v.m.has(&s.Arrival), &s.Arrival, s.Pos, fmt.Sprintf(openOnly, "arrival", "spreads an open model's scheduled arrivals"),
		"%s: arrival goes with rate, not users", label)
	v.check(v.m.has(&s.MaxInFlight), &s.MaxInFlight, s.Pos, fmt.Sprintf(openOnly, "max_in_flight", "bounds an open model's operations started on schedule and not yet finished"),
		"%s: max_in_flight goes with rate, not users", label)
}

// whyUsers is the hint of the users limit.
const whyUsers = "each user takes about 12 KiB and a goroutine; beyond that, one machine measures itself, not the pool"

func (v *validator) stage(st *Stage) {
	if !v.m.ok(st) {
		return
	}
	v.check(v.m.has(&st.Users) && v.m.has(&st.Rate), &st.Rate, st.Pos,
		"a stage gives `users` (a closed model) or `rate` (an open model), not both", "stage has both users and rate")
	v.check(st.Users < 0, &st.Users, st.Pos, "", "stage users must be ≥ 0, got %d", st.Users)
	v.atMost(&st.Users, MaxUsers, st.Pos, "stage users", whyUsers)
	if !v.m.has(&st.Duration) {
		v.errs.Add(st.Pos, "add `duration: 30s`; it includes ramp", "stage needs duration")
		return
	}
	v.check(st.Duration <= 0, &st.Duration, st.Pos, "", "stage duration must be > 0")
	v.check(v.m.ok(&st.Duration) && st.Ramp > st.Duration && st.Duration > 0, &st.Ramp, st.Pos,
		"a stage's duration includes its ramp", "ramp %s is longer than the stage duration %s", humanize.Exact(st.Ramp.D()), humanize.Exact(st.Duration.D()))
}

func (v *validator) assertions() {
	names := make([]string, 0, len(v.p.Scenarios))
	for _, s := range v.p.Scenarios {
		if s.Name != "" {
			names = append(names, s.Name)
		}
	}
	for i := range v.p.Assertions {
		a := &v.p.Assertions[i]
		if !v.m.ok(a) {
			continue
		}
		v.check(strings.TrimSpace(a.Name) == "", &a.Name, a.Pos, "add `name: ...`; it labels the result", "assertion needs a name")
		v.check(strings.TrimSpace(a.Check.Src) == "", &a.Check, a.Pos, "add `check: ...`, e.g. `check: acquire.p95 < 200ms`",
			"assertion needs a check")
		v.check(a.Severity != Critical && a.Severity != Warning, &a.Severity, a.Pos,
			didYouMean(string(a.Severity), "severities", []string{string(Critical), string(Warning)}),
			"unknown severity `%s`", a.Severity)
		v.check(v.m.has(&a.Scenarios) && len(a.Scenarios) == 0, &a.Scenarios, a.Pos,
			"remove `scenarios:` to apply the assertion to every scenario", "scenarios is empty")
		for _, name := range a.Scenarios {
			if v.p.Scenario(name) == nil && v.m.ok(&a.Scenarios) {
				v.errs.Add(a.ScenariosPos, didYouMean(name, "scenarios", names), "unknown scenario `%s`", name)
			}
		}
		v.check(v.m.has(&a.After) && !a.AbortOnFail, &a.After, a.Pos, "add `abort_on_fail: true`, or remove `after`",
			"after only applies with abort_on_fail")
	}
}

func (v *validator) verdict() {
	vd := &v.p.Verdict
	v.check(strings.TrimSpace(vd.Pass) == "", &vd.Pass, v.m.root, "remove the key to use the default", "verdict pass label must not be empty")
	v.check(strings.TrimSpace(vd.Fail) == "", &vd.Fail, v.m.root, "remove the key to use the default", "verdict fail label must not be empty")
	g := &vd.Generator
	v.check(g.MaxTimerLateness <= 0, &g.MaxTimerLateness, v.m.root,
		fmt.Sprintf("it bounds the p99 lateness of the generator's own 10 ms timer; remove the key for the default %s", humanize.Exact(DefaultMaxTimerLateness)),
		"verdict generator max_timer_lateness must be > 0")
	v.check(g.MaxLag <= 0, &g.MaxLag, v.m.root,
		fmt.Sprintf("it bounds the p99 of an open model's start lag; remove the key for the default %s", humanize.Exact(DefaultMaxLag)),
		"verdict generator max_lag must be > 0")
}

// placeholderArgs checks, statically, that a statement's args match the
// `$n` placeholders of its SQL: the highest `$n` is the number of args, and
// every number below it is used (PostgreSQL cannot type an unused one).
// Placeholders in strings, quoted names, comments and dollar-quoted bodies
// do not count; statements that declare a body with its own parameters
// (PREPARE, CREATE FUNCTION / PROCEDURE) are not checked.
//
// A placeholder without an arg is reported at the placeholder, an arg
// without a placeholder at the arg.
func (v *validator) placeholderArgs(label string, sql *string, sqlAt Pos, args *[]Expr, argsAt Pos) {
	if !v.m.ok(sql) || !v.m.ok(args) || strings.TrimSpace(*sql) == "" || declaresParameters(*sql) {
		return
	}
	var highest placeholder
	used := map[int]bool{}
	for _, p := range placeholders(*sql) {
		if p.n > highest.n {
			highest = p
		}
		used[p.n] = true
	}
	n := len(*args)
	at := func(p placeholder) Pos { return v.placeholderPos(sql, p.off, sqlAt) }
	switch {
	case highest.n > maxPlaceholder:
		v.errs.Add(at(highest), fmt.Sprintf("PostgreSQL numbers parameters $1 to $%d", maxPlaceholder),
			"%s: sql uses a placeholder above $%d", label, maxPlaceholder)
	case highest.n > n && n == 0:
		v.errs.Add(at(highest), "add `args:` with one expression per placeholder, the first for $1, e.g. `args: [randInt(1, 100)]`",
			"%s: sql uses $%d but has no args", label, highest.n)
	case highest.n > n:
		v.errs.Add(at(highest), fmt.Sprintf("give one arg per placeholder: $1 is the first arg, $%d the last", highest.n),
			"%s: sql uses $%d but args has %s", label, highest.n, humanize.Count(int64(n), "value", "values"))
	case highest.n == 0 && n > 0:
		v.errs.Add(v.m.at(args, argsAt), "refer to the args as $1, $2, ... in the sql, or remove `args`",
			"%s: args has %s but sql has no placeholders", label, humanize.Count(int64(n), "value", "values"))
	case highest.n < n:
		v.errs.Add((*args)[highest.n].Pos, fmt.Sprintf("remove the args after the %s, or use them in the sql as $%d, ...", ordinal(highest.n), highest.n+1),
			"%s: args has %s but sql uses only $1..$%d", label, humanize.Count(int64(n), "value", "values"), highest.n)
	default:
		for i := 1; i < highest.n; i++ {
			if !used[i] {
				v.errs.Add(at(highest), fmt.Sprintf("PostgreSQL cannot tell the type of a parameter the sql does not use: number the placeholders $1..$%d without a gap", highest.n-1),
					"%s: sql uses $%d but not $%d", label, highest.n, i)
				break
			}
		}
	}
}

// placeholderPos is the position of byte offset off of the SQL text behind
// sql, or fallback when it cannot be told.
func (v *validator) placeholderPos(sql *string, off int, fallback Pos) Pos {
	n := v.m.sql[sql]
	if n == nil {
		return v.m.at(sql, fallback)
	}
	lead := strings.Index(n.Value, *sql)
	if lead < 0 {
		return v.m.at(sql, fallback)
	}
	return v.src.offsetPos(n, lead+off)
}

// ordinal renders 1st, 2nd, 3rd, 4th, ... 11th, 12th, 13th, 21st.
func ordinal(n int) string {
	suffix := "th"
	switch {
	case n%100 >= 11 && n%100 <= 13:
	case n%10 == 1:
		suffix = "st"
	case n%10 == 2:
		suffix = "nd"
	case n%10 == 3:
		suffix = "rd"
	}
	return fmt.Sprintf("%d%s", n, suffix)
}
