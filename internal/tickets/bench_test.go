package tickets_test

import (
	"context"
	"os"
	"testing"

	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/db/dbtest"
)

// BenchmarkCreate is the store's share of `careloop bench ticket-create`:
// one ticket a call, routed, numbered, audited, with its event and timeline
// line, from 8 goroutines as the bench's 8 clients.
func BenchmarkCreate(b *testing.B) {
	targets := []dbtest.Target{{Dialect: db.SQLite}}
	if dsn := os.Getenv(dbtest.EnvPostgres); dsn != "" {
		targets = append(targets, dbtest.Target{Dialect: db.Postgres, DSN: dsn})
	}
	for _, tg := range targets {
		b.Run(string(tg.Dialect), func(b *testing.B) {
			f := setup(b, tg.Open(b))
			b.SetParallelism(4) // × GOMAXPROCS 2 = 8 writers
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := f.store.Create(context.Background(), f.alice, f.input("fault")); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
