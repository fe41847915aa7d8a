package schema

import "strings"

// maxAppNameBytes is the longest application_name PostgreSQL keeps
// (NAMEDATALEN − 1 = 63 bytes; it truncates a longer one).
const maxAppNameBytes = 63

// appNameSegmentRoom is what the engine appends to the pool's
// application_name in a segment of a split plan: "-1000of1000", 11 bytes.
const appNameSegmentRoom = len("-1000of1000")

// ApplicationNameFor is the default application_name of a plan named
// name: "planrun-" and the name, with every character but ASCII letters,
// digits, '.', '_' and '-' replaced by '-' (PostgreSQL replaces non-ASCII
// characters with '?', and the name appears in logs and in SQL the user
// may write), cut so that the segment suffix the engine adds still fits in
// PostgreSQL's 63 bytes. Two plans with different names then never count
// each other's backends (leak checks, the terminate_backends fault match
// application_name exactly). An empty name gives [DefaultApplicationName].
func ApplicationNameFor(name string) string {
	var b strings.Builder
	b.WriteString(DefaultApplicationName)
	b.WriteByte('-')
	limit := maxAppNameBytes - appNameSegmentRoom
	for _, r := range name {
		if b.Len() >= limit {
			break
		}
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9', r == '.', r == '_', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	if b.Len() == len(DefaultApplicationName)+1 {
		return DefaultApplicationName
	}
	return b.String()
}
