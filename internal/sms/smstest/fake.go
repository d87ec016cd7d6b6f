// Package smstest is a loopback SMS provider for tests and benchmarks: it
// speaks Aliyun's or Tencent Cloud's wire format, recomputes each request's
// signature the way the provider does and refuses a wrong one, and answers
// as scripted: success, HTTP 500, a rate limit, a permanent refusal, or no
// answer at all (hang). It counts what it accepted by the sender's id and by
// phone + content, so a test can tell that nothing was sent twice.
package smstest

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"

	"github.com/careloop/careloop/internal/sms"
)

// Mode is how the fake answers one request.
type Mode int

const (
	OK          Mode = iota // accepted
	Fail500                 // HTTP 500 with a gateway's page
	RateLimit               // Aliyun isv.BUSINESS_LIMIT_CONTROL / Tencent LimitExceeded.PhoneNumberDailyLimit
	BadTemplate             // Aliyun isv.SMS_TEMPLATE_ILLEGAL / Tencent FailedOperation.TemplateIncorrectOrUnapproved
	Hang                    // never answers (until the caller gives up)
)

// Received is one accepted message.
type Received struct {
	Phone, SignName, Template, OutID string
	Vars                             []string // values in order (Aliyun: sorted by name)
}

// Fake is the provider.
type Fake struct {
	Provider, KeyID, Secret string
	Server                  *httptest.Server

	mu       sync.Mutex
	mode     Mode
	next     []Mode
	accepted []Received
	byOutID  map[string]int
	byText   map[string]int
	requests int
	badSigs  int
	hang     chan struct{}
}

// New starts a fake of provider ("aliyun" or "tencent") that accepts the
// key id and secret given; Close it when done (t.Cleanup).
func New(provider, keyID, secret string) *Fake {
	f := &Fake{Provider: provider, KeyID: keyID, Secret: secret, byOutID: map[string]int{}, byText: map[string]int{}, hang: make(chan struct{})}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	return f
}

// URL is the endpoint to configure.
func (f *Fake) URL() string { return f.Server.URL + "/" }

// Close releases hanging requests and stops the server.
func (f *Fake) Close() {
	f.mu.Lock()
	select {
	case <-f.hang:
	default:
		close(f.hang)
	}
	f.mu.Unlock()
	f.Server.Close()
}

// SetMode sets how every later request is answered.
func (f *Fake) SetMode(m Mode) { f.mu.Lock(); f.mode = m; f.mu.Unlock() }

// Then queues answers for the next requests, before the mode applies again.
func (f *Fake) Then(ms ...Mode) { f.mu.Lock(); f.next = append(f.next, ms...); f.mu.Unlock() }

// Accepted returns the accepted messages in order.
func (f *Fake) Accepted() []Received {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Received(nil), f.accepted...)
}

// Requests counts every request, answered or not.
func (f *Fake) Requests() int { f.mu.Lock(); defer f.mu.Unlock(); return f.requests }

// BadSignatures counts the requests refused for their signature.
func (f *Fake) BadSignatures() int { f.mu.Lock(); defer f.mu.Unlock(); return f.badSigs }

// Duplicates counts the accepted messages that repeat an earlier one: by the
// sender's id, or by phone and content when no id was sent.
func (f *Fake) Duplicates() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.byOutID {
		n += c - 1
	}
	for _, c := range f.byText {
		n += c - 1
	}
	return n
}

func (f *Fake) take() Mode {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests++
	if len(f.next) > 0 {
		m := f.next[0]
		f.next = f.next[1:]
		return m
	}
	return f.mode
}

func (f *Fake) accept(r Received) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.accepted = append(f.accepted, r)
	if r.OutID != "" {
		f.byOutID[r.OutID]++
	} else {
		f.byText[fmt.Sprint(r.Phone, r.Template, r.Vars)]++
	}
}

func (f *Fake) serve(w http.ResponseWriter, r *http.Request) {
	mode := f.take()
	switch mode {
	case Hang:
		select {
		case <-r.Context().Done():
		case <-f.hang:
		}
		return
	case Fail500:
		http.Error(w, "<html>502 Bad Gateway</html>", http.StatusInternalServerError)
		return
	}
	if f.Provider == sms.Tencent {
		f.tencent(w, r, mode)
	} else {
		f.aliyun(w, r, mode)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// aliyun checks the query as Dysmsapi does: the parameters it needs, then
// the signature recomputed over everything but Signature.
func (f *Fake) aliyun(w http.ResponseWriter, r *http.Request, mode Mode) {
	q := r.URL.Query()
	p := map[string]string{}
	for k, v := range q {
		p[k] = v[0]
	}
	fail := func(status int, code, msg string) {
		writeJSON(w, status, map[string]string{"Code": code, "Message": msg, "RequestId": "fake"})
	}
	for _, k := range []string{"AccessKeyId", "SignatureNonce", "Timestamp", "PhoneNumbers", "SignName", "TemplateCode"} {
		if p[k] == "" {
			fail(400, "MissingParameter", k)
			return
		}
	}
	if p["Action"] != "SendSms" || p["Version"] != "2017-05-25" || p["SignatureMethod"] != "HMAC-SHA1" || p["SignatureVersion"] != "1.0" || p["Format"] != "JSON" {
		fail(400, "InvalidParameter", "action, version, format or signature method")
		return
	}
	if p["AccessKeyId"] != f.KeyID {
		fail(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
		return
	}
	if sms.AliyunSignature(r.Method, p, f.Secret) != p["Signature"] {
		f.mu.Lock()
		f.badSigs++
		f.mu.Unlock()
		fail(400, "SignatureDoesNotMatch", "Specified signature is not matched with our calculation.")
		return
	}
	switch mode {
	case RateLimit:
		fail(200, "isv.BUSINESS_LIMIT_CONTROL", "触发分钟级流控Permits:1")
		return
	case BadTemplate:
		fail(200, "isv.SMS_TEMPLATE_ILLEGAL", "该账号下找不到对应模板")
		return
	}
	var vars map[string]string
	if err := json.Unmarshal([]byte(p["TemplateParam"]), &vars); err != nil {
		fail(200, "isv.INVALID_JSON_PARAM", "JSON参数不合法")
		return
	}
	rec := Received{Phone: p["PhoneNumbers"], SignName: p["SignName"], Template: p["TemplateCode"], OutID: p["OutId"]}
	for _, k := range slices.Sorted(maps.Keys(vars)) {
		rec.Vars = append(rec.Vars, vars[k])
	}
	f.accept(rec)
	writeJSON(w, 200, map[string]string{"Code": "OK", "Message": "OK", "BizId": "900619746936498440^" + strconv.Itoa(f.Requests()), "RequestId": "fake"})
}

// tencent checks the request as the API 3.0 gateway does: action, version,
// then the TC3 signature recomputed from the body, the host and timestamp.
func (f *Fake) tencent(w http.ResponseWriter, r *http.Request, mode Mode) {
	fail := func(code, msg string) {
		writeJSON(w, 200, map[string]any{"Response": map[string]any{"Error": map[string]string{"Code": code, "Message": msg}, "RequestId": "fake"}})
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if r.Method != http.MethodPost || r.Header.Get("X-TC-Action") != "SendSms" || r.Header.Get("X-TC-Version") != "2021-01-11" || r.Header.Get("X-TC-Region") == "" {
		fail("InvalidParameter", "action, version or region")
		return
	}
	ts, err := strconv.ParseInt(r.Header.Get("X-TC-Timestamp"), 10, 64)
	if err != nil {
		fail("MissingParameter", "X-TC-Timestamp")
		return
	}
	want := sms.TC3{SecretID: f.KeyID, SecretKey: f.Secret, Service: "sms", Host: r.Host, ContentType: r.Header.Get("Content-Type"),
		Timestamp: ts, Payload: body}.Authorization()
	if r.Header.Get("Authorization") != want {
		f.mu.Lock()
		f.badSigs++
		f.mu.Unlock()
		fail("AuthFailure.SignatureFailure", "The provided credentials could not be validated.")
		return
	}
	var b sms.TencentBody
	if err := json.Unmarshal(body, &b); err != nil || len(b.PhoneNumberSet) != 1 || b.SmsSdkAppId == "" {
		fail("InvalidParameterValue.IncorrectPhoneNumber", "body")
		return
	}
	status := func(code, msg string) {
		writeJSON(w, 200, map[string]any{"Response": map[string]any{"RequestId": "fake", "SendStatusSet": []map[string]any{{
			"SerialNo": "2028:" + strconv.Itoa(f.Requests()), "PhoneNumber": b.PhoneNumberSet[0], "Fee": 1,
			"SessionContext": b.SessionContext, "Code": code, "Message": msg, "IsoCode": "CN"}}}})
	}
	switch mode {
	case RateLimit:
		status("LimitExceeded.PhoneNumberThirtySecondLimit", "the number of sms messages sent from a single mobile number within 30 seconds exceeds the upper limit")
		return
	case BadTemplate:
		fail("FailedOperation.TemplateIncorrectOrUnapproved", "template is not approved or not exist")
		return
	}
	f.accept(Received{Phone: b.PhoneNumberSet[0], SignName: b.SignName, Template: b.TemplateId, OutID: b.SessionContext, Vars: b.TemplateParamSet})
	status("Ok", "send success")
}
