package bench

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/careloop/careloop/internal/loadgen"
	"github.com/careloop/careloop/internal/wechat"
)

// The floor of issue 13: 1,000 inbound WeChat messages a minute, the
// callback answering each within 50 ms at p99 (the platform retries an
// answer slower than 5 s, and a retry must not duplicate).
const (
	wechatInboundFloorPerMin = 1000
	wechatInboundP99FloorMS  = 50
	wechatBenchFollowers     = 300
	wechatBenchAccount       = "bench"
	wechatBenchToken         = "careloopbench2026"
	wechatBenchAESKey        = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
	wechatBenchAppID         = "wx0000000000bench"
)

// wechatInboundRates are the steps: the floor first, then higher until
// p99 passes the floor or a delivery fails.
var wechatInboundRates = []int{1000, 3000, 6000, 12000, 24000, 48000}

// WeChatStep is one rate of the run.
type WeChatStep struct {
	PerMinute int     `json:"per_minute"`
	Sent      int     `json:"sent"`
	Retries   int     `json:"retries"`
	Failures  int     `json:"failures"`
	P50MS     float64 `json:"p50_ms"`
	P99MS     float64 `json:"p99_ms"`
	MaxMS     float64 `json:"max_ms"`
	Met       bool    `json:"met"`
}

// WeChatVerify is what the database holds after the run, against what was
// acknowledged.
type WeChatVerify struct {
	MsgIDs    int  `json:"distinct_msg_ids"`
	Followers int  `json:"followers"`
	Inbound   int  `json:"wechat_inbound"`
	Tickets   int  `json:"tickets"`
	Messages  int  `json:"customer_messages"`
	Appended  int  `json:"appended"`
	OK        bool `json:"ok"`
}

// WeChatInboundResult is what wechat-inbound reports.
type WeChatInboundResult struct {
	Scenario     string       `json:"scenario"`
	Database     string       `json:"database"`
	Load         [2]string    `json:"load_average"`
	Steps        []WeChatStep `json:"steps"`
	MaxPerMinute int          `json:"max_per_minute_p99_within_floor"`
	Verify       WeChatVerify `json:"verify"`
	Missed       []string     `json:"missed,omitempty"`
}

// wechatFeed makes the platform's deliveries: signed, half plain and half
// 安全模式; 70 % from the 300 followers who have an open ticket, 30 % first
// messages of new followers, and 5 % exact retries of a MsgId already sent.
type wechatFeed struct {
	run  string
	key  []byte
	mu   sync.Mutex
	rng  *rand.Rand
	seq  int
	n    int // deliveries of the mix
	news int
	sent []string // bodies of messages sent, for retries
	// acknowledged MsgIds and followers, from the answers.
	msgIDs    map[string]bool
	followers map[string]bool
}

func newWeChatFeed() *wechatFeed {
	key, _ := base64.StdEncoding.DecodeString(wechatBenchAESKey + "=")
	return &wechatFeed{run: strconv.FormatInt(time.Now().UnixNano()%1_000_000_000, 36), key: key,
		rng: rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 13)), msgIDs: map[string]bool{}, followers: map[string]bool{}}
}

// delivery is one POST of the platform.
type delivery struct {
	path, body, msgID, openid string
	retry                     bool
}

func (f *wechatFeed) openid(i int) string { return fmt.Sprintf("oBench%s_%06d_follower", f.run, i) }

// first is follower i's first message (the warm-up gives each of the 300
// an open ticket).
func (f *wechatFeed) first(i int) delivery {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.make(f.openid(i))
}

// next is the next delivery of the mix.
func (f *wechatFeed) next() delivery {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	r := f.rng.Float64()
	switch {
	case f.n%20 == 0 && len(f.sent) > 0: // every 20th, 5 %
		parts := strings.SplitN(f.sent[f.rng.IntN(len(f.sent))], "\x00", 3)
		dd := f.sign(parts[0], parts[1], parts[2])
		dd.retry = true
		return dd
	case r < 0.30:
		f.news++
		return f.make(f.openid(wechatBenchFollowers + f.news))
	default:
		return f.make(f.openid(f.rng.IntN(wechatBenchFollowers)))
	}
}

// make is a new text message of openid.
func (f *wechatFeed) make(openid string) delivery {
	f.seq++
	msgID := f.run + strconv.Itoa(1_000_000+f.seq)
	xml := fmt.Sprintf(`<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><FromUserName><![CDATA[%s]]></FromUserName>`+
		`<CreateTime>%d</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[打印机开机黑屏，第 %d 条消息，请尽快处理]]></Content><MsgId>%s</MsgId></xml>`,
		openid, time.Now().Unix(), f.seq, msgID)
	f.sent = append(f.sent, openid+"\x00"+msgID+"\x00"+xml)
	return f.sign(openid, msgID, xml)
}

// sign signs a delivery as the platform does, with a fresh nonce (a nonce
// used twice is a replay); every other message is encrypted.
func (f *wechatFeed) sign(openid, msgID, xml string) delivery {
	f.seq++
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	nonce := f.run + "n" + strconv.Itoa(f.seq)
	q := url.Values{"timestamp": {ts}, "nonce": {nonce}, "signature": {wechat.Signature(wechatBenchToken, ts, nonce)}}
	body := xml
	if f.seq%4 < 2 {
		enc, err := wechat.Encrypt(f.key, wechatBenchAppID, []byte(xml))
		if err == nil {
			q.Set("encrypt_type", "aes")
			q.Set("msg_signature", wechat.Signature(wechatBenchToken, ts, nonce, enc))
			body = `<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><Encrypt><![CDATA[` + enc + `]]></Encrypt></xml>`
		}
	}
	return delivery{path: "/wechat/callback/" + wechatBenchAccount + "?" + q.Encode(), body: body, msgID: msgID, openid: openid}
}

// acknowledged records an answered delivery.
func (f *wechatFeed) acknowledged(d delivery) {
	f.mu.Lock()
	f.msgIDs[d.msgID], f.followers[d.openid] = true, true
	f.mu.Unlock()
}

// post sends d and says whether the platform would take the answer.
func post(c *http.Client, base string, d delivery) (time.Duration, error) {
	start := time.Now()
	resp, err := c.Post(base+d.path, "text/xml", strings.NewReader(d.body))
	if err != nil {
		return 0, err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	took := time.Since(start)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(b, []byte("success")) {
		return took, fmt.Errorf("%d %s", resp.StatusCode, b)
	}
	return took, nil
}

// step sends deliveries at perMinute for d, open loop (the platform does
// not wait for one answer before the next message), and measures.
func (f *wechatFeed) step(ctx context.Context, c *http.Client, base string, perMinute int, d time.Duration) (WeChatStep, []string) {
	st := WeChatStep{PerMinute: perMinute}
	h := loadgen.NewHistogram()
	var mu sync.Mutex
	var wg sync.WaitGroup
	var samples []string
	tick := time.NewTicker(time.Minute / time.Duration(perMinute))
	defer tick.Stop()
	end := time.After(d)
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-end:
			break loop
		case <-tick.C:
			dv := f.next()
			st.Sent++
			if dv.retry {
				st.Retries++
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				took, err := post(c, base, dv)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					st.Failures++
					if len(samples) < 5 {
						samples = append(samples, err.Error())
					}
					return
				}
				h.Record(took)
				f.acknowledged(dv)
			}()
		}
	}
	wg.Wait()
	st.P50MS = float64(h.Quantile(0.50).Microseconds()) / 1000
	st.P99MS = float64(h.Quantile(0.99).Microseconds()) / 1000
	st.MaxMS = float64(h.Max().Microseconds()) / 1000
	st.Met = st.Failures == 0 && st.P99MS <= wechatInboundP99FloorMS
	return st, samples
}

// newSecretKey is a server key for the scratch server (the account's
// secrets are sealed with it).
func newSecretKey() string {
	b := make([]byte, 32)
	_, _ = crand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}
