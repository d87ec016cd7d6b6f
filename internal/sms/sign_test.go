package sms

import (
	"encoding/json"
	"os"
	"testing"
)

type vectors struct {
	Aliyun []struct {
		Source, Secret, Method string
		Params                 map[string]string
		StringToSign           string `json:"string_to_sign"`
		Signature              string
	}
	Tencent []struct {
		Source           string
		SecretID         string `json:"secret_id"`
		SecretKey        string `json:"secret_key"`
		Service, Host    string
		ContentType      string `json:"content_type"`
		Timestamp        int64
		Payload          string
		CanonicalRequest string `json:"canonical_request"`
		StringToSign     string `json:"string_to_sign"`
		Signature        string
		Authorization    string
	}
}

// The providers' published examples (testdata/signatures.json names each
// page), byte for byte.
func TestSignaturesMatchTheProvidersDocumentedExamples(t *testing.T) {
	raw, err := os.ReadFile("testdata/signatures.json")
	if err != nil {
		t.Fatal(err)
	}
	var v vectors
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Aliyun) < 2 || len(v.Tencent) < 1 {
		t.Fatalf("vectors missing: %d aliyun, %d tencent", len(v.Aliyun), len(v.Tencent))
	}
	for _, a := range v.Aliyun {
		if got := AliyunStringToSign(a.Method, a.Params); got != a.StringToSign {
			t.Errorf("%s: string to sign\n got %s\nwant %s", a.Source, got, a.StringToSign)
		}
		if got := AliyunSignature(a.Method, a.Params, a.Secret); got != a.Signature {
			t.Errorf("%s: signature %s, want %s", a.Source, got, a.Signature)
		}
		// Signature itself is never part of what is signed.
		with := map[string]string{"Signature": "x"}
		for k, val := range a.Params {
			with[k] = val
		}
		if got := AliyunSignature(a.Method, with, a.Secret); got != a.Signature {
			t.Errorf("%s: a Signature parameter changed the signature", a.Source)
		}
	}
	for _, c := range v.Tencent {
		r := TC3{SecretID: c.SecretID, SecretKey: c.SecretKey, Service: c.Service, Host: c.Host,
			ContentType: c.ContentType, Timestamp: c.Timestamp, Payload: []byte(c.Payload)}
		if got := r.CanonicalRequest(); got != c.CanonicalRequest {
			t.Errorf("%s: canonical request\n got %q\nwant %q", c.Source, got, c.CanonicalRequest)
		}
		if got := r.StringToSign(); got != c.StringToSign {
			t.Errorf("%s: string to sign\n got %q\nwant %q", c.Source, got, c.StringToSign)
		}
		if got := r.Signature(); got != c.Signature {
			t.Errorf("%s: signature %s, want %s", c.Source, got, c.Signature)
		}
		if got := r.Authorization(); got != c.Authorization {
			t.Errorf("%s: authorization\n got %s\nwant %s", c.Source, got, c.Authorization)
		}
	}
}

func TestPercentEncodeFollowsAliyunsRules(t *testing.T) {
	for in, want := range map[string]string{"a b": "a%20b", "a*b": "a%2Ab", "~-_.": "~-_.", "/=&+": "%2F%3D%26%2B", "派": "%E6%B4%BE"} {
		if got := percentEncode(in); got != want {
			t.Errorf("percentEncode(%q) = %q, want %q", in, got, want)
		}
	}
}
