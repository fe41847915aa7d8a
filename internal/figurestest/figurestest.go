// Package figurestest builds a scenario for the tests that walk the table
// of figures (results.Figures): every number it holds is distinct and
// non-zero, so that a figure read from the wrong field shows.
package figurestest

import (
	"reflect"
	"time"

	"github.com/planrun/planrun/results"
)

// Operation is the name of the scenario's first operation: a per-operation
// figure operations.<name>.x reads it as operations.checkout.x.
const Operation = "checkout"

// Scenario returns a scenario whose every integer, float and duration
// (those of its operations, replicas, maps and recovery included) holds a
// value no other holds: integers from 1001 up, durations 1,000,003 ns
// apart, floats below 1 (every fraction a valid rate) and not whole.
func Scenario() *results.Scenario {
	s := &results.Scenario{
		Name:       "walk",
		Operations: []results.Operation{{Name: Operation}, {Name: "other"}},
		ErrorsBy:   map[string]int64{},
		Recovery:   &results.Recovery{Status: results.RecoveryRecovered},
		Replicas:   []results.Replica{{}, {}},
		Service:    &results.Service{},
		Connections: results.Connections{
			ClosedBy: map[string]int64{},
		},
	}
	for _, k := range results.ErrorCategories {
		s.ErrorsBy[k] = 0
	}
	for _, k := range results.CloseReasons {
		s.Connections.ClosedBy[k] = 0
	}
	var n int64
	fill(reflect.ValueOf(s).Elem(), &n)
	return s
}

var durationType = reflect.TypeOf(time.Duration(0))

// fill gives every number under v the next distinct value.
func fill(v reflect.Value, n *int64) {
	switch {
	case v.Type() == durationType:
		*n++
		v.SetInt(*n * 1_000_003)
		return
	}
	switch v.Kind() {
	case reflect.Int, reflect.Int64:
		*n++
		v.SetInt(1000 + *n)
	case reflect.Float64:
		*n++
		v.SetFloat(float64(*n) / 1024) // exact in binary, below 1 for n < 1024
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(time.Time{}) {
			return
		}
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), n)
			}
		}
	case reflect.Pointer:
		if !v.IsNil() {
			fill(v.Elem(), n)
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			fill(v.Index(i), n)
		}
	case reflect.Map:
		for _, k := range sortedKeys(v) {
			*n++
			v.SetMapIndex(k, reflect.ValueOf(1000+*n).Convert(v.Type().Elem()))
		}
	}
}

func sortedKeys(m reflect.Value) []reflect.Value {
	keys := m.MapKeys()
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j].String() < keys[j-1].String(); j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}
