package pool

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// SetDial replaces how p opens a connection. Call it before the first Acquire.
func SetDial(p *Pool, dial func(context.Context, *pgx.ConnConfig) (*pgx.Conn, error)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.dial = dial
}
