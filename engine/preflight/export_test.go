package preflight

// FirstKeyword exposes firstKeyword to the external tests.
var FirstKeyword = firstKeyword
