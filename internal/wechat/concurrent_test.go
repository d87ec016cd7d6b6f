package wechat_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// The platform's retries and a follower's quick messages arrive at once
// (on PostgreSQL, in transactions side by side): one ticket per message,
// one placeholder per follower.
func TestWeChatConcurrentDeliveries(t *testing.T) {
	testkitEach(t, func(t *testing.T, p *platform) {
		k := p.k
		const n = 6
		post := func(bodies []string) {
			queries := make([]string, len(bodies))
			for i := range bodies {
				queries[i] = p.query(k.Clock.Now().Unix(), p.nonce(), token).Encode()
			}
			var wg sync.WaitGroup
			for i, b := range bodies {
				wg.Add(1)
				go func() {
					defer wg.Done()
					resp, err := http.Post(k.URL+"/wechat/callback/"+account+"?"+queries[i], "text/xml", strings.NewReader(b))
					if err != nil {
						t.Error(err)
						return
					}
					defer resp.Body.Close()
					body, _ := io.ReadAll(resp.Body)
					if resp.StatusCode != http.StatusOK || string(body) != "success" {
						t.Errorf("delivery %d: %d %s", i, resp.StatusCode, body)
					}
				}()
			}
			wg.Wait()
		}
		now := k.Clock.Now().Unix()
		same := make([]string, n)
		for i := range same {
			same[i] = textXML("oRETRIED", "同一条消息", "777", now)
		}
		before := count(t, k)
		post(same)
		after := count(t, k)
		if after.tickets != before.tickets+1 || after.messages != before.messages+1 || after.customers != before.customers+1 || after.inbound != before.inbound+1 {
			t.Fatalf("%d deliveries of one message: %+v → %+v", n, before, after)
		}
		quick := make([]string, n)
		for i := range quick {
			quick[i] = textXML("oQUICK", fmt.Sprintf("第 %d 条", i), fmt.Sprint(800+i), now)
		}
		post(quick)
		last := count(t, k)
		if last.tickets != after.tickets+1 || last.customers != after.customers+1 || last.messages != after.messages+n {
			t.Fatalf("%d first messages of one follower: %+v → %+v", n, after, last)
		}
		first, _, _ := ticketOf(t, k, "800")
		for i := 1; i < n; i++ {
			if id, _, _ := ticketOf(t, k, fmt.Sprint(800+i)); id != first {
				t.Fatalf("message %d on ticket %d, want %d", 800+i, id, first)
			}
		}
	})
}
