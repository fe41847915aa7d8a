package results

import (
	"slices"
	"testing"
)

// TestSeverity: each status type ranks its statuses from best to worst, as
// documented, and an unknown status as the best (0).
func TestSeverity(t *testing.T) {
	check := func(name string, got, want []int) {
		t.Helper()
		if !slices.Equal(got, want) {
			t.Errorf("%s severities = %v, want %v", name, got, want)
		}
	}
	check("Status",
		[]int{Status("").Severity(), StatusCompleted.Severity(), StatusInterrupted.Severity(), StatusAborted.Severity(), StatusFailed.Severity()},
		[]int{0, 0, 1, 2, 3})
	check("CheckStatus",
		[]int{CheckStatus("?").Severity(), CheckPass.Severity(), CheckWarn.Severity(), CheckFail.Severity()},
		[]int{0, 0, 1, 2})
	check("RecoveryStatus",
		[]int{RecoveryStatus("").Severity(), RecoveryNotStressed.Severity(), RecoveryRecovered.Severity(), RecoveryNotReached.Severity(), RecoveryNotRecovered.Severity()},
		[]int{0, 0, 1, 2, 3})
	check("CriterionStatus",
		[]int{CriterionStatus("").Severity(), CriterionSkipped.Severity(), CriterionPass.Severity(), CriterionWarn.Severity(), CriterionUndecided.Severity(), CriterionFail.Severity()},
		[]int{0, 0, 1, 2, 3, 4})
}
