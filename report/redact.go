package report

import (
	"reflect"

	"github.com/planrun/planrun/internal/redact"
	"github.com/planrun/planrun/results"
)

// Redact returns a deep copy of run in which every string went through r
// (the passwords it knows, and whatever [redact.Text] finds; r may be nil),
// and the target URL first through [redact.DSN]. Every string field is
// covered, present and future: plan name and description, target, reasons,
// outcomes, error samples, teardown errors, verdict labels. Only encoded data
// (histograms, the plan's hash) is copied as it is. run itself is not
// modified.
//
// The renderers call it with a nil r, defensively, even though producers
// redact too; the CLI calls it with the passwords of the plan's target
// before it hands the run to anything that prints or writes.
func Redact(run *results.Run, r *redact.Redactor) *results.Run {
	if run == nil {
		return nil
	}
	out := scrub(reflect.ValueOf(*run), r.String).Interface().(results.Run)
	out.Target.URL = r.String(redact.DSN(run.Target.URL))
	return &out
}

// redacted is what every renderer does first.
func redacted(run *results.Run) *results.Run { return Redact(run, nil) }

// encoded names the string fields that hold encoded data, not text: a mask
// inside them would only corrupt them.
var encoded = map[string]bool{"Histogram": true, "SHA256": true}

// scrub returns a deep copy of v with every string passed through f. Map
// keys (categories, SQLSTATEs) are kept as they are.
func scrub(v reflect.Value, f func(string) string) reflect.Value {
	switch v.Kind() {
	case reflect.String:
		out := reflect.New(v.Type()).Elem()
		out.SetString(f(v.String()))
		return out
	case reflect.Struct:
		out := reflect.New(v.Type()).Elem()
		out.Set(v) // unexported fields (time.Time's) as they are
		for i := range v.NumField() {
			if sf := v.Type().Field(i); sf.IsExported() && !encoded[sf.Name] {
				out.Field(i).Set(scrub(v.Field(i), f))
			}
		}
		return out
	case reflect.Array:
		out := reflect.New(v.Type()).Elem()
		for i := range v.Len() {
			out.Index(i).Set(scrub(v.Index(i), f))
		}
		return out
	case reflect.Slice:
		if v.IsNil() {
			return v
		}
		out := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := range v.Len() {
			out.Index(i).Set(scrub(v.Index(i), f))
		}
		return out
	case reflect.Map:
		if v.IsNil() {
			return v
		}
		out := reflect.MakeMapWithSize(v.Type(), v.Len())
		for it := v.MapRange(); it.Next(); {
			out.SetMapIndex(it.Key(), scrub(it.Value(), f))
		}
		return out
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		out := reflect.New(v.Type().Elem())
		out.Elem().Set(scrub(v.Elem(), f))
		return out
	case reflect.Interface:
		if v.IsNil() {
			return v
		}
		out := reflect.New(v.Type()).Elem()
		out.Set(scrub(v.Elem(), f))
		return out
	}
	return v
}
