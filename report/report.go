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
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/planrun/planrun/internal/filekind"
	"github.com/planrun/planrun/internal/redact"
	"github.com/planrun/planrun/results"
)

// Formats lists the stdout formats: "table", "markdown", "json", "junit", "html".
var Formats = []string{"table", "markdown", "json", "junit", "html"}

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
	case "html":
		return HTML(w, run)
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
	{".html", HTML},
}

// maxNameAttempts bounds the suffixes WriteFiles tries (-2 … -maxNameAttempts).
const maxNameAttempts = 1000

// FileBase is the base name WriteFiles gives the report files of plan at
// now: <plan>_<YYYYMMDD_HHMMSS_mmm>, local time, with the characters of plan
// other than letters, digits, '.', '_' and '-' replaced by '_' ("planrun"
// when none is left).
func FileBase(plan string, now time.Time) string {
	plan = strings.Trim(unsafeFileChars.ReplaceAllString(plan, "_"), "_.")
	if plan == "" {
		plan = "planrun"
	}
	local := now.Local()
	return fmt.Sprintf("%s_%s_%03d", plan, local.Format("20060102_150405"), local.Nanosecond()/int(time.Millisecond))
}

// WriteFiles writes <plan>_<YYYYMMDD_HHMMSS_mmm>.json, .md, .xml and .html into dir
// (created if missing) and returns their paths. now gives the timestamp
// (local time, to the millisecond). It never replaces a file: when a name
// is taken (two runs in the same millisecond), the files take the
// next free suffix, <plan>_<YYYYMMDD_HHMMSS_mmm>-2, -3 and so on. Each file
// appears whole or not at all: it is written to a temp file in dir, synced,
// then hard-linked to its name, which fails rather than replace a file (on
// file systems without hard links, the name is claimed with an exclusive
// create and the temp file renamed over the claim).
func WriteFiles(dir string, run *results.Run, now time.Time) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create report directory: %w", err)
	}
	base := FileBase(run.Plan.Name, now)

	var tmps []string
	defer func() {
		for _, tmp := range tmps {
			os.Remove(tmp)
		}
	}()
	for _, f := range fileRenderers {
		var buf bytes.Buffer
		if err := f.render(&buf, run); err != nil {
			return nil, err
		}
		tmp, err := writeTemp(dir, base+f.ext, buf.Bytes())
		if err != nil {
			return nil, err
		}
		tmps = append(tmps, tmp)
	}

	for n := 1; n <= maxNameAttempts; n++ {
		name := base
		if n > 1 {
			name = fmt.Sprintf("%s-%d", base, n)
		}
		paths, err := publishAll(dir, name, tmps)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return paths, syncDir(dir)
	}
	return nil, fmt.Errorf("write reports: %s and its %d suffixed names are all taken in %s", base, maxNameAttempts-1, dir)
}

// publishAll gives the temp files tmps (one per fileRenderers entry, in
// order) the names dir/name.json, .md, .xml and .html. When one of those is taken
// it removes those it published and returns an error wrapping fs.ErrExist.
func publishAll(dir, name string, tmps []string) ([]string, error) {
	var paths []string
	for i, f := range fileRenderers {
		path := filepath.Join(dir, name+f.ext)
		if err := publish(tmps[i], path); err != nil {
			for _, p := range paths {
				os.Remove(p)
			}
			return nil, fmt.Errorf("write %s: %w", path, err)
		}
		paths = append(paths, path)
	}
	return paths, nil
}

// publish gives the file tmp the name path without ever replacing a file
// there (the error then wraps fs.ErrExist): a hard link, or where the file
// system has none, an exclusive create of path followed by a rename of tmp
// over it.
func publish(tmp, path string) error {
	err := os.Link(tmp, path)
	if err == nil || errors.Is(err, fs.ErrExist) {
		return err
	}
	claim, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	claim.Close()
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(path) // our empty claim
		return err
	}
	return nil
}

// writeTemp writes data to a new temporary file in dir named after name,
// synced and readable by all (0644), and returns its path.
func writeTemp(dir, name string, data []byte) (path string, err error) {
	tmp, err := os.CreateTemp(dir, "."+name+".*.tmp")
	if err != nil {
		return "", fmt.Errorf("write %s: %w", name, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return "", fmt.Errorf("write %s: %w", name, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		return "", fmt.Errorf("write %s: %w", name, err)
	}
	if err := tmp.Sync(); err != nil {
		return "", fmt.Errorf("write %s: sync: %w", name, err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("write %s: %w", name, err)
	}
	return tmp.Name(), nil
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

// gitHubSummaryEnv names the file GitHub Actions shows on a job's page.
const gitHubSummaryEnv = "GITHUB_STEP_SUMMARY"

// CheckGitHubSummary makes sure the file named by $GITHUB_STEP_SUMMARY, when
// set, can be appended to, before a long run starts: it opens it for
// appending (creating it if missing, never truncating) and closes it.
func CheckGitHubSummary() error {
	f, err := openGitHubSummary()
	if f == nil || err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("cannot append to %s: %w", f.Name(), err)
	}
	return nil
}

// AppendGitHubSummary appends the markdown report to the file named by
// $GITHUB_STEP_SUMMARY when it is set (no-op otherwise), so that a GitHub
// Actions job page shows the verdict.
func AppendGitHubSummary(run *results.Run) error {
	if os.Getenv(gitHubSummaryEnv) == "" {
		return nil
	}
	var buf bytes.Buffer
	if err := Markdown(&buf, run); err != nil {
		return err
	}
	buf.WriteByte('\n')
	f, err := openGitHubSummary()
	if f == nil || err != nil {
		return err
	}
	if _, err := f.Write(buf.Bytes()); err != nil {
		f.Close()
		return fmt.Errorf("append to %s: %w", f.Name(), err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("append to %s: %w", f.Name(), err)
	}
	return nil
}

// openGitHubSummary opens $GITHUB_STEP_SUMMARY for appending; nil, nil when
// the variable is unset or empty. Only a regular file (created when
// missing) is accepted: the open is non-blocking (a FIFO without a reader
// would otherwise block the command for good, signals or not), and a
// directory, FIFO or device is refused.
func openGitHubSummary() (*os.File, error) {
	path := os.Getenv(gitHubSummaryEnv)
	if path == "" {
		return nil, nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|syscall.O_NONBLOCK, 0o644)
	if err != nil {
		if fi, serr := os.Stat(path); serr == nil && !fi.Mode().IsRegular() {
			return nil, notRegular(path, fi.Mode())
		}
		return nil, fmt.Errorf("cannot append: %w", err)
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = notRegular(path, fi.Mode())
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// notRegular is the error of a summary path that is not a regular file.
func notRegular(path string, m os.FileMode) error {
	return fmt.Errorf("%s is %s, not a regular file", path, filekind.Of(m))
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
