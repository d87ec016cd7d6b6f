package email

import (
	"regexp"
	"strings"
	"sync"

	"github.com/microcosm-cc/bluemonday"
)

var (
	policyOnce sync.Once
	policy     *bluemonday.Policy
	// remoteImgRE finds the src of an image that would load from elsewhere
	// (a tracking pixel tells the sender the mail was opened).
	remoteImgRE = regexp.MustCompile(`(?i)(<img\b[^>]*?)\ssrc="(https?:)?//([^"]*)"`)
)

func mailPolicy() *bluemonday.Policy {
	policyOnce.Do(func() {
		p := bluemonday.UGCPolicy()
		// No scripts, styles, forms, frames or event handlers (the UGC
		// policy allows none); links open apart and tell nothing.
		p.RequireNoReferrerOnLinks(true)
		p.AddTargetBlankToFullyQualifiedLinks(true)
		p.AllowAttrs("data-src").OnElements("img")
		p.AllowAttrs("class").Matching(regexp.MustCompile(`^remote-image$`)).OnElements("img")
		policy = p
	})
	return policy
}

// SanitizeHTML makes a mail's HTML safe to show on a ticket: no scripts,
// styles, forms, frames or event handlers, and no remote image loaded
// until the agent asks (its address kept in data-src, which the ticket
// page's own script swaps in on a click).
func SanitizeHTML(h string) string {
	clean := mailPolicy().Sanitize(h)
	return remoteImgRE.ReplaceAllStringFunc(clean, func(tag string) string {
		m := remoteImgRE.FindStringSubmatch(tag)
		scheme := m[2]
		if scheme == "" {
			scheme = "https:"
		}
		return m[1] + ` class="remote-image" data-src="` + scheme + `//` + m[3] + `"`
	})
}

// HasRemoteImages tells whether sanitised HTML holds images held back.
func HasRemoteImages(clean string) bool { return strings.Contains(clean, `class="remote-image"`) }
