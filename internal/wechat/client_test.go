package wechat_test

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/clock"
	"github.com/careloop/careloop/internal/wechat"
	"github.com/careloop/careloop/internal/wechat/wechattest"
)

// The client against the fake platform: one token for concurrent
// callers, a wrong secret refused, media read with the platform's headers.
func TestWeChatClient(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 12, 3, 2, 0, 0, 0, time.UTC))
	fake := wechattest.New(appID, appSecret, clk.Now)
	defer fake.Close()
	c := wechat.NewClient(clk.Now, true)
	cr := wechat.Credentials{Base: fake.URL, AppID: appID, Secret: appSecret}
	ctx := context.Background()
	var wg sync.WaitGroup
	toks := make([]string, 8)
	for i := range toks {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			toks[i], _ = c.Token(ctx, cr, "")
		}(i)
	}
	wg.Wait()
	for _, tk := range toks {
		if tk == "" || tk != toks[0] {
			t.Fatalf("tokens %q", toks)
		}
	}
	if n := fake.TokenCalls(); n != 1 {
		t.Fatalf("%d token fetches for 8 concurrent callers", n)
	}
	var ae *wechat.APIError
	if _, err := c.Token(ctx, wechat.Credentials{Base: fake.URL, AppID: appID, Secret: "wrong"}, ""); !errors.As(err, &ae) || ae.Code != wechat.CodeBadSecret {
		t.Fatalf("wrong secret: %v", err)
	}
	jpeg := append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, bytes.Repeat([]byte{7}, 1000)...)
	fake.AddMedia("MEDIA_1", wechattest.File{ContentType: "image/jpeg", Name: "MEDIA_1.jpg", Data: jpeg})
	m, err := c.GetMedia(ctx, cr, "MEDIA_1", 1<<20)
	if err != nil || m.ContentType != "image/jpeg" || m.Filename != "MEDIA_1.jpg" || !bytes.Equal(m.Data, jpeg) {
		t.Fatalf("media: %+v %v", m.Filename, err)
	}
	if _, err := c.GetMedia(ctx, cr, "MEDIA_1", 100); !errors.Is(err, wechat.ErrMediaTooLarge) {
		t.Fatalf("over the limit: %v", err)
	}
	if _, err := c.GetMedia(ctx, cr, "NOPE", 1<<20); !errors.As(err, &ae) || ae.Code != 40007 {
		t.Fatalf("unknown media: %v", err)
	}
	// The token expired on the platform's clock: refreshed once, retried.
	fake.Revoke()
	if _, err := c.GetMedia(ctx, cr, "MEDIA_1", 1<<20); err != nil || fake.TokenCalls() != 2 {
		t.Fatalf("after revocation: %v, %d fetches", err, fake.TokenCalls())
	}
}
