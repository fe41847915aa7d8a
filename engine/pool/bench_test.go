package pool_test

import (
	"context"
	"testing"
	"time"

	"github.com/planrun/planrun/engine/pool"
	"github.com/planrun/planrun/internal/pgtest"
)

// BenchmarkAcquireRelease measures one Acquire + Release of an idle
// connection (no query), from parallel goroutines on a pool of Size 8.
func BenchmarkAcquireRelease(b *testing.B) {
	dsn := pgtest.DSN(b)
	const size = 8
	p := newPool(b, pool.Config{ConnString: dsn, ApplicationName: appName(b), Size: size, Timeout: 30 * time.Second})
	ctx := context.Background()
	var warm []*pool.Conn
	for range size {
		c, err := p.Acquire(ctx)
		if err != nil {
			b.Fatalf("Acquire: %v", err)
		}
		warm = append(warm, c)
	}
	for _, c := range warm {
		p.Release(c)
	}

	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c, err := p.Acquire(ctx)
			if err != nil {
				b.Errorf("Acquire: %v", err)
				return
			}
			p.Release(c)
		}
	})
	b.StopTimer()
	if st := p.Stats(); st.Opened != size || st.ClosedOverflow != 0 {
		b.Errorf("stats %+v: want Opened %d and no closes", st, size)
	}
}
