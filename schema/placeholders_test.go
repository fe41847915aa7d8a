package schema

import (
	"reflect"
	"testing"
)

func TestPlaceholders(t *testing.T) {
	tests := []struct {
		name string
		sql  string
		want []int // the numbers, in order
	}{
		{"none", "SELECT 1", nil},
		{"in order", "SELECT $1, $2", []int{1, 2}},
		{"repeated and several digits", "SELECT $10 + $2 + $10", []int{10, 2, 10}},
		{"next to punctuation", "WHERE id=$1::int AND x IN ($2,$3)", []int{1, 2, 3}},
		{"string literal", "SELECT '$1', $2", []int{2}},
		{"doubled quote in a string", "SELECT 'it''s $1', $2", []int{2}},
		{"backslash ends nothing in a standard string", `SELECT 'a\', $1`, []int{1}},
		{"escape string", `SELECT E'it\'s $1', $2`, []int{2}},
		{"escape string with an escaped backslash", `SELECT e'\\', $1`, []int{1}},
		{"prefixed strings", "SELECT U&'$1', B'01', X'$2', N'$3', $4", []int{4}},
		{"a name ending in E before a string", "SELECT x FROM t WHERE'$1' = $2", []int{2}},
		{"quoted identifier", `SELECT "$1", "a""$2", $3`, []int{3}},
		{"line comment", "SELECT $1 -- and $2\n, $3", []int{1, 3}},
		{"line comment at the end", "SELECT $1 -- $2", []int{1}},
		{"block comment", "SELECT /* $1 */ $2", []int{2}},
		{"nested block comment", "SELECT /* a /* $1 */ $2 */ $3", []int{3}},
		{"unterminated block comment", "SELECT $1 /* $2", []int{1}},
		{"dollar-quoted string", "SELECT $$ $1 $$, $2", []int{2}},
		{"tagged dollar quote", "SELECT $fn$ $1 $$ $2 $fn$, $3", []int{3}},
		{"dollar quote with a digit in its tag", "SELECT $a1$ $1 $a1$, $2", []int{2}},
		{"unterminated dollar quote", "SELECT $1, $q$ $2", []int{1}},
		{"DO block", "DO $body$ BEGIN PERFORM $1; END $body$", nil},
		{"dollar inside a name", "SELECT a$1, b$$, $2", []int{2}},
		{"number then a name", "SELECT 1e5, 2.5, $1", []int{1}},
		{"lone dollar", "SELECT $ + $1", []int{1}},
		{"dollar at the end", "SELECT $1 $", []int{1}},
		{"unterminated string", "SELECT $1, 'x $2", []int{1}},
		{"huge number saturates", "SELECT $99999999999999999999999", []int{maxPlaceholder + 1}},
		{"unicode names and text", "SELECT café$1, 'ü$2', $3", []int{3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []int
			for _, p := range placeholders(tt.sql) {
				got = append(got, p.n)
				if tt.sql[p.off] != '$' {
					t.Errorf("placeholder $%d at offset %d, where %q is", p.n, p.off, tt.sql[p.off:])
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("placeholders(%q) = %v, want %v", tt.sql, got, tt.want)
			}
		})
	}
}

func TestDeclaresParameters(t *testing.T) {
	for sql, want := range map[string]bool{
		"PREPARE p (int) AS SELECT $1":                                   true,
		"  -- a comment\n/* another */ prepare p AS SELECT $1":           true,
		"CREATE FUNCTION f(int) RETURNS int RETURN $1 + 1":               true,
		"create or replace procedure p(int) BEGIN ATOMIC SELECT $1; END": true,
		"CREATE TABLE t AS SELECT $1":                                    false,
		"SELECT $1":                                                      false,
		"CREATE OR REPLACE VIEW v AS SELECT 1":                           false,
		"":                                                               false,
		"(SELECT $1)":                                                    false,
		"CREATE OR":                                                      false,
	} {
		if got := declaresParameters(sql); got != want {
			t.Errorf("declaresParameters(%q) = %v, want %v", sql, got, want)
		}
	}
}

func FuzzPlaceholders(f *testing.F) {
	for _, s := range []string{"SELECT $1", "SELECT '$1' $$ $2 $$ /* /* */ */ -- x\n$3", `E'\'`, "$a$", "$"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		last := -1
		for _, p := range placeholders(sql) {
			if p.off <= last || p.off >= len(sql) || sql[p.off] != '$' || p.n < 0 || p.n > maxPlaceholder+1 {
				t.Fatalf("bad placeholder %+v in %q", p, sql)
			}
			last = p.off
		}
	})
}
