package sms

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// AliyunEndpoint is Dysmsapi's public endpoint.
const AliyunEndpoint = "https://dysmsapi.aliyuncs.com/"

type aliyunClient struct {
	cred Credentials
	http *http.Client
	now  func() time.Time
}

// aliyunRetry are Aliyun's codes that a later try can pass: flow control
// (per phone per minute/hour/day, per account), throttling, its own faults.
func aliyunRetry(code string) bool {
	switch {
	case code == "isv.BUSINESS_LIMIT_CONTROL", code == "isv.DAY_LIMIT_CONTROL", code == "isp.SYSTEM_ERROR",
		strings.HasPrefix(code, "Throttling"), code == "ServiceUnavailable", code == "InternalError":
		return true
	}
	return false
}

// AliyunParams are the signed query of a SendSms request (without the
// Signature), exported for the fake provider and the docs' examples.
func AliyunParams(c Credentials, s Send, phone, nonce string, at time.Time) (map[string]string, error) {
	vars := map[string]string{}
	for _, v := range s.Vars {
		vars[v.Name] = v.Value
	}
	tp, err := json.Marshal(vars)
	if err != nil {
		return nil, err
	}
	region := c.Region
	if region == "" {
		region = "cn-hangzhou"
	}
	p := map[string]string{
		"AccessKeyId": c.KeyID, "Action": "SendSms", "Format": "JSON", "RegionId": region,
		"SignatureMethod": "HMAC-SHA1", "SignatureNonce": nonce, "SignatureVersion": "1.0",
		"Timestamp": at.UTC().Format("2006-01-02T15:04:05Z"), "Version": "2017-05-25",
		"PhoneNumbers": phone, "SignName": s.SignName, "TemplateCode": s.Template, "TemplateParam": string(tp),
	}
	if s.OutID != "" {
		p["OutId"] = s.OutID
	}
	return p, nil
}

func (c *aliyunClient) Send(ctx context.Context, s Send) (string, error) {
	_, nat, err := splitPhone(s.Phone)
	if err != nil {
		return "", err
	}
	// Aliyun takes mainland numbers as 11 digits and others as country
	// code + number, without + or 00 (splitPhone keeps the code in nat).
	phone := nat
	var nb [16]byte
	_, _ = rand.Read(nb[:])
	p, err := AliyunParams(c.cred, s, phone, hex.EncodeToString(nb[:]), c.now())
	if err != nil {
		return "", err
	}
	p["Signature"] = AliyunSignature(http.MethodGet, p, c.cred.Secret)
	q := url.Values{}
	for k, v := range p {
		q.Set(k, v)
	}
	ep := c.cred.Endpoint
	if ep == "" {
		ep = AliyunEndpoint
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ep+"?"+q.Encode(), nil)
	if err != nil {
		return "", fmt.Errorf("aliyun: %w", err)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return "", fmt.Errorf("aliyun: %w", err)
	}
	defer res.Body.Close()
	body := readBody(res.Body)
	var out struct{ Code, Message, BizId, RequestId string }
	if err := json.Unmarshal(body, &out); err != nil || out.Code == "" {
		// Not Aliyun's JSON: a gateway's error page. 5xx and 429 pass.
		return "", &ProviderError{Provider: Aliyun, Status: res.StatusCode, Message: shortText(body),
			Retry: res.StatusCode >= 500 || res.StatusCode == http.StatusTooManyRequests || res.StatusCode < 400}
	}
	if out.Code != "OK" {
		return "", &ProviderError{Provider: Aliyun, Code: out.Code, Message: out.Message, Status: res.StatusCode,
			Retry: aliyunRetry(out.Code) || res.StatusCode >= 500}
	}
	return out.BizId, nil
}
