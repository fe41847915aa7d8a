package engine_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/planrun/planrun/assertions"
	"github.com/planrun/planrun/engine"
	"github.com/planrun/planrun/schema"
)

// FuzzCompilePartial feeds arbitrary plans through what `planrun validate`
// does: a partial load, then compiling args and assertions even when the
// plan has errors. Nothing may panic, and every error has a position.
func FuzzCompilePartial(f *testing.F) {
	for _, glob := range []string{"../plans/*.yaml", "../examples/*.yaml"} {
		files, _ := filepath.Glob(glob)
		for _, file := range files {
			if data, err := os.ReadFile(file); err == nil {
				f.Add(data)
			}
		}
	}
	f.Add([]byte("version: 1\nname: x\nmixes: {m: [{name: a, sql: x, weight: 0}]}\nscenarios: [{name: s, mix: nope, users: 1, duration: 1s}]\nassertions: [{name: a, check: 'acquire.p95 < '}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		plan, err := schema.ParsePartial("fuzz.yaml", data, nil)
		var all schema.Errors
		collectErrors(&all, err)
		if plan != nil {
			_, err = engine.Compile(plan, engine.Options{})
			collectErrors(&all, err)
			_, err = assertions.Compile(plan)
			collectErrors(&all, err)
		}
		for _, e := range all {
			if e.Pos.File == "" {
				t.Errorf("error without a position: %v", e)
			}
		}
	})
}

func collectErrors(all *schema.Errors, err error) {
	var errs schema.Errors
	if errors.As(err, &errs) {
		*all = append(*all, errs...)
	}
}
