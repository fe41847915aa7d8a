// Package pystack finds a python3 that imports the guide's stack: the
// interpreter the SQLAlchemy parity test and the reference service
// (examples/service) run with.
package pystack

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// EnvPython names the environment variable that points at the python3 to
// use when neither Debian's /usr/bin/python3 nor the first python3 on PATH
// imports the stack (e.g. a virtualenv on macOS).
const EnvPython = "PLANRUN_PYTHON"

// Candidates are the interpreters tried, in order: $PLANRUN_PYTHON,
// Debian's /usr/bin/python3 (a pyenv python3 first on some PATHs does not
// see Debian's packages), then python3 on PATH.
func Candidates() []string {
	var out []string
	if p := os.Getenv(EnvPython); p != "" {
		out = append(out, p)
	}
	out = append(out, "/usr/bin/python3")
	if p, err := exec.LookPath("python3"); err == nil {
		out = append(out, p)
	}
	return out
}

// Find returns the first candidate for which probe (a Python program)
// exits 0, or an error that says what was tried and how to install the
// modules: Debian packages debs, pip requirements pips.
func Find(probe string, debs, pips []string) (string, error) {
	cands := Candidates()
	for _, p := range cands {
		if exec.Command(p, "-c", probe).Run() == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no python3 among %q has what is needed: run `make deps` (Debian: apt-get install %s; macOS: pip install %s, then %s=that python3)",
		cands, strings.Join(debs, " "), strings.Join(pips, " "), EnvPython)
}

// SQLAlchemy is the probe of SQLAlchemy 1.4 and asyncpg (the parity test).
const SQLAlchemy = `import sqlalchemy, asyncpg, sys; sys.exit(0 if sqlalchemy.__version__.startswith("1.4") else 3)`

// Service is the probe of the reference service's stack: SQLAlchemy 1.4,
// asyncpg, FastAPI and uvicorn.
const Service = `import sqlalchemy, asyncpg, fastapi, uvicorn, sys; sys.exit(0 if sqlalchemy.__version__.startswith("1.4") else 3)`

// The packages that install each stack: Debian's and pip's.
var (
	SQLAlchemyDebs = []string{"python3-sqlalchemy", "python3-asyncpg"}
	SQLAlchemyPips = []string{"'sqlalchemy<2'", "asyncpg"}
	ServiceDebs    = append(SQLAlchemyDebs[:len(SQLAlchemyDebs):len(SQLAlchemyDebs)], "python3-fastapi", "python3-uvicorn")
	ServicePips    = append(SQLAlchemyPips[:len(SQLAlchemyPips):len(SQLAlchemyPips)], "fastapi", "uvicorn")
)
