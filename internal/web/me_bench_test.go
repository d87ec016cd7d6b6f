package web_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/testkit"
)

// BenchmarkMe measures the server's own cost of one signed-in request
// (GET /api/v1/me, SQLite), by token and by session cookie, without the
// network: what `careloop bench me` measures end to end.
func BenchmarkMe(b *testing.B) {
	k := testkit.Start(b, dbtest.Target{Dialect: db.SQLite})
	_, token := k.User("agent@example.com", "agent")
	c := k.Login("agent@example.com", testkit.Password)
	req, _ := http.NewRequest("GET", k.URL+"/api/v1/me", nil)
	var cookie string
	for _, ck := range c.Jar.Cookies(req.URL) {
		cookie += ck.Name + "=" + ck.Value + "; "
	}
	for _, mode := range []struct {
		name, header, value string
	}{{"token", "Authorization", "Bearer " + token}, {"cookie", "Cookie", cookie}} {
		// A session last seen over a minute ago is touched once, then not
		// again for a minute: the benchmark starts past that minute.
		k.Clock.Advance(2 * time.Minute)
		b.Run(mode.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					r := httptest.NewRequest("GET", "/api/v1/me", nil)
					r.Header.Set(mode.header, mode.value)
					w := httptest.NewRecorder()
					k.App.Server.ServeHTTP(w, r)
					if w.Code != 200 {
						b.Fatalf("status %d: %s", w.Code, w.Body)
					}
				}
			})
		})
	}
}
