package sms_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/sms"
	"github.com/careloop/careloop/internal/sms/smstest"
)

func client(t *testing.T, f *smstest.Fake, secret string) sms.Client {
	t.Helper()
	c, err := sms.NewClient(f.Provider, sms.Credentials{KeyID: f.KeyID, Secret: secret, Endpoint: f.URL(), SdkAppID: "1400006666"}, nil,
		func() time.Time { return time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC) })
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Each client against the loopback provider that recomputes its signature:
// accepted, a wrong secret refused for good, 500 and rate limits worth a
// retry, an unapproved template not, a hang ends at the caller's deadline.
func TestClientsAgainstTheLoopbackProviders(t *testing.T) {
	for _, p := range sms.Providers {
		t.Run(p, func(t *testing.T) {
			f := smstest.New(p, "LTAI5tKey", "s3cret")
			t.Cleanup(f.Close)
			c := client(t, f, "s3cret")
			msg := sms.Send{Phone: "+86 138-0013-8000", SignName: "凯尔路", Template: "SMS_100", OutID: "outbox-7",
				Vars: []sms.Var{{Name: "number", Value: "T-20261203-0001"}, {Name: "name", Value: "张三"}}}
			ctx := context.Background()
			id, err := c.Send(ctx, msg)
			if err != nil || id == "" {
				t.Fatalf("send: %q %v", id, err)
			}
			got := f.Accepted()
			wantPhone := map[string]string{sms.Aliyun: "13800138000", sms.Tencent: "+8613800138000"}[p]
			if len(got) != 1 || got[0].Phone != wantPhone || got[0].SignName != "凯尔路" || got[0].OutID != "outbox-7" || len(got[0].Vars) != 2 {
				t.Fatalf("accepted %+v", got)
			}
			if p == sms.Tencent && (got[0].Vars[0] != "T-20261203-0001" || got[0].Vars[1] != "张三") {
				t.Fatalf("tencent's parameters are positional: %v", got[0].Vars)
			}

			_, err = client(t, f, "wrong").Send(ctx, msg)
			var pe *sms.ProviderError
			if !errors.As(err, &pe) || pe.Retry || f.BadSignatures() != 1 {
				t.Fatalf("wrong secret: %v (bad signatures %d)", err, f.BadSignatures())
			}
			for mode, retry := range map[smstest.Mode]bool{smstest.Fail500: true, smstest.RateLimit: true, smstest.BadTemplate: false} {
				f.Then(mode)
				_, err := c.Send(ctx, msg)
				if !errors.As(err, &pe) || pe.Retry != retry {
					t.Fatalf("mode %d: %v, want retry=%v", mode, err, retry)
				}
			}
			f.Then(smstest.Hang)
			hctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
			defer cancel()
			if _, err := c.Send(hctx, msg); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("hang: %v", err)
			}
			if _, err := c.Send(ctx, sms.Send{Phone: "12345", SignName: "x", Template: "y"}); !errors.Is(err, sms.ErrBadPhone) {
				t.Fatalf("bad phone: %v", err)
			}
			if len(f.Accepted()) != 1 || f.Duplicates() != 0 {
				t.Fatalf("accepted %d, duplicates %d", len(f.Accepted()), f.Duplicates())
			}
		})
	}
}

// Phones as customers' records hold them, as each provider wants them.
func TestPhonesAreWrittenTheProvidersWay(t *testing.T) {
	for _, c := range []struct{ in, aliyun, tencent string }{
		{"13800138000", "13800138000", "+8613800138000"},
		{"+86 138 0013 8000", "13800138000", "+8613800138000"},
		{"0086-13800138000", "13800138000", "+8613800138000"},
		{"+852 6123 4567", "85261234567", "+85261234567"},
	} {
		for p, want := range map[string]string{sms.Aliyun: c.aliyun, sms.Tencent: c.tencent} {
			f := smstest.New(p, "k", "s")
			if _, err := client(t, f, "s").Send(context.Background(), sms.Send{Phone: c.in, SignName: "凯尔路", Template: "1"}); err != nil {
				t.Fatalf("%s %q: %v", p, c.in, err)
			}
			if got := f.Accepted(); len(got) != 1 || got[0].Phone != want {
				t.Errorf("%s %q: sent as %+v, want %s", p, c.in, got, want)
			}
			f.Close()
		}
	}
	for _, bad := range []string{"12345", "138001380001", "+86 23800138000", "1380013800a", "+1"} {
		f := smstest.New(sms.Aliyun, "k", "s")
		if _, err := client(t, f, "s").Send(context.Background(), sms.Send{Phone: bad, SignName: "x", Template: "1"}); !errors.Is(err, sms.ErrBadPhone) {
			t.Errorf("%q: %v", bad, err)
		}
		f.Close()
	}
}
