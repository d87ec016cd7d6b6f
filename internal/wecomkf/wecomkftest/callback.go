package wecomkftest

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/careloop/careloop/internal/wechat"
)

// Callback is WeCom's side of an account's callback URL: it signs and
// encrypts as the WXBizMsgCrypt library does (msg_signature = SHA-1 of the
// sorted token, timestamp, nonce and Encrypt; AES-256-CBC with receiveid
// the corp id) and posts over real HTTP.
type Callback struct {
	URL    string // the callback URL, …/wecom/kf/callback/{account}
	Token  string
	AESKey string // the 43-character EncodingAESKey
	CorpID string
	Now    func() time.Time
}

// nonces numbers the nonces of every Callback (copies of one included),
// so none repeats within a test binary.
var nonces atomic.Int64

// Nonce is a fresh nonce.
func (c *Callback) Nonce() string { return fmt.Sprintf("kf%08d", nonces.Add(1)) }

func (c *Callback) key() []byte {
	k, err := base64.StdEncoding.DecodeString(c.AESKey + "=")
	if err != nil {
		panic(err)
	}
	return k
}

// Encrypt encrypts plain as WeCom does for this corp.
func (c *Callback) Encrypt(plain string) string {
	enc, err := wechat.Encrypt(c.key(), c.CorpID, []byte(plain))
	if err != nil {
		panic(err)
	}
	return enc
}

// Query is a signed query for the encrypted part enc at ts with nonce.
func (c *Callback) Query(ts int64, nonce, enc string) url.Values {
	t := strconv.FormatInt(ts, 10)
	return url.Values{"msg_signature": {wechat.Signature(c.Token, t, nonce, enc)}, "timestamp": {t}, "nonce": {nonce}}
}

// VerifyURL is the admin console's check of the URL: GET with an
// encrypted echostr.
func (c *Callback) VerifyURL(echo string) (*http.Response, error) {
	enc := c.Encrypt(echo)
	q := c.Query(c.Now().Unix(), c.Nonce(), enc)
	q.Set("echostr", enc)
	return http.Get(c.URL + "?" + q.Encode())
}

// EventXML is the decrypted kf_msg_or_event.
func (c *Callback) EventXML(openKfID, token string) string {
	return fmt.Sprintf(`<xml><ToUserName><![CDATA[%s]]></ToUserName><CreateTime>%d</CreateTime><MsgType><![CDATA[event]]></MsgType>`+
		`<Event><![CDATA[kf_msg_or_event]]></Event><Token><![CDATA[%s]]></Token><OpenKfId><![CDATA[%s]]></OpenKfId></xml>`,
		c.CorpID, c.Now().Unix(), token, openKfID)
}

// Envelope is the posted body around enc.
func (c *Callback) Envelope(enc string) string {
	return fmt.Sprintf(`<xml><ToUserName><![CDATA[%s]]></ToUserName><AgentID><![CDATA[]]></AgentID><Encrypt><![CDATA[%s]]></Encrypt></xml>`,
		c.CorpID, enc)
}

// Post posts body with query q.
func (c *Callback) Post(q url.Values, body string) (*http.Response, error) {
	return http.Post(c.URL+"?"+q.Encode(), "text/xml", strings.NewReader(body))
}

// Notify posts kf_msg_or_event for the 客服账号, signed, now, with a fresh
// nonce.
func (c *Callback) Notify(openKfID, token string) (*http.Response, error) {
	enc := c.Encrypt(c.EventXML(openKfID, token))
	return c.Post(c.Query(c.Now().Unix(), c.Nonce(), enc), c.Envelope(enc))
}
