// Package wecomkf is the WeCom 微信客服 channel (customer service accounts
// of 企业微信): the accounts an administrator configures (a setting,
// secrets sealed with the server's key), the callback's checks
// (msg_signature, 5-minute timestamp window, nonce once; always AES
// encrypted, receiveid the corp id), the pull of kf/sync_msg in a River job
// (cursor advanced by compare-and-set, each msgid taken once), WeChat
// users' text messages taken in as tickets on channel wecom, and agents'
// replies out through the outbox (channel wecom_kf) within the platform's
// 48-hour, 5-message rule (docs/wecomkf.md). The web layer reads the
// request and hands over the query and the body; the crypto of the
// callback is internal/wechat's (WXBizMsgCrypt is one scheme).
package wecomkf
