package assertions

import "time"

// Test hooks: unexported values the external tests need.

// SetTimeout sets the time budget of one evaluation of a check of s, in
// place of exprbudget.DefaultTimeout.
func SetTimeout(s *Set, d time.Duration) { s.timeout = d }
