package sms

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// TencentEndpoint is SMS's public endpoint (API 2021-01-11).
const TencentEndpoint = "https://sms.tencentcloudapi.com/"

type tencentClient struct {
	cred Credentials
	http *http.Client
	now  func() time.Time
}

// TencentBody is SendSms's JSON body.
type TencentBody struct {
	PhoneNumberSet   []string
	SmsSdkAppId      string
	SignName         string
	TemplateId       string
	TemplateParamSet []string
	SessionContext   string `json:",omitempty"`
}

// TencentReply is SendSms's answer, success or error.
type TencentReply struct {
	Response struct {
		SendStatusSet []struct {
			SerialNo, PhoneNumber, SessionContext, Code, Message, IsoCode string
			Fee                                                           int
		}
		Error     *struct{ Code, Message string } `json:",omitempty"`
		RequestId string
	}
}

// tencentRetry are Tencent's codes a later try can pass: frequency and
// daily limits, request limits, its internal errors.
func tencentRetry(code string) bool {
	return strings.HasPrefix(code, "LimitExceeded") || strings.HasPrefix(code, "RequestLimitExceeded") ||
		strings.HasPrefix(code, "InternalError") || code == "ResourceUnavailable"
}

func (c *tencentClient) Send(ctx context.Context, s Send) (string, error) {
	cc, nat, err := splitPhone(s.Phone)
	if err != nil {
		return "", err
	}
	if cc == "86" {
		cc = "+86"
	}
	params := make([]string, len(s.Vars))
	for i, v := range s.Vars {
		params[i] = v.Value
	}
	body, err := json.Marshal(TencentBody{PhoneNumberSet: []string{cc + nat}, SmsSdkAppId: c.cred.SdkAppID, SignName: s.SignName,
		TemplateId: s.Template, TemplateParamSet: params, SessionContext: s.OutID})
	if err != nil {
		return "", err
	}
	ep := c.cred.Endpoint
	if ep == "" {
		ep = TencentEndpoint
	}
	u, err := url.Parse(ep)
	if err != nil {
		return "", fmt.Errorf("tencent: endpoint: %w", err)
	}
	region := c.cred.Region
	if region == "" {
		region = "ap-guangzhou"
	}
	ts := c.now().Unix()
	sig := TC3{SecretID: c.cred.KeyID, SecretKey: c.cred.Secret, Service: "sms", Host: u.Host,
		ContentType: "application/json; charset=utf-8", Timestamp: ts, Payload: body}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep, bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("tencent: %w", err)
	}
	req.Header.Set("Content-Type", sig.ContentType)
	req.Header.Set("X-TC-Action", "SendSms")
	req.Header.Set("X-TC-Version", "2021-01-11")
	req.Header.Set("X-TC-Timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("X-TC-Region", region)
	req.Header.Set("Authorization", sig.Authorization())
	res, err := c.http.Do(req)
	if err != nil {
		return "", fmt.Errorf("tencent: %w", err)
	}
	defer res.Body.Close()
	raw := readBody(res.Body)
	var out TencentReply
	if err := json.Unmarshal(raw, &out); err != nil || (out.Response.Error == nil && len(out.Response.SendStatusSet) == 0) {
		return "", &ProviderError{Provider: Tencent, Status: res.StatusCode, Message: shortText(raw),
			Retry: res.StatusCode >= 500 || res.StatusCode == http.StatusTooManyRequests || res.StatusCode < 400}
	}
	if e := out.Response.Error; e != nil {
		return "", &ProviderError{Provider: Tencent, Code: e.Code, Message: e.Message, Status: res.StatusCode, Retry: tencentRetry(e.Code)}
	}
	st := out.Response.SendStatusSet[0]
	if st.Code != "Ok" {
		return "", &ProviderError{Provider: Tencent, Code: st.Code, Message: st.Message, Status: res.StatusCode, Retry: tencentRetry(st.Code)}
	}
	return st.SerialNo, nil
}
