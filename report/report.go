// Package report renders a [results.Run] for people and machines: a terminal
// table, GitHub-flavoured markdown for pull requests, the versioned JSON
// report and JUnit XML for CI.
//
// Renderers format; they never compute anything beyond what display needs.
// Every renderer redacts defensively: the target URL goes through
// [redact.DSN] and every free text (error samples, reasons) through
// [redact.Text], even though producers redact too.
package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"time"

	"github.com/planrun/planrun/internal/redact"
	"github.com/planrun/planrun/results"
)

// Formats lists the stdout formats: "table", "markdown", "json", "junit".
var Formats = []string{"table", "markdown", "json", "junit"}

// Options tunes the human-facing renderers.
type Options struct {
	// Color enables ANSI colour in the terminal table. The caller decides:
	// only when stdout is a terminal (and NO_COLOR is unset).
	Color bool
}

// Render writes run to w in format, one of [Formats]. An unknown format is
// an error naming the valid ones.
func Render(w io.Writer, format string, run *results.Run, opts Options) error {
	switch format {
	case "table":
		return Table(w, run, opts)
	case "markdown":
		return Markdown(w, run)
	case "json":
		return JSON(w, run)
	case "junit":
		return JUnit(w, run)
	default:
		return fmt.Errorf("unknown report format %q (valid: %s)", format, strings.Join(Formats, ", "))
	}
}

// JSON writes run as the versioned JSON report: json.MarshalIndent of
// [results.Run] with two-space indentation, in the struct's field order (map
// keys sorted). It sets nothing: SchemaVersion is the producer's. Free text
// is redacted like in every other format.
func JSON(w io.Writer, run *results.Run) error {
	b, err := json.MarshalIndent(redacted(run), "", "  ")
	if err != nil {
		return fmt.Errorf("encode JSON report: %w", err)
	}
	b = append(b, '\n')
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("write JSON report: %w", err)
	}
	return nil
}

// unsafeFileChars matches what may not appear in a report file name.
var unsafeFileChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// fileRenderers are the files WriteFiles writes, by extension.
var fileRenderers = []struct {
	ext    string
	render func(io.Writer, *results.Run) error
}{
	{".json", JSON},
	{".md", Markdown},
	{".xml", JUnit},
}

// WriteFiles writes <plan>_<YYYYMMDD_HHMMSS>.json, .md and .xml into dir
// (created if missing), each atomically (temp file in dir + fsync + rename),
// and returns their paths. now gives the timestamp (local time). A file of the
// same name is replaced.
func WriteFiles(dir string, run *results.Run, now time.Time) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create report directory: %w", err)
	}
	plan := strings.Trim(unsafeFileChars.ReplaceAllString(run.Plan.Name, "_"), "_.")
	if plan == "" {
		plan = "planrun"
	}
	base := plan + "_" + now.Local().Format("20060102_150405")

	var paths []string
	for _, f := range fileRenderers {
		var buf bytes.Buffer
		if err := f.render(&buf, run); err != nil {
			return paths, err
		}
		path := filepath.Join(dir, base+f.ext)
		if err := writeAtomic(path, buf.Bytes()); err != nil {
			return paths, err
		}
		paths = append(paths, path)
	}
	if err := syncDir(dir); err != nil {
		return paths, err
	}
	return paths, nil
}

// writeAtomic writes data to path through a temporary file in the same
// directory, synced before it is renamed over path, so that readers see
// either the old file or the whole new one.
func writeAtomic(path string, data []byte) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("write %s: sync: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// syncDir makes the renames in dir durable. Windows cannot sync a directory.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync report directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync report directory: %w", err)
	}
	return nil
}

// AppendGitHubSummary appends the markdown report to the file named by
// $GITHUB_STEP_SUMMARY when it is set (no-op otherwise), so that a GitHub
// Actions job page shows the verdict.
func AppendGitHubSummary(run *results.Run) error {
	path := os.Getenv("GITHUB_STEP_SUMMARY")
	if path == "" {
		return nil
	}
	var buf bytes.Buffer
	if err := Markdown(&buf, run); err != nil {
		return err
	}
	buf.WriteByte('\n')
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("append GitHub step summary: %w", err)
	}
	if _, err := f.Write(buf.Bytes()); err != nil {
		f.Close()
		return fmt.Errorf("append GitHub step summary: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("append GitHub step summary: %w", err)
	}
	return nil
}

// targetURL is the redacted target for display.
func targetURL(run *results.Run) string {
	if run.Target.Embedded && run.Target.URL == "" {
		return "embedded PostgreSQL"
	}
	u := redact.DSN(run.Target.URL)
	if run.Target.Embedded {
		u += " (embedded)"
	}
	return u
}
