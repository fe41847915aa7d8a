package schema

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// bandwidthUnits gives the bytes per second of one of each unit a plan may
// write a bandwidth in, in documentation order (bandwidthUnitOrder).
var bandwidthUnits = map[string]float64{
	"B/s":    1,
	"kB/s":   1e3,
	"MB/s":   1e6,
	"GB/s":   1e9,
	"KiB/s":  1 << 10,
	"MiB/s":  1 << 20,
	"GiB/s":  1 << 30,
	"kbit/s": 1e3 / 8,
	"Mbit/s": 1e6 / 8,
	"Gbit/s": 1e9 / 8,
}

var bandwidthUnitOrder = []string{"B/s", "kB/s", "MB/s", "GB/s", "KiB/s", "MiB/s", "GiB/s", "kbit/s", "Mbit/s", "Gbit/s"}

// bandwidthAliases are units people write that planrun spells otherwise.
var bandwidthAliases = map[string]string{
	"Bps": "B/s", "KB/s": "kB/s", "kBps": "kB/s", "KBps": "kB/s", "MBps": "MB/s", "GBps": "GB/s",
	"kbps": "kbit/s", "Kbps": "kbit/s", "kb/s": "kbit/s", "Kbit/s": "kbit/s",
	"Mbps": "Mbit/s", "Mb/s": "Mbit/s", "Gbps": "Gbit/s", "Gb/s": "Gbit/s",
	"KiBps": "KiB/s", "MiBps": "MiB/s", "GiBps": "GiB/s",
}

// bandwidthForm is the hint part every bad bandwidth shows.
const bandwidthForm = "a bandwidth is bytes or bits per second with a unit: `100MB/s`, `512KiB/s`, `10Mbit/s` " +
	"(units B/s, kB/s, MB/s, GB/s; KiB/s, MiB/s, GiB/s; kbit/s, Mbit/s, Gbit/s)"

// numberUnit splits `12.5 MB/s` into its number and unit. The number is
// digits with an optional fraction: no sign, exponent, Inf or NaN.
var numberUnit = regexp.MustCompile(`^([0-9]+(?:\.[0-9]*)?|\.[0-9]+) *([^0-9 .].*)?$`)

// bandwidth decodes a bandwidth with its unit into bytes per second.
func (d *decoder) bandwidth(n *yaml.Node, key string) (Bandwidth, bool) {
	return unitScalar(d, n, key, "a bandwidth such as `100MB/s`", bandwidthForm, parseBandwidth)
}

// parseBandwidth parses a plan bandwidth, a number > 0 and a unit of
// bandwidthUnits, into bytes per second (rounded to the byte), from 1 B/s
// to MaxBandwidth. When s is not one, msg says why and hint how to write it.
func parseBandwidth(s string) (b Bandwidth, msg, hint string) {
	m := numberUnit.FindStringSubmatch(s)
	if m == nil {
		if strings.HasPrefix(s, "-") {
			return 0, "must not be negative, got " + s, "remove `bandwidth` for no limit; " + bandwidthForm
		}
		return 0, fmt.Sprintf("invalid bandwidth %q", s), bandwidthForm
	}
	num, unit := m[1], strings.TrimSpace(m[2])
	f, err := strconv.ParseFloat(num, 64)
	if err != nil { // digits only: out of range
		return 0, fmt.Sprintf("bandwidth %q is too large", s), fmt.Sprintf("a bandwidth is at most %s", maxBandwidthText)
	}
	per, ok := bandwidthUnits[unit]
	switch {
	case unit == "":
		return 0, "bandwidth needs a unit", fmt.Sprintf("write `%sMB/s` (bytes) or `%sMbit/s` (bits); %s", num, num, bandwidthForm)
	case !ok && bandwidthAliases[unit] != "":
		return 0, fmt.Sprintf("unknown bandwidth unit %q", unit), fmt.Sprintf("write `%s%s`; %s", num, bandwidthAliases[unit], bandwidthForm)
	case !ok:
		return 0, fmt.Sprintf("unknown bandwidth unit %q", unit), bandwidthForm
	}
	bytes := math.Round(f * per)
	switch {
	case f == 0:
		return 0, "bandwidth must be > 0, got " + s, "remove `bandwidth` for no limit"
	case bytes < 1:
		return 0, fmt.Sprintf("bandwidth %s is less than 1 B/s", s), "the smallest bandwidth is `1B/s` (`8bit/s` is not a unit: use `1B/s`)"
	case bytes > MaxBandwidth:
		return 0, fmt.Sprintf("bandwidth %s is more than %s", s, maxBandwidthText),
			"a bandwidth limit above that limits nothing on one machine: remove `bandwidth` for no limit (see Limits in docs/plan-format.md)"
	}
	return Bandwidth(bytes), "", ""
}

// maxBandwidthText is MaxBandwidth as a plan writes it.
var maxBandwidthText = strconv.FormatInt(MaxBandwidth/1e9, 10) + "GB/s"

// percentForm is the hint part every bad percentage shows.
const percentForm = "a share is a percentage: `50%`, `12.5%`, `100%`"

// percent decodes a percentage, `50%`, into a fraction (0.5). A bare number
// is an error: `0.5` and `50` would both be read as someone meant.
func (d *decoder) percent(n *yaml.Node, key string) (Percent, bool) {
	return unitScalar(d, n, key, "a percentage such as `50%`", percentForm, parsePercent)
}

// parsePercent parses `N%` (N a number ≥ 0, no sign or exponent) into the
// fraction N/100. When s is not one, msg says why and hint how to write it.
func parsePercent(s string) (p Percent, msg, hint string) {
	m := numberUnit.FindStringSubmatch(s)
	if m == nil {
		if strings.HasPrefix(s, "-") {
			return 0, "must not be negative, got " + s, percentForm
		}
		return 0, fmt.Sprintf("invalid percentage %q", s), percentForm
	}
	num, unit := m[1], strings.TrimSpace(m[2])
	f, err := strconv.ParseFloat(num, 64)
	switch {
	case unit == "" && err == nil && f <= 1 && strings.Contains(num, "."):
		return 0, "a percentage needs `%`", fmt.Sprintf("write `%s%%` for the fraction %s; %s", strconv.FormatFloat(f*100, 'g', 6, 64), num, percentForm)
	case unit == "":
		return 0, "a percentage needs `%`", fmt.Sprintf("write `%s%%`; %s", num, percentForm)
	case unit != "%":
		return 0, fmt.Sprintf("invalid percentage %q", s), percentForm
	case err != nil:
		return 0, fmt.Sprintf("percentage %q is too large", s), "a share is at most `100%`"
	}
	return Percent(f / 100), "", ""
}
