package main

import (
	"errors"
	"fmt"
	"maps"
	"strconv"

	"github.com/planrun/planrun/schema"
	"github.com/planrun/planrun/tune"
)

// servicePoolEnv names the env variables through which `planrun tune`
// varies the service under test's own pool (--size-env, --overflow-env):
// each run starts the service afresh (engine.Run starts and stops it), with
// the candidate's size and max_overflow in those variables, and the plan's
// pool: set alike, since it describes the service's pool.
type servicePoolEnv struct{ size, overflow string }

// set reports whether tune varies the service's pool.
func (e servicePoolEnv) set() bool { return e.size != "" || e.overflow != "" }

// check refuses the flags on a plan whose service planrun does not start:
// a running service (target.service.url) cannot be restarted with another
// pool.
func (e servicePoolEnv) check(plan *schema.Plan) error {
	if !e.set() {
		return nil
	}
	s := plan.Target.Service
	switch {
	case s == nil:
		return errors.New("--size-env and --overflow-env vary the service under test's pool: the plan has no target.service")
	case s.URL != "":
		return fmt.Errorf("--size-env and --overflow-env need a service that planrun starts (target.service.start), so that each run starts it with the candidate pool; target.service.url names a running one")
	}
	return nil
}

// apply returns s with the candidate c in the pool's env variables (a
// copy: the plan's own service is left as it is); s itself without them.
func (e servicePoolEnv) apply(s *schema.Service, c tune.Config) *schema.Service {
	if !e.set() || s == nil {
		return s
	}
	out := *s
	out.Env = maps.Clone(s.Env)
	if out.Env == nil {
		out.Env = map[string]string{}
	}
	if e.size != "" {
		out.Env[e.size] = strconv.Itoa(c.Size)
	}
	if e.overflow != "" {
		out.Env[e.overflow] = strconv.Itoa(c.MaxOverflow)
	}
	return &out
}
