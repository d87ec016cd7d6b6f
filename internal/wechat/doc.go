// Package wechat is the WeChat Official Account (公众号) channel: the
// accounts an administrator configures (a setting, secrets sealed with the
// server's key), the callback's checks (signature, 5-minute timestamp
// window, nonce once, the message once per MsgId; plain and 安全模式 AES
// messages) and followers' text messages taken in as tickets on channel
// wechat (docs/wechat.md). It never imports net/http: the web layer reads
// the request and hands over the query and the body.
package wechat
