package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/planrun/planrun/internal/humanize"
	"github.com/planrun/planrun/results"
)

// Segments of one plan (--segment i/N, N > 1) run in separate processes,
// often on separate machines, with no coordinator of their own: they meet
// on the one thing they already share, the plan's server, through a marker
// table (see docs/segments.md).
//
//   - Segment 1 drops a marker left by an earlier run, creates the marker
//     table with its row (1, 'setup'), runs the plan's setup and sets its row
//     to 'ready' (or 'failed').
//   - Segments 2..N run no setup: after their preflight they poll the marker
//     every segmentPoll until segment 1 is 'ready', then run the statements
//     check (what setup creates exists by then).
//   - With --start-at, every segment sleeps until that instant before its
//     first scenario; one that is ready after it starts at once and logs
//     how late it is.
//   - At the end, segments 2..N insert (i, 'done') and run no teardown;
//     segment 1 waits until they all did (bounded by doneTimeout), runs the
//     teardown and drops the marker table.
const (
	// segmentPoll is how often a segment looks at the marker table.
	segmentPoll = 200 * time.Millisecond
	// readyTimeout bounds how long segments 2..N wait for segment 1's setup:
	// 10 minutes, or until one minute past --start-at when that is later.
	readyTimeout   = 10 * time.Minute
	readyPastStart = time.Minute
	// doneTimeout bounds how long segment 1 waits, before its teardown, for
	// the other segments to finish: 10 minutes, or twice the program's
	// duration when that is longer. A segment that has not reported by then
	// is named in the log and the teardown runs anyway.
	doneTimeout = 10 * time.Minute
	// markerTimeout bounds one statement on the marker table at the end.
	markerTimeout = 10 * time.Second
)

// Marker states.
const (
	markerSetup  = "setup"
	markerReady  = "ready"
	markerFailed = "failed"
	markerDone   = "done"
)

// coordinator runs the steps of a run that segments share: setup, the start
// instant and teardown. For a run that is not one of several segments it
// runs them as a whole run does.
type coordinator struct {
	e   *runEnv
	seg *results.Segment // nil: a whole run
	// table is the marker table, schema-qualified and quoted once known.
	table string
	// stop is the run's context, as setup got it: once it is cancelled (the
	// first stop signal), segment 1 no longer waits for the others before
	// its teardown. Nil until setup.
	stop context.Context
}

// newCoordinator returns the coordinator of e's run.
func newCoordinator(e *runEnv) *coordinator {
	return &coordinator{e: e, seg: e.prog.Segment}
}

// shared says whether the run is one of several segments.
func (c *coordinator) shared() bool { return c.seg != nil && c.seg.Count > 1 }

// markerName is the marker table of a plan: planrun_segments_ and the first
// 12 hex digits of the plan's sha256.
func markerName(sha string) string {
	if len(sha) > 12 {
		sha = sha[:12]
	}
	return "planrun_segments_" + sha
}

// startAt is --start-at as the marker records it ("" when not given), so
// that a segment never takes the marker of an earlier run of the same plan
// with another start instant for its own.
func (c *coordinator) startAt() string {
	if c.seg.StartAt.IsZero() {
		return ""
	}
	return c.seg.StartAt.UTC().Format(time.RFC3339Nano)
}

// resolve names the marker table in the monitor's current schema, before
// setup may change the search_path.
func (c *coordinator) resolve(ctx context.Context, conn *pgx.Conn) error {
	if c.table != "" {
		return nil
	}
	var schema *string
	if err := conn.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		return fmt.Errorf("finding the schema of the segments' marker table: %w", err)
	}
	if schema == nil {
		return errors.New("the segments' marker table needs a schema: the monitor's search_path names none that exists")
	}
	c.table = pgx.Identifier{*schema, markerName(c.e.prog.Plan.SHA256)}.Sanitize()
	return nil
}

// setup runs the plan's setup: in a whole run and in segment 1 (which
// leaves the marker), while segments 2..N wait for segment 1's marker.
func (c *coordinator) setup(ctx context.Context) *Failure {
	e := c.e
	c.stop = ctx
	if !c.shared() {
		return setupFailure(e.statements(ctx, "setup", e.prog.setup))
	}
	if err := c.resolve(ctx, e.monitor); err != nil {
		return &Failure{Stage: "setup", Err: err}
	}
	if c.seg.Index > 1 {
		return c.awaitReady(ctx)
	}
	_, err := e.monitor.Exec(ctx, fmt.Sprintf(`DROP TABLE IF EXISTS %[1]s;
CREATE TABLE %[1]s (segment int PRIMARY KEY, state text NOT NULL, at timestamptz NOT NULL DEFAULT now(), start_at text NOT NULL)`, c.table))
	if err == nil {
		err = c.mark(ctx, 1, markerSetup)
	}
	if err != nil {
		return &Failure{Stage: "setup", Err: fmt.Errorf("creating the segments' marker table %s: %w", c.table, err),
			Hint: "segment 1 needs CREATE on the current schema of target.url's user to tell the other segments that setup is done"}
	}
	e.logf("segment 1/%d: marker table %s created; the other segments wait for setup", c.seg.Count, c.table)
	if f := setupFailure(e.statements(ctx, "setup", e.prog.setup)); f != nil {
		mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), markerTimeout)
		defer cancel()
		if _, err := e.reconnectMonitor(mctx); err != nil {
			e.logf("segment 1/%d: could not tell the other segments that setup failed: %s", c.seg.Count, e.explain(err))
		} else if err := c.mark(mctx, 1, markerFailed); err != nil {
			e.logf("segment 1/%d: could not tell the other segments that setup failed: %v", c.seg.Count, err)
		}
		return f
	}
	if err := c.mark(ctx, 1, markerReady); err != nil {
		return &Failure{Stage: "setup", Err: fmt.Errorf("marking setup ready in %s: %w", c.table, err)}
	}
	return nil
}

// setupFailure is the failure of the plan's setup statements (nil: none).
func setupFailure(err error) *Failure {
	if err == nil {
		return nil
	}
	return &Failure{Stage: "setup", Err: err, Hint: "fix the setup SQL or the target's permissions; teardown has run"}
}

// mark sets segment i's row of the marker table to state.
func (c *coordinator) mark(ctx context.Context, i int, state string) error {
	_, err := c.e.monitor.Exec(ctx, fmt.Sprintf(`INSERT INTO %s (segment, state, start_at) VALUES ($1, $2, $3)
ON CONFLICT (segment) DO UPDATE SET state = EXCLUDED.state, at = now()`, c.table), i, state, c.startAt())
	return err
}

// awaitReady polls the marker table until segment 1 has run setup.
func (c *coordinator) awaitReady(ctx context.Context) *Failure {
	e := c.e
	limit := readyTimeout
	if !c.seg.StartAt.IsZero() {
		limit = max(limit, time.Until(c.seg.StartAt.Add(readyPastStart)))
	}
	e.logf("segment %d/%d: waiting up to %s for segment 1's setup (marker table %s)", c.seg.Index, c.seg.Count, humanize.Duration(limit), c.table)
	started := time.Now()
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	tick := time.NewTicker(segmentPoll)
	defer tick.Stop()
	query := fmt.Sprintf("SELECT state FROM %s WHERE segment = 1 AND start_at = $1", c.table)
	for {
		var state string
		err := e.monitor.QueryRow(ctx, query, c.startAt()).Scan(&state)
		var pgErr *pgconn.PgError
		switch {
		case err == nil && state == markerReady:
			e.logf("segment %d/%d: segment 1's setup is done (waited %s)", c.seg.Index, c.seg.Count, humanize.Duration(time.Since(started)))
			return nil
		case err == nil && state == markerFailed:
			return &Failure{Stage: "setup", Err: errors.New("segment 1's setup failed"), Hint: "see segment 1's log and report; fix the setup and run every segment again"}
		case err == nil, errors.Is(err, pgx.ErrNoRows), errors.As(err, &pgErr) && pgErr.Code == "42P01": // not yet
		case ctx.Err() != nil:
			return &Failure{Stage: "setup", Err: ctx.Err()}
		default:
			return &Failure{Stage: "setup", Err: fmt.Errorf("reading the segments' marker table %s: %s", c.table, e.explain(err))}
		}
		select {
		case <-ctx.Done():
			return &Failure{Stage: "setup", Err: ctx.Err()}
		case <-deadline.C:
			return &Failure{Stage: "setup", Err: fmt.Errorf("segment 1 did not report its setup done in %s within %s", c.table, humanize.Duration(limit)),
				Hint: "start segment 1 (it runs setup) with the same plan file, target and --start-at; see its log"}
		case <-tick.C:
		}
	}
}

// waitStart sleeps until --start-at (interrupted by ctx). A segment ready
// after that instant starts at once and logs how late it is.
func (c *coordinator) waitStart(ctx context.Context) {
	if c.seg == nil || c.seg.StartAt.IsZero() {
		return
	}
	name := fmt.Sprintf("segment %d/%d", c.seg.Index, c.seg.Count)
	wait := time.Until(c.seg.StartAt)
	if wait <= 0 {
		c.e.logf("%s: started %s late (--start-at %s)", name, humanize.Duration(-wait), c.startAt())
		return
	}
	c.e.logf("%s: waiting %s until --start-at %s", name, humanize.Duration(wait), c.startAt())
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// teardown runs the plan's teardown: in a whole run, and in segment 1 once
// the other segments are done (or doneTimeout passed), after which it drops
// the marker table. Segments 2..N report done and run none. Like
// [runEnv.teardown], it is bounded by the teardown context, not the run's.
func (c *coordinator) teardown() error {
	e := c.e
	if !c.shared() || c.table == "" { // no marker: the run stopped before setup
		if c.shared() && c.seg.Index > 1 {
			return nil
		}
		return e.teardown()
	}
	if c.seg.Index > 1 {
		ctx, cancel := context.WithTimeout(e.teardownContext(), markerTimeout)
		defer cancel()
		if _, err := e.reconnectMonitor(ctx); err != nil {
			e.logf("segment %d/%d: could not report done to segment 1: %s", c.seg.Index, c.seg.Count, e.explain(err))
		} else if err := c.mark(ctx, c.seg.Index, markerDone); err != nil {
			e.logf("segment %d/%d: could not report done to segment 1: %v", c.seg.Index, c.seg.Count, err)
		} else {
			e.logf("segment %d/%d: done; segment 1 runs the teardown", c.seg.Index, c.seg.Count)
		}
		return nil
	}
	c.awaitDone()
	err := e.teardown()
	drop := "DROP TABLE IF EXISTS " + c.table
	if e.teardownContext().Err() != nil { // a second signal: listed, as the teardown's statements are
		return errors.Join(err, fmt.Errorf("teardown interrupted: the segments' marker table was not dropped:\n  %s", drop))
	}
	ctx, cancel := context.WithTimeout(e.teardownContext(), markerTimeout)
	defer cancel()
	if _, cerr := e.reconnectMonitor(ctx); cerr != nil {
		return errors.Join(err, fmt.Errorf("dropping the segments' marker table %s: %s", c.table, e.explain(cerr)))
	}
	if _, derr := e.monitor.Exec(ctx, drop); derr != nil {
		return errors.Join(err, fmt.Errorf("dropping the segments' marker table %s: %w", c.table, derr))
	}
	return err
}

// awaitDone polls the marker table until segments 2..N report done, at
// most doneTimeout (or twice the program's duration). The first stop
// signal (the run's context) ends the wait, or skips it when the run was
// already stopped: the teardown then runs at once; the second (the
// teardown context) stops the teardown too. It logs the segments that
// never reported.
func (c *coordinator) awaitDone() {
	e := c.e
	limit := max(doneTimeout, 2*e.prog.Duration())
	ctx, cancel := context.WithTimeout(e.teardownContext(), limit)
	defer cancel()
	name := fmt.Sprintf("segment 1/%d", c.seg.Count)
	missing := c.missing(ctx)
	if len(missing) == 0 {
		return
	}
	stop := c.stop
	if stop == nil {
		stop = context.Background()
	}
	if stop.Err() != nil {
		e.logf("%s: interrupted: not waiting for segment(s) %s; the teardown runs now", name, segmentList(missing))
		return
	}
	e.logf("%s: waiting up to %s for segment(s) %s to finish before the teardown (a stop signal ends the wait)", name, humanize.Duration(limit), segmentList(missing))
	tick := time.NewTicker(segmentPoll)
	defer tick.Stop()
	for len(missing) > 0 {
		select {
		case <-stop.Done():
			e.logf("%s: interrupted: no longer waiting for segment(s) %s; the teardown runs now", name, segmentList(missing))
			return
		case <-ctx.Done():
			e.logf("%s: segment(s) %s did not report done; the teardown runs anyway", name, segmentList(missing))
			return
		case <-tick.C:
			missing = c.missing(ctx)
		}
	}
}

// missing lists the segments 2..N that have not reported done; all of them
// when the marker cannot be read.
func (c *coordinator) missing(ctx context.Context) []int {
	var all []int
	for i := 2; i <= c.seg.Count; i++ {
		all = append(all, i)
	}
	if _, err := c.e.reconnectMonitor(ctx); err != nil {
		return all
	}
	rows, err := c.e.monitor.Query(ctx, fmt.Sprintf("SELECT segment FROM %s WHERE state = $1", c.table), markerDone)
	if err != nil {
		return all
	}
	done, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return all
	}
	return slices.DeleteFunc(all, func(i int) bool { return slices.Contains(done, int32(i)) })
}

// segmentList renders segment numbers: "2, 3, 5".
func segmentList(s []int) string {
	parts := make([]string, len(s))
	for i, n := range s {
		parts[i] = fmt.Sprint(n)
	}
	return strings.Join(parts, ", ")
}
