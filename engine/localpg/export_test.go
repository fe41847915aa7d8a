package localpg

// Internals exposed to the external tests.
var (
	FindIn          = findIn
	SortNewestFirst = sortNewestFirst
	SweepStale      = sweepStale
	LockDir         = lockDir
)

// TempPrefix and LockName name the temp dirs and their lock files.
const (
	TempPrefix = tempPrefix
	LockName   = lockName
)

// Niceness is the nice value of what syscall.Getpriority returned.
var Niceness = niceness
