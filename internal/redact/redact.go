// Package redact removes passwords from PostgreSQL connection strings and
// from any text that may contain one.
package redact

import (
	"net/url"
	"regexp"
	"strings"
)

// Mask replaces a password.
const Mask = "xxxxx"

var (
	// postgres://user:secret@host -> postgres://user:xxxxx@host
	urlPassword = regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.-]*://[^:/?#@\s]*:)([^@\s]*)(@)`)
	// key/value DSNs: password=secret or password='se cret'
	kvPassword = regexp.MustCompile(`(?i)(password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&"']*)`)
)

// DSN returns dsn with its password masked. It accepts URLs and key=value strings.
func DSN(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.Scheme != "" && u.Host != "" {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), Mask)
		}
		q := u.Query()
		if q.Has("password") {
			q.Set("password", Mask)
			u.RawQuery = q.Encode()
		}
		return strings.Replace(u.String(), url.QueryEscape(Mask), Mask, -1)
	}
	return Text(dsn)
}

// Text masks every password-looking part of free text (error messages, logs).
func Text(s string) string {
	s = urlPassword.ReplaceAllString(s, "${1}"+Mask+"${3}")
	return kvPassword.ReplaceAllString(s, "${1}"+Mask)
}

// Secret additionally removes a known password verbatim from s (for messages
// from libraries that echo it in unexpected forms).
func Secret(s, password string) string {
	s = Text(s)
	if password != "" {
		s = strings.ReplaceAll(s, password, Mask)
	}
	return s
}
