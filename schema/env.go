package schema

import (
	"regexp"
	"strings"
)

// envProblem is one problem found while expanding ${VAR} references, at a
// byte offset of the scalar's value.
type envProblem struct {
	off       int
	msg, hint string
}

var (
	envName     = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	envWholeRef = regexp.MustCompile(`^\$\{[A-Za-z_][A-Za-z0-9_]*\}$`)
)

// expandEnv expands ${VAR} and ${VAR:-default} in s. The default is used when
// VAR is unset or empty, like the shell. `$${` is a literal `${`; a `$` not
// followed by `{` is kept as is. An unset VAR without a default is a problem,
// unless allowUnset, where it expands to "".
func expandEnv(s string, lookup func(string) (string, bool), allowUnset bool) (string, []envProblem) {
	if !strings.Contains(s, "${") {
		return s, nil
	}
	var (
		b     strings.Builder
		probs []envProblem
	)
	for i := 0; i < len(s); {
		switch {
		case strings.HasPrefix(s[i:], "$${"):
			b.WriteString("${")
			i += 3
		case strings.HasPrefix(s[i:], "${"):
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				probs = append(probs, envProblem{i, "unterminated `${` (no closing `}`)",
					"close the reference with `}`, or write `$${` for a literal `${`"})
				b.WriteString(s[i:])
				i = len(s)
				continue
			}
			inner := s[i+2 : i+2+end]
			name, def, hasDef := strings.Cut(inner, ":-")
			switch val, ok := lookup(name); {
			case !envName.MatchString(name):
				probs = append(probs, envProblem{i, "invalid environment variable reference `${" + inner + "}`",
					"write ${NAME} or ${NAME:-default}; names are letters, digits and _, not starting with a digit"})
			case hasDef && (!ok || val == ""):
				b.WriteString(def)
			case !ok && !allowUnset:
				probs = append(probs, envProblem{i, "environment variable " + name + " is not set",
					"export " + name + "=..., or give a default: ${" + name + ":-value}"})
			default:
				b.WriteString(val)
			}
			i += 2 + end + 1
		default:
			b.WriteByte(s[i])
			i++
		}
	}
	return b.String(), probs
}
