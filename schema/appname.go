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
func ApplicationNameFor(name string) string { return appName(name, "") }

// serviceSuffix ends the default application_name of target.service.
const serviceSuffix = "-service"

// ServiceApplicationNameFor is the default target.service.application_name
// of a plan named name: the name planrun puts in the database URL it hands
// a service it starts, [ApplicationNameFor] with "-service" appended, the
// plan's name cut shorter so that it still fits with a segment's suffix
// ("planrun-checkout-service"; an empty name gives "planrun-service").
// It differs from the pool's, so the service's backends are never counted
// as planrun's own (monitor, setup) or the other way round.
func ServiceApplicationNameFor(name string) string { return appName(name, serviceSuffix) }

// appName is "planrun-", name sanitised, and suffix, cut so that a segment
// suffix still fits in maxAppNameBytes.
func appName(name, suffix string) string {
	var b strings.Builder
	b.WriteString(DefaultApplicationName)
	b.WriteByte('-')
	limit := maxAppNameBytes - appNameSegmentRoom - len(suffix)
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
		return DefaultApplicationName + suffix
	}
	return b.String() + suffix
}
