// Package robots is the group robots of DingTalk (自定义机器人, signed-URL
// mode) and WeCom (群机器人): team alerts in the group chat staff already
// watch — a new major complaint, SLA warnings and breaches, unassigned
// tickets piling up (docs/robots.md).
//
// Invariants:
//   - A robot message is an outbox row on the channel "robot" (notify's
//     one way out), enqueued in the transaction of the notice that causes
//     it; its dedupe key is the notice's source key plus the robot, so a
//     notice told to three people is one message in the group.
//   - The webhook's token and DingTalk's signing secret are sealed at rest
//     (the server's secret key) and never returned: the API says only
//     token_set and secret_set.
//   - A webhook goes to the provider's own host, or to an endpoint base the
//     administrator set; no robot reaches a loopback, private or
//     link-local address (checked when it is set and again at each dial,
//     after DNS) unless the server allows private targets.
package robots
