package results

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// oldestSchemaVersion is the oldest JSON report version Decode still reads
// (and upgrades).
const oldestSchemaVersion = 1

// Decode reads a JSON report (docs/json-report.md) from r. It reads every
// version from 1 to [SchemaVersion] and upgrades an older one to the
// current shape (the returned Run has SchemaVersion == [SchemaVersion]):
//
//   - version 1 → 2: a scenario's recovery.recovered (bool) becomes
//     recovery.status (recovered / not_recovered), and each operation's
//     success_rate, which version 1 did not have, is computed from its ops
//     and errors.
//
// It refuses input that is not JSON (saying so when it looks like a YAML
// plan), a document without schema_version, a version newer than this
// planrun reads, input larger than [MaxReportSize], more list items or
// deeper nesting than the limits allow (checked before decoding: see
// [MaxScenarios] and the other limits), values out of range
// ([Run.Validate]), and histograms whose geometry planrun does not write
// or that would take more than [MaxHistogramBytes] decoded. Fields it
// does not know are ignored.
func Decode(r io.Reader) (*Run, error) {
	data, err := readAtMost(r, "the input")
	if err != nil {
		return nil, err
	}
	run, _, err := decode(data, "")
	return run, err
}

// MaxReportSize is the largest JSON report Decode and ReadFile read, in
// bytes. planrun's reports are far smaller: the time series is bounded
// (MaxSeriesPoints per scenario).
const MaxReportSize = 256 << 20

// ReadFile reads the JSON report at path (see [Decode]). Its errors name
// path. A command that reads several reports reads them with one [Budget].
func ReadFile(path string) (*Run, error) {
	run, _, _, err := readFile(path)
	return run, err
}

// readFile is ReadFile, also returning the bytes the report's histograms
// take decoded and the size of the report.
func readFile(path string) (*Run, int64, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("read report: %w", err)
	}
	defer f.Close()
	data, err := readAtMost(f, path)
	if err != nil {
		return nil, 0, 0, err
	}
	run, cost, err := decode(data, path)
	return run, cost, int64(len(data)), err
}

// readAtMost reads r to its end, or fails once it has read more than
// MaxReportSize bytes (`planrun report /dev/zero` must not eat the
// machine).
func readAtMost(r io.Reader, name string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxReportSize+1))
	if err != nil {
		return nil, fmt.Errorf("read report %s: %w", name, err)
	}
	if len(data) > MaxReportSize {
		return nil, fmt.Errorf("%s is not a planrun JSON report: it is larger than %d MiB", name, MaxReportSize>>20)
	}
	return data, nil
}

// decode decodes data read from path ("" for a stream), and returns the
// bytes its histograms take decoded. Its errors name the input.
func decode(data []byte, path string) (*Run, int64, error) {
	name := path
	if name == "" {
		name = "the input"
	}
	trimmed := bytes.TrimSpace(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))
	if len(trimmed) == 0 {
		return nil, 0, fmt.Errorf("%s is not a planrun JSON report: it is empty", name)
	}
	if trimmed[0] != '{' {
		return nil, 0, fmt.Errorf("%s %w", name, notJSON(trimmed, path))
	}
	var head struct {
		SchemaVersion *int `json:"schema_version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, 0, fmt.Errorf("%s is not a planrun JSON report: %w", name, err)
	}
	switch v := head.SchemaVersion; {
	case v == nil:
		return nil, 0, fmt.Errorf("%s is not a planrun JSON report: it has no schema_version", name)
	case *v > SchemaVersion:
		return nil, 0, fmt.Errorf("%s: schema_version %d is not supported (this planrun reads %s; a newer planrun wrote it: upgrade planrun)",
			name, *v, supportedVersions())
	case *v < oldestSchemaVersion:
		return nil, 0, fmt.Errorf("%s: schema_version %d is not supported (this planrun reads %s)",
			name, *v, supportedVersions())
	}
	if err := checkLists(data); err != nil {
		return nil, 0, fmt.Errorf("%s is not a report planrun wrote: %w", name, err)
	}
	var run Run
	if err := json.Unmarshal(data, &run); err != nil {
		return nil, 0, fmt.Errorf("%s: invalid planrun JSON report (schema_version %d): %w", name, *head.SchemaVersion, err)
	}
	if run.SchemaVersion == 1 {
		if err := upgradeV1(data, &run); err != nil {
			return nil, 0, fmt.Errorf("%s: %w", name, err)
		}
	}
	if err := run.Validate(); err != nil {
		return nil, 0, fmt.Errorf("%s is not a report planrun wrote: %w", name, err)
	}
	cost, err := checkHistograms(&run)
	if err != nil {
		return nil, 0, fmt.Errorf("%s is not a report planrun wrote: %w", name, err)
	}
	return &run, cost, nil
}

func supportedVersions() string {
	if oldestSchemaVersion == SchemaVersion {
		return fmt.Sprintf("schema_version %d", SchemaVersion)
	}
	return fmt.Sprintf("schema_version %d to %d", oldestSchemaVersion, SchemaVersion)
}

// notJSON explains input that is not a JSON object.
func notJSON(data []byte, path string) error {
	name := path
	if name == "" {
		name = "PLAN"
	}
	if looksLikeYAML(data) {
		return fmt.Errorf("is not a planrun JSON report (it looks like YAML: a plan? run it with `planrun %s`)", name)
	}
	return errors.New("is not a planrun JSON report (it is not a JSON object)")
}

// looksLikeYAML reports whether data starts like a YAML document: a
// comment, a document marker, or a `key:` line.
func looksLikeYAML(data []byte) bool {
	first, _, _ := strings.Cut(string(data), "\n")
	first = strings.TrimSpace(first)
	switch {
	case strings.HasPrefix(first, "#"), strings.HasPrefix(first, "---"), strings.HasPrefix(first, "%YAML"):
		return true
	}
	key, _, ok := strings.Cut(first, ":")
	return ok && key != "" && !strings.ContainsAny(key, " \t\"'{[")
}

// upgradeV1 brings a version-1 report to the current version.
func upgradeV1(data []byte, run *Run) error {
	var v1 struct {
		Scenarios []struct {
			Recovery *struct {
				Recovered bool `json:"recovered"`
			} `json:"recovery"`
		} `json:"scenarios"`
	}
	if err := json.Unmarshal(data, &v1); err != nil {
		return fmt.Errorf("invalid planrun JSON report (schema_version 1): %w", err)
	}
	for i := range run.Scenarios {
		sc := &run.Scenarios[i]
		if sc.Recovery != nil && i < len(v1.Scenarios) && v1.Scenarios[i].Recovery != nil {
			sc.Recovery.Status = RecoveryNotRecovered
			if v1.Scenarios[i].Recovery.Recovered {
				sc.Recovery.Status = RecoveryRecovered
			}
		}
		for j := range sc.Operations {
			op := &sc.Operations[j]
			op.SuccessRate = 1
			if op.Ops > 0 {
				op.SuccessRate = 1 - float64(op.Errors)/float64(op.Ops)
			}
		}
	}
	run.SchemaVersion = SchemaVersion
	return nil
}
