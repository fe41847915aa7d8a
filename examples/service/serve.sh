#!/bin/sh
# serve.sh PORT: runs the reference service (app.py) on 127.0.0.1:PORT with
# the first python3 that has its stack: $PYTHON if set, then python3 on
# PATH, then /usr/bin/python3 (where Debian's packages, which `make deps`
# installs, live: a pyenv or virtualenv python3 first on PATH does not see
# them). Every other setting comes from the environment (see README.md).
set -eu
port="${1:?usage: serve.sh PORT}"
cd "$(dirname "$0")"
tried=""
for py in ${PYTHON:-} python3 /usr/bin/python3; do
	case " $tried " in *" $py "*) continue ;; esac
	tried="$tried $py"
	if command -v "$py" >/dev/null 2>&1 &&
		"$py" -c 'import fastapi, uvicorn, sqlalchemy, asyncpg' 2>/dev/null; then
		exec "$py" -m uvicorn app:app --host 127.0.0.1 --port "$port"
	fi
done
echo "serve.sh: no python3 with fastapi, uvicorn, sqlalchemy and asyncpg (tried:$tried)." >&2
echo "Debian: make deps (or apt-get install python3-fastapi python3-uvicorn python3-sqlalchemy python3-asyncpg);" >&2
echo "elsewhere: pip install fastapi uvicorn 'sqlalchemy<2' asyncpg, and set PYTHON to that python3." >&2
exit 1
