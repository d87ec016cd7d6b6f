package sms

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"sort"
	"strings"
	"time"
)

// percentEncode is Aliyun's POP encoding: RFC 3986 unreserved characters
// stay, everything else is %XX in upper case (a space is %20, never +; *
// is %2A; ~ stays).
func percentEncode(s string) string {
	e := url.QueryEscape(s)
	e = strings.ReplaceAll(e, "+", "%20")
	e = strings.ReplaceAll(e, "*", "%2A")
	return strings.ReplaceAll(e, "%7E", "~")
}

// aliyunCanonical is the sorted, encoded query string without Signature.
func aliyunCanonical(params map[string]string) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		if k != "Signature" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(percentEncode(k))
		b.WriteByte('=')
		b.WriteString(percentEncode(params[k]))
	}
	return b.String()
}

// AliyunStringToSign is METHOD&%2F&encode(canonical query).
func AliyunStringToSign(method string, params map[string]string) string {
	return method + "&" + percentEncode("/") + "&" + percentEncode(aliyunCanonical(params))
}

// AliyunSignature is Aliyun's RPC signature (SignatureVersion 1.0):
// base64(HMAC-SHA1(secret + "&", string to sign)).
func AliyunSignature(method string, params map[string]string, secret string) string {
	m := hmac.New(sha1.New, []byte(secret+"&"))
	m.Write([]byte(AliyunStringToSign(method, params)))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// TC3 is one request to sign with Tencent Cloud's TC3-HMAC-SHA256: a POST
// of a JSON body to "/" with the content-type and host headers signed.
type TC3 struct {
	SecretID, SecretKey string
	Service, Host       string
	ContentType         string // "application/json; charset=utf-8"
	Timestamp           int64  // seconds; its UTC date is the scope's date
	Payload             []byte
}

// CanonicalRequest is the first step of the signature.
func (r TC3) CanonicalRequest() string {
	h := sha256.Sum256(r.Payload)
	return "POST\n/\n\n" +
		"content-type:" + r.ContentType + "\nhost:" + r.Host + "\n\n" +
		"content-type;host\n" + hex.EncodeToString(h[:])
}

func (r TC3) date() string { return time.Unix(r.Timestamp, 0).UTC().Format("2006-01-02") }

func (r TC3) scope() string { return r.date() + "/" + r.Service + "/tc3_request" }

// StringToSign is the algorithm, the timestamp, the credential scope and the
// hash of the canonical request.
func (r TC3) StringToSign() string {
	h := sha256.Sum256([]byte(r.CanonicalRequest()))
	return "TC3-HMAC-SHA256\n" + itoa(r.Timestamp) + "\n" + r.scope() + "\n" + hex.EncodeToString(h[:])
}

func hmac256(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// Signature derives secretDate → secretService → secretSigning and signs.
func (r TC3) Signature() string {
	k := hmac256([]byte("TC3"+r.SecretKey), r.date())
	k = hmac256(k, r.Service)
	k = hmac256(k, "tc3_request")
	return hex.EncodeToString(hmac256(k, r.StringToSign()))
}

// Authorization is the header's value.
func (r TC3) Authorization() string {
	return "TC3-HMAC-SHA256 Credential=" + r.SecretID + "/" + r.scope() +
		", SignedHeaders=content-type;host, Signature=" + r.Signature()
}

func itoa(n int64) string {
	if n == 0 {
		return "0"
	}
	neg := n < 0
	if neg {
		n = -n
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}
