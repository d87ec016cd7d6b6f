// Package sms is the outbox's text-message channel (notify.ChannelSMS):
// Aliyun SMS (Dysmsapi SendSms, RPC signature) and Tencent Cloud SMS
// (SendSms 2021-01-11, TC3-HMAC-SHA256), the administrator's configuration
// (keys sealed at rest, signature, templates per message kind), per-customer
// and per-day limits counted in the database, quiet hours and monthly costs.
// It knows no HTTP server; it is an HTTP client of the provider. See
// docs/sms.md.
package sms
