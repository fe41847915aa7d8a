package schema

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"github.com/planrun/planrun/internal/filekind"
	"github.com/planrun/planrun/internal/humanize"
	"go.yaml.in/yaml/v3"
)

// Load reads the plan file at path and parses it with the process
// environment for ${VAR} expansion (see [Parse]). Plan.File is path and
// Plan.SHA256 the hex SHA-256 of the file's bytes.
//
// The error, when not nil, is an [Errors]; a file that cannot be read gives
// one entry without a line, which unwraps to the os error.
//
// Only a regular file of at most [MaxPlanSize] bytes is read: a directory,
// a device (/dev/zero), a named pipe or a socket is refused with
// [ErrNotRegularFile], a larger file with [ErrPlanTooLarge], before its
// contents are read.
func Load(path string) (*Plan, error) {
	data, err := readPlan(path)
	if err != nil {
		return nil, Errors{err}
	}
	return Parse(path, data, os.LookupEnv)
}

// Errors a plan file can be refused with, before it is parsed; the
// [Errors] of [Load] and [LoadPartial] unwrap to them.
var (
	ErrNotRegularFile = errors.New("not a regular file")
	ErrPlanTooLarge   = errors.New("plan file too large")
)

// readPlan reads the plan file at path: a regular file of at most
// MaxPlanSize bytes.
func readPlan(path string) ([]byte, *Error) {
	fail := func(err error) *Error {
		return &Error{Pos: Pos{File: path}, Msg: fmt.Sprintf("cannot read plan: %v", err), Err: err}
	}
	// Stat before opening: opening a named pipe blocks until a writer comes.
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fail(err)
	}
	if e := checkFile(path, fi); e != nil {
		return nil, e
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fail(err)
	}
	defer f.Close()
	if fi, err = f.Stat(); err != nil {
		return nil, fail(err)
	}
	if e := checkFile(path, fi); e != nil {
		return nil, e
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxPlanSize+1))
	if err != nil {
		return nil, fail(err)
	}
	if len(data) > MaxPlanSize {
		return nil, tooLarge(path, "it grew while read")
	}
	return data, nil
}

// checkFile returns the error to report when the file at path, described
// by fi, is not a regular file of at most MaxPlanSize bytes.
func checkFile(path string, fi os.FileInfo) *Error {
	mode := fi.Mode()
	if !mode.IsRegular() {
		kind := filekind.Of(mode)
		return &Error{Pos: Pos{File: path}, Err: ErrNotRegularFile,
			Msg:  fmt.Sprintf("cannot read plan: %s is %s, not a regular file", path, kind),
			Hint: "give the path of a plan file; to use generated text, write it to a file first"}
	}
	if fi.Size() > MaxPlanSize {
		return tooLarge(path, humanize.Int(fi.Size())+" bytes")
	}
	return nil
}

func tooLarge(path, size string) *Error {
	return &Error{Pos: Pos{File: path}, Err: ErrPlanTooLarge,
		Msg:  fmt.Sprintf("cannot read plan: %s is larger than %d MiB (%s)", path, MaxPlanSize>>20, size),
		Hint: fmt.Sprintf("a plan file is at most %d MiB; is this the right file?", MaxPlanSize>>20)}
}

// Parse decodes, defaults and validates one plan. file names the plan in
// positions; lookupEnv resolves ${VAR} references (nil: none is set).
//
// The error, when not nil, is an [Errors] holding every problem found, sorted
// by position, each with file:line:col. Parse never panics; the plan is nil
// when there is an error.
func Parse(file string, data []byte, lookupEnv func(string) (string, bool)) (*Plan, error) {
	plan, err := ParsePartial(file, data, lookupEnv)
	if err != nil {
		return nil, err
	}
	return plan, nil
}

// LoadPartial is [Load] that also returns the plan as far as it could be read
// when it has errors, so that later steps (compiling args and assertions) can
// report their problems in the same pass. The partial plan is nil only when
// the file is not a YAML mapping; never run a plan that came with an error.
func LoadPartial(path string) (*Plan, error) {
	data, err := readPlan(path)
	if err != nil {
		return nil, Errors{err}
	}
	return ParsePartial(path, data, os.LookupEnv)
}

// ParsePartial is [Parse] that keeps the partial plan; see [LoadPartial].
func ParsePartial(file string, data []byte, lookupEnv func(string) (string, bool)) (plan *Plan, err error) {
	defer func() {
		if r := recover(); r != nil {
			plan = nil
			err = Errors{{Pos: Pos{File: file, Line: 1, Col: 1},
				Msg:  fmt.Sprintf("internal error while reading the plan: %v", r),
				Hint: "this is a planrun bug; please report it with the plan file"}}
		}
	}()
	if len(data) > MaxPlanSize {
		return nil, Errors{{Pos: Pos{File: file, Line: 1, Col: 1}, Err: ErrPlanTooLarge,
			Msg:  fmt.Sprintf("the plan is larger than %d MiB (%s bytes)", MaxPlanSize>>20, humanize.Int(int64(len(data)))),
			Hint: fmt.Sprintf("a plan file is at most %d MiB; is this the right file?", MaxPlanSize>>20)}}
	}
	if lookupEnv == nil {
		lookupEnv = func(string) (string, bool) { return "", false }
	}
	src := newSource(file, data)
	root, errs := parseYAML(src)
	if errs != nil {
		return nil, errs.Err()
	}
	d := &decoder{
		src:    src,
		lookup: lookupEnv,
		active: map[*yaml.Node]bool{},
		meta: &meta{pos: map[any]Pos{}, bad: map[any]bool{}, mixPos: map[string]Pos{}, root: src.pos(root),
			sql: map[*string]*yaml.Node{}, env: map[any]string{}, entries: map[any]map[string]entry{}},
	}
	p := &Plan{File: file}
	sum := sha256.Sum256(data)
	p.SHA256 = hex.EncodeToString(sum[:])
	if root.Kind != yaml.MappingNode {
		d.errorf(src.pos(root), "a plan starts with `version: 1` and `name: ...`",
			"a plan must be a YAML mapping, got %s", describe(root))
		return nil, d.errs.Err()
	}
	d.value(root, reflect.ValueOf(p).Elem(), ctx{key: "plan"})
	p.MixOrder = d.meta.mixOrder
	applyDefaults(p, d.meta)
	validate(p, d.meta, src, &d.errs)
	return p, d.errs.Err()
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// isParserProblem tells yaml's parser errors (0-based line of the enclosing
// collection) from its scanner errors (1-based line of the problem).
func isParserProblem(msg string) bool {
	for _, p := range []string{"did not find expected", "found duplicate %", "found incompatible YAML", "found undefined tag handle"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

// parseYAML parses the single YAML document of a plan.
func parseYAML(src *source) (*yaml.Node, Errors) {
	dec := yaml.NewDecoder(bytes.NewReader(src.data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, Errors{{Pos: Pos{File: src.file, Line: 1, Col: 1}, Msg: "the plan is empty",
				Hint: "a plan starts with `version: 1` and `name: ...`; see docs/plan-format.md"}}
		}
		return nil, Errors{yamlError(src, err)}
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case err == nil:
		return nil, Errors{{Pos: src.pos(&next), Msg: "a plan file holds one YAML document, found a second one",
			Hint: "remove the `---` separator and what follows, or split the plans into files"}}
	case !errors.Is(err, io.EOF):
		return nil, Errors{yamlError(src, err)}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, Errors{{Pos: Pos{File: src.file, Line: 1, Col: 1}, Msg: "the plan is empty"}}
	}
	return doc.Content[0], nil
}

// flowQuestionMark finds a `?` inside an unquoted value of a flow
// collection, which go.yaml.in/yaml/v3 rejects ("did not find expected
// ','"), although YAML allows it.
var flowQuestionMark = regexp.MustCompile(`[{\[][^"'\n]*[^\s"'?]\?`)

// yamlError turns a YAML syntax error into an Error at its line.
func yamlError(src *source, err error) *Error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 1
	hint := "check indentation and quoting on this line or the one before it"
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
		if isParserProblem(msg) {
			// yaml reports parser errors at the 0-based line of the
			// collection being parsed.
			line++
			hint = "the problem is inside the mapping or list that starts on this line: check its indentation, brackets and quotes"
			if l := src.line(line); strings.Contains(msg, "did not find expected ','") && flowQuestionMark.MatchString(l) {
				hint = "inside `{…}` or `[…]` the YAML parser cannot read a `?` in an unquoted value (such as `GET /report?hold_ms=100`): quote the value, or write the mapping one key per line"
			}
		}
	}
	return &Error{Pos: Pos{File: src.file, Line: max(line, 1), Col: 1}, Msg: "invalid YAML: " + msg, Err: err, Hint: hint}
}
