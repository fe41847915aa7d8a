package preflight

// FirstKeyword exposes firstKeyword to the external tests.
var FirstKeyword = firstKeyword

// SetupCreates exposes setupCreates to the external tests.
var SetupCreates = setupCreates
