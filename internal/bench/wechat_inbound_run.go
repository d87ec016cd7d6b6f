package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/careloop/careloop/internal/app"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/loadgen"
)

// runWeChatInbound drives the WeChat callback of a `careloop serve` child
// with signed deliveries at rising rates (the first is the floor), then
// checks the database: one customer message per distinct MsgId, one
// ticket per follower, retries duplicating nothing.
func runWeChatInbound(ctx context.Context, e Env, o Options) (any, error) {
	s, err := NewScratch(e.DSN)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	admin, err := s.SeedUser(ctx, "wechat-bench@example.com", "admin")
	if err != nil {
		return nil, err
	}
	srv, err := s.Start(ctx, e, "--secret-key", newSecretKey())
	if err != nil {
		return nil, err
	}
	defer srv.Stop()
	res := WeChatInboundResult{Scenario: "wechat-inbound", Database: "sqlite"}
	if e.DSN != "" {
		res.Database = "postgres"
	}
	if err := configureWeChat(srv.BaseURL, admin); err != nil {
		return nil, err
	}
	client := &http.Client{Transport: loadgen.NewTransport(256), Timeout: 10 * time.Second}
	f := newWeChatFeed()
	// Warm-up, not measured: each follower's first message opens their ticket.
	if err := f.warm(client, srv.BaseURL); err != nil {
		return nil, err
	}
	res.Load[0] = loadAverage()
	d := o.Duration
	if d <= 0 {
		d = 10 * time.Second
	}
	for _, rate := range wechatInboundRates {
		st, samples := f.step(ctx, client, srv.BaseURL, rate, d)
		res.Steps = append(res.Steps, st)
		fmt.Fprintf(e.Out, "wechat-inbound %s %d/min: %d sent (%d retries), %d failures, p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
			res.Database, rate, st.Sent, st.Retries, st.Failures, st.P50MS, st.P99MS, st.MaxMS)
		for _, m := range samples {
			fmt.Fprintf(e.Out, "  failure: %s\n", m)
		}
		if !st.Met {
			break
		}
		res.MaxPerMinute = rate
	}
	res.Load[1] = loadAverage()
	a, err := app.OpenStore(ctx, s.Config(), app.Options{Hash: identity.HashParams{Time: 1, Memory: 8 * 1024, Threads: 1}})
	if err != nil {
		return nil, err
	}
	res.Verify, err = verifyWeChatInbound(ctx, a.DB, wechatBenchAccount, len(f.msgIDs), len(f.followers))
	a.Close()
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(e.Out, "wechat-inbound %s: max %d/min with p99 ≤ %d ms; database: %d MsgIds, %d inbound rows, %d tickets for %d followers, %d customer messages (%d appended); load average %s before, %s after\n",
		res.Database, res.MaxPerMinute, wechatInboundP99FloorMS, res.Verify.MsgIDs, res.Verify.Inbound, res.Verify.Tickets, res.Verify.Followers,
		res.Verify.Messages, res.Verify.Appended, res.Load[0], res.Load[1])
	if len(res.Steps) == 0 || !res.Steps[0].Met {
		res.Missed = append(res.Missed, fmt.Sprintf("%d/min at p99 ≤ %d ms", wechatInboundFloorPerMin, wechatInboundP99FloorMS))
	}
	if !res.Verify.OK {
		res.Missed = append(res.Missed, "tickets and messages equal the distinct MsgIds")
	}
	if len(res.Missed) > 0 {
		return res, fmt.Errorf("wechat-inbound: floors missed: %s", strings.Join(res.Missed, ", "))
	}
	return res, nil
}

// configureWeChat sets up the bench account through the API, as an
// administrator would.
func configureWeChat(base, token string) error {
	body, _ := json.Marshal(map[string]any{"version": 0, "accounts": []map[string]any{{"name": wechatBenchAccount, "app_id": wechatBenchAppID,
		"token": wechatBenchToken, "encoding_aes_key": wechatBenchAESKey, "app_secret": "bench-app-secret"}}})
	req, _ := http.NewRequest("PUT", base+"/api/v1/channels/wechat", strings.NewReader(string(body)))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("configure the WeChat account: %d", resp.StatusCode)
	}
	return nil
}

// warm sends each follower's first message, 8 at a time.
func (f *wechatFeed) warm(c *http.Client, base string) error {
	var wg sync.WaitGroup
	errs := make(chan error, wechatBenchFollowers)
	next := make(chan int)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				d := f.first(i)
				if _, err := post(c, base, d); err != nil {
					errs <- fmt.Errorf("warm-up: %w", err)
					continue
				}
				f.acknowledged(d)
			}
		}()
	}
	for i := range wechatBenchFollowers {
		next <- i
	}
	close(next)
	wg.Wait()
	close(errs)
	return <-errs
}

// verifyWeChatInbound checks the database against the acknowledged
// deliveries: each distinct MsgId is one wechat_inbound row and one
// customer message (a ticket's first, or one appended to the follower's
// open ticket), each follower one ticket.
func verifyWeChatInbound(ctx context.Context, d *db.DB, account string, msgIDs, followers int) (WeChatVerify, error) {
	v := WeChatVerify{MsgIDs: msgIDs, Followers: followers}
	q := d.RQ(ctx)
	for _, c := range []struct {
		n     *int
		query string
	}{
		{&v.Inbound, `SELECT COUNT(*) FROM wechat_inbound WHERE account = $1`},
		{&v.Tickets, `SELECT COUNT(DISTINCT t.id) FROM tickets t JOIN wechat_inbound w ON w.ticket_id = t.id WHERE w.account = $1`},
		{&v.Messages, `SELECT COUNT(*) FROM ticket_messages m WHERE m.from_customer = TRUE AND m.ticket_id IN
			(SELECT ticket_id FROM wechat_inbound WHERE account = $1)`},
	} {
		if err := q.QueryRowContext(ctx, c.query, account).Scan(c.n); err != nil {
			return v, fmt.Errorf("verify: %w", err)
		}
	}
	v.Appended = v.Messages - v.Tickets
	v.OK = v.Inbound == msgIDs && v.Messages == msgIDs && v.Tickets == followers
	return v, nil
}
