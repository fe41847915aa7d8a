package schema

// Decoding of values with units: durations, duration ranges and arrival
// rates. decode.go walks the document.

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/planrun/planrun/internal/humanize"
)

// duration decodes a Go-style duration. A bare number is rejected (except 0,
// which needs no unit), as is a negative duration.
func (d *decoder) duration(n *yaml.Node, key string) (time.Duration, bool) {
	if n.Kind != yaml.ScalarNode || isNull(n) {
		d.typeError(n, key, "a duration such as `30s`", "")
		return 0, false
	}
	return d.parseDuration(n, key, strings.TrimSpace(n.Value))
}

func (d *decoder) parseDuration(n *yaml.Node, key, s string) (time.Duration, bool) {
	dur, msg, hint := parseDuration(s)
	if msg != "" {
		d.errorf(d.src.pos(n), hint, "%s", keyed(key, msg))
		return 0, false
	}
	return dur, true
}

// parseDuration parses a plan duration. When s is not one, msg says why and
// hint how to write it.
func parseDuration(s string) (dur time.Duration, msg, hint string) {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if f == 0 {
			return 0, "", ""
		}
		return 0, "duration needs a unit", fmt.Sprintf("write `%ss`, not `%s`", s, s)
	}
	dur, err := time.ParseDuration(s)
	switch {
	case err != nil && strings.Contains(err.Error(), "invalid duration") && overflows(s):
		return 0, fmt.Sprintf("duration %q is too long", s),
			fmt.Sprintf("a duration is at most %s (the largest Go duration); a plan's load lasts at most %s in all", humanize.Exact(math.MaxInt64), humanize.Exact(MaxLoad))
	case err != nil:
		return 0, fmt.Sprintf("invalid duration %q", s), "Go-style durations: `250ms`, `30s`, `5m`, `1h30m`"
	case dur < 0:
		return 0, "must not be negative, got " + s, ""
	}
	return dur, "", ""
}

// keyed prefixes a parseDuration message with the key: "hold must not be
// negative, ...", "timeout: invalid duration ...".
func keyed(key, msg string) string {
	if strings.HasPrefix(msg, "must ") {
		return key + " " + msg
	}
	return key + ": " + msg
}

// overflows reports whether s looks like a duration whose value does not fit
// in an int64 of nanoseconds (time.ParseDuration says only "invalid").
func overflows(s string) bool {
	s = strings.TrimLeft(s, "+-")
	if s == "" || !(s[0] >= '0' && s[0] <= '9' || s[0] == '.') {
		return false
	}
	_, err := time.ParseDuration(strings.Map(func(r rune) rune {
		if r >= '1' && r <= '9' {
			return '0'
		}
		return r
	}, s))
	return err == nil
}

// rangeForm is the hint part every bad duration range shows.
const rangeForm = "a range is MIN..MAX, e.g. `50ms..150ms`, or one duration, e.g. `100ms`"

// rangeSeparators are what people write between two durations instead of `..`.
var rangeSeparators = []string{"...", "…", " - ", "-", "–", " to ", "~", ","}

// durationRange decodes `MIN..MAX` or a single duration.
func (d *decoder) durationRange(n *yaml.Node, r *DurationRange, key string) bool {
	if n.Kind != yaml.ScalarNode || isNull(n) {
		hint := rangeForm
		if n.Kind == yaml.SequenceNode && len(n.Content) == 2 && n.Content[0].Kind == yaml.ScalarNode && n.Content[1].Kind == yaml.ScalarNode {
			hint = fmt.Sprintf("a range is MIN..MAX, not a list: write `%s..%s`", n.Content[0].Value, n.Content[1].Value)
		}
		d.typeError(n, key, "a duration or a range such as `50ms..150ms`", hint)
		return false
	}
	text := strings.TrimSpace(n.Value)
	lo, hi, isRange := strings.Cut(text, "..")
	lo, hi = strings.TrimSpace(lo), strings.TrimSpace(hi)
	if !isRange {
		dur, msg, hint := parseDuration(lo)
		if msg == "" {
			r.Min, r.Max = dur, dur
			return true
		}
		if fixed, ok := asRange(lo); ok {
			hint = "a range is MIN..MAX: write `" + fixed + "`"
		} else if hint == "" {
			hint = rangeForm
		} else {
			hint += "; " + rangeForm
		}
		d.errorf(d.src.pos(n), hint, "%s", keyed(key, msg))
		return false
	}
	switch {
	case strings.HasPrefix(hi, "."):
		d.errorf(d.src.pos(n), "write MIN..MAX with two dots, e.g. `"+lo+".."+strings.TrimLeft(hi, ".")+"`",
			"%s: invalid range %q", key, text)
		return false
	case lo == "" || hi == "":
		end := "maximum"
		if lo == "" {
			end = "minimum"
		}
		d.errorf(d.src.pos(n), "write MIN..MAX, e.g. `50ms..150ms`", "%s: range %q has no %s", key, text, end)
		return false
	}
	good := true
	for i, s := range []string{lo, hi} {
		dur, msg, hint := parseDuration(s)
		if msg != "" {
			switch {
			case strings.HasPrefix(msg, "duration needs a unit"):
				hint = "give both ends a unit: MIN..MAX, e.g. `50ms..150ms`"
			case hint == "":
				hint = "write MIN..MAX, both ≥ 0, e.g. `50ms..150ms`"
			default:
				hint += "; write MIN..MAX, e.g. `50ms..150ms`"
			}
			d.errorf(d.src.pos(n), hint, "%s", keyed(key, msg))
			good = false
			continue
		}
		if i == 0 { // by position: `1s..1s` has equal ends
			r.Min = dur
		} else {
			r.Max = dur
		}
	}
	if !good {
		*r = DurationRange{}
		return false
	}
	if r.Min > r.Max {
		d.errorf(d.src.pos(n), "write MIN..MAX, e.g. `"+hi+".."+lo+"`",
			"%s: minimum %s is greater than maximum %s", key, r.Min, r.Max)
		*r = DurationRange{}
		return false
	}
	return true
}

// asRange returns s with a range separator people often write (`-`, `to`,
// `...`) replaced by `..`, when both ends are durations.
func asRange(s string) (string, bool) {
	for _, sep := range rangeSeparators {
		lo, hi, ok := strings.Cut(s, sep)
		lo, hi = strings.TrimSpace(lo), strings.TrimSpace(hi)
		if !ok || lo == "" || hi == "" {
			continue
		}
		_, m1, _ := parseDuration(lo)
		_, m2, _ := parseDuration(hi)
		if m1 == "" && m2 == "" {
			return lo + ".." + hi, true
		}
	}
	return "", false
}

// rateForm is the hint part every bad rate shows.
const rateForm = "a rate is arrivals per second or per minute: `400/s`, `90/m`"

// rate decodes an open model's arrival rate, `N/s` or `N/m`, to arrivals
// per second.
func (d *decoder) rate(n *yaml.Node, key string) (Rate, bool) {
	return unitScalar(d, n, key, "a rate such as `400/s`", rateForm, parseRate)
}

// unitScalar decodes a scalar written with a unit (a rate, a bandwidth, a
// percentage) by parse, which says why a text is not one (msg) and how to
// write it (hint); want and form describe the value when n is no scalar.
func unitScalar[T any](d *decoder, n *yaml.Node, key, want, form string, parse func(string) (T, string, string)) (T, bool) {
	var zero T
	if n.Kind != yaml.ScalarNode || isNull(n) {
		d.typeError(n, key, want, form)
		return zero, false
	}
	v, msg, hint := parse(strings.TrimSpace(n.Value))
	if msg != "" {
		d.errorf(d.src.pos(n), hint, "%s", keyed(key, msg))
		return zero, false
	}
	return v, true
}

// parseRate parses a plan rate, `N/s` or `N/m` with N a finite number ≥ 0,
// into arrivals per second, at most MaxRate. When s is not one, msg says
// why and hint how to write it.
func parseRate(s string) (r Rate, msg, hint string) {
	num, unit, hasUnit := strings.Cut(s, "/")
	num, unit = strings.TrimSpace(num), strings.TrimSpace(unit)
	f, err := strconv.ParseFloat(num, 64)
	switch {
	case !hasUnit && err == nil:
		return 0, "rate needs a unit", fmt.Sprintf("write `%s/s` (arrivals per second) or `%s/m` (per minute)", num, num)
	case err != nil && errors.Is(err, strconv.ErrRange):
		return 0, fmt.Sprintf("rate %q is too large", s), fmt.Sprintf("a rate is at most %s/s (see Limits in docs/plan-format.md)", humanize.Int(MaxRate))
	case !hasUnit || err != nil:
		return 0, fmt.Sprintf("invalid rate %q", s), rateForm
	case math.IsNaN(f) || math.IsInf(f, 0):
		return 0, "must be a finite number, got " + s, rateForm
	case f < 0:
		return 0, "must not be negative, got " + s, "a rate counts arrivals: `0/s` in a stage is a pause"
	}
	var perSecond float64
	switch unit {
	case "s":
		perSecond = f
	case "m":
		perSecond = f / 60
	case "sec", "second", "seconds":
		return 0, fmt.Sprintf("unknown rate unit %q", unit), fmt.Sprintf("write `%s/s`; %s", num, rateForm)
	case "min", "minute", "minutes":
		return 0, fmt.Sprintf("unknown rate unit %q", unit), fmt.Sprintf("write `%s/m`; %s", num, rateForm)
	case "h", "hour", "hours":
		return 0, fmt.Sprintf("unknown rate unit %q", unit), fmt.Sprintf("write it per minute, `%s/m`; %s",
			strconv.FormatFloat(f/60, 'g', 6, 64), rateForm)
	default:
		return 0, fmt.Sprintf("unknown rate unit %q", unit), rateForm
	}
	if perSecond > MaxRate {
		return 0, fmt.Sprintf("rate %s is more than %s/s", s, humanize.Int(MaxRate)),
			fmt.Sprintf("one machine starts at most %s operations a second: beyond that it measures itself, not the pool (see Limits in docs/plan-format.md)", humanize.Int(MaxRate))
	}
	return Rate(perSecond), "", ""
}
