// Package reach picks the channel by which to reach a customer for a
// purpose (a reply, a notice, care, a survey): the customer's stated
// preference when it is allowed and configured, else the house rule
// (WeChat if bound, SMS to a mobile, email), never a channel the customer
// opted out of for outreach. It sits above customers and notify and below
// the domains that send (care, surveys); it sends nothing itself.
//
// docs/reach.md has the table of cases.
package reach
