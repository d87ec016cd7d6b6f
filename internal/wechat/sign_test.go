package wechat_test

import (
	"encoding/base64"
	"encoding/xml"
	"testing"

	"github.com/careloop/careloop/internal/wechat"
)

// The 公众平台's own example (its WXBizMsgCrypt sample: token spamtest,
// the documented EncodingAESKey, app id wx2c2769f8efd9abc2): the
// msg_signature it gives, and a message that opens to a text message.
func TestWeChatDocumentedExample(t *testing.T) {
	const (
		token     = "spamtest"
		appID     = "wx2c2769f8efd9abc2"
		timestamp = "1409735669"
		nonce     = "1320562132"
		msgSign   = "5d197aaffba7e9b25a30732f161a50dee96bd5fa"
		encrypted = "hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PGHQHFVAFmOD2LdJF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE="
	)
	if got := wechat.Signature(token, timestamp, nonce, encrypted); got != msgSign {
		t.Fatalf("msg_signature %s, want %s", got, msgSign)
	}
	key, _ := base64.StdEncoding.DecodeString("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG=")
	plain, err := wechat.Decrypt(key, appID, encrypted)
	if err != nil {
		t.Fatal(err)
	}
	var m wechat.Message
	if err := xml.Unmarshal(plain, &m); err != nil || m.MsgType != "text" || m.Content != "abcdteT" || m.MsgID != "6054768590064713728" || m.FromUserName != "oyORnuP8q7ou2gfYjqLzSIWZf0rs" {
		t.Fatalf("opened to %q (%+v): %v", plain, m, err)
	}
	if _, err := wechat.Decrypt(key, "wx0000000000000000", encrypted); err == nil {
		t.Fatal("opened for another app id")
	}
	// Encrypt and Decrypt are each other's inverse, for any length.
	for _, s := range []string{"", "x", "<xml>一条消息</xml>", string(make([]byte, 31)), string(make([]byte, 32))} {
		enc, err := wechat.Encrypt(key, appID, []byte(s))
		if err != nil {
			t.Fatal(err)
		}
		if got, err := wechat.Decrypt(key, appID, enc); err != nil || string(got) != s {
			t.Fatalf("round trip of %q: %q, %v", s, got, err)
		}
	}
}
