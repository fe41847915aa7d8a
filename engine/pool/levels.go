package pool

import "time"

// LevelChange is one change of a pool's busy level: the number of its
// Size+MaxOverflow slots an Acquire cannot take, because their connection
// is checked out, or being opened, pinged or closed (open slots minus idle
// connections; [Stats] InUse + Constructing). The pool is exhausted only
// while its level is Size+MaxOverflow, and an Acquire that comes then waits.
type LevelChange struct {
	// At is when the level changed, from the pool's creation ([Pool.Created]),
	// on the monotonic clock.
	At time.Duration
	// Level is the busy level from At on, 0..Size+MaxOverflow.
	Level int32
}

// Created returns when [New] created the pool: the origin of [LevelChange.At].
func (p *Pool) Created() time.Time { return p.created }

// noteLevel logs a change of the busy level, under p.mu, when
// [Config.RecordLevels] is set. Every section under p.mu that may change
// p.open or p.idle calls it before unlocking; it reads the clock only when
// the level has changed.
func (p *Pool) noteLevel() {
	if !p.recordLevels {
		return
	}
	l := int32(p.open - p.idle.n)
	if l == p.level {
		return
	}
	p.level = l
	p.levels = append(p.levels, LevelChange{At: time.Since(p.created), Level: l})
}

// TakeLevels returns the changes of the busy level logged since the last
// call, oldest first (none unless [Config.RecordLevels] is set), and keeps
// spare, emptied, to log the next ones in: passing back the slice the
// previous call returned, the log allocates nothing once it has grown to
// the changes of one interval between calls. The level is 0 at creation.
func (p *Pool) TakeLevels(spare []LevelChange) []LevelChange {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.levels
	p.levels = spare[:0]
	return out
}
