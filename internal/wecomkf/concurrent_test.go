package wecomkf_test

import (
	"context"
	"sync"
	"testing"

	"github.com/careloop/careloop/internal/testkit"
)

// Two servers pull the same 客服账号 at once (two callbacks, two jobs):
// the cursor's compare-and-set and the msgid claim make every message one
// ticket message, and the two users two placeholders.
func TestWeComKFConcurrentPullsTakeEachMessageOnce(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		p := setUp(t, k)
		p.fake.Page = 1
		for i := range 8 {
			user := userA
			if i%2 == 1 {
				user = userB
			}
			p.fake.Customer(kfID, user, "消息 "+string(rune('A'+i)))
		}
		p.notify(t, "tok")
		var wg sync.WaitGroup
		errs := make(chan error, 3)
		for range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := k.App.WeComKF.Pull(context.Background(), account, kfID); err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if n := count(t, k, `SELECT COUNT(*) FROM ticket_messages WHERE from_customer = TRUE`); n != 8 {
			t.Fatalf("%d customer messages, want 8", n)
		}
		if n := count(t, k, `SELECT COUNT(*) FROM tickets`); n != 2 {
			t.Fatalf("%d tickets, want 2", n)
		}
		if n := count(t, k, `SELECT COUNT(*) FROM customers WHERE name LIKE '微信客服用户 %'`); n != 2 {
			t.Fatalf("%d placeholders, want 2", n)
		}
	})
}
