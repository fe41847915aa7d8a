// Package plans holds the plans users run (production.yaml, smoke.yaml); its test loads, compiles and runs them and the examples.
package plans
