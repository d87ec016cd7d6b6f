package browser

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// step runs f with the tab's timeout and fails the test on error, naming the
// step and the current page.
func (b *Browser) step(name string, f func(ctx context.Context) error) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, b.timeout)
	defer cancel()
	if err := f(ctx); err != nil {
		b.fail(name, err)
	}
}

// fail saves a screenshot of the page, then fails the test with the step,
// the page, the error and the page errors seen so far.
func (b *Browser) fail(name string, err error) {
	b.t.Helper()
	if errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("timed out after %v: %w", b.timeout, err)
	}
	msg := fmt.Sprintf("browser: %s on %s: %v", name, b.currentURL(), err)
	if !b.failing && b.ctx.Err() == nil {
		b.failing = true // a failing screenshot must not recurse
		if path, serr := b.saveScreenshot("failure", 5*time.Second); serr == nil {
			msg += "\n  screenshot: " + path
		}
	}
	if errs := b.JSErrors(); len(errs) > 0 {
		msg += "\n  page errors:\n    " + strings.Join(errs, "\n    ")
	}
	b.t.Fatal(msg)
}

// Visit loads url and waits for its load event. An HTTP error status is not
// a failure; use VisitStatus to check it.
func (b *Browser) Visit(url string) {
	b.t.Helper()
	b.VisitStatus(url)
}

// VisitStatus is Visit, and returns the HTTP status of the document (0 when
// the browser reports none, as for about: pages).
func (b *Browser) VisitStatus(url string) int {
	b.t.Helper()
	var status int
	b.step("visit "+url, func(ctx context.Context) error {
		resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(url))
		if err != nil || resp == nil {
			return err
		}
		status = int(resp.Status)
		b.update(func() { b.url = resp.URL })
		return nil
	})
	return status
}

// SetViewport emulates a viewport of w×h CSS pixels (375×667 for a phone
// check); screenshots are then w pixels wide.
func (b *Browser) SetViewport(w, h int) {
	b.t.Helper()
	b.step(fmt.Sprintf("set viewport %dx%d", w, h), func(ctx context.Context) error {
		return chromedp.Do(ctx, chromedp.EmulateViewport(int64(w), int64(h)))
	})
	b.width, b.height = int64(w), int64(h)
}

// SetPhone emulates a phone of w×h CSS pixels: a mobile viewport (the page's
// <meta name="viewport"> applies) with touch events. Screenshots of a page
// with width=device-width are then w pixels wide; a page without that tag
// lays out 980 px wide, as on a real phone, and its full-page screenshot
// shows that.
func (b *Browser) SetPhone(w, h int) {
	b.t.Helper()
	b.step(fmt.Sprintf("set phone %dx%d", w, h), func(ctx context.Context) error {
		return chromedp.Do(ctx, chromedp.EmulateViewport(int64(w), int64(h), chromedp.EmulateMobile, chromedp.EmulateTouch))
	})
	b.width, b.height = int64(w), int64(h)
}

// SetLanguage makes every later request send "Accept-Language: lang" (for
// example "en", "de" or "zh-CN,zh;q=0.9").
func (b *Browser) SetLanguage(lang string) {
	b.t.Helper()
	b.SetHeader("Accept-Language", lang)
}

// SetHeader adds a header to every later request of the tab; an empty value
// removes it.
func (b *Browser) SetHeader(name, value string) {
	b.t.Helper()
	if value == "" {
		delete(b.headers, name)
	} else {
		b.headers[name] = value
	}
	h := network.Headers{}
	for k, v := range b.headers {
		h[k] = v
	}
	b.step("set header "+name, func(ctx context.Context) error {
		_, err := chromedp.Call(ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: h})
		return err
	})
}

// WaitVisible waits until the first element that matches the CSS selector
// is visible.
func (b *Browser) WaitVisible(selector string) {
	b.t.Helper()
	b.step("wait visible "+selector, func(ctx context.Context) error {
		return chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(selector)))
	})
}

// WaitGone waits until no element matches the CSS selector.
func (b *Browser) WaitGone(selector string) {
	b.t.Helper()
	b.step("wait gone "+selector, func(ctx context.Context) error {
		return chromedp.Do(ctx, chromedp.WaitNotPresent(chromedp.CSS(selector)))
	})
}

// Exists reports whether an element matches the CSS selector now, without
// waiting.
func (b *Browser) Exists(selector string) bool {
	b.t.Helper()
	var ok bool
	b.step("exists "+selector, func(ctx context.Context) error {
		var err error
		ok, err = chromedp.Run(ctx, chromedp.Evaluate[bool](
			"document.querySelector("+jsString(selector)+") !== null"))
		return err
	})
	return ok
}

// Click waits for the element to be visible and clicks its center. When the
// click starts a page load, Click waits for the load to finish.
func (b *Browser) Click(selector string) {
	b.t.Helper()
	b.step("click "+selector, func(ctx context.Context) error {
		before := b.loads()
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(selector))); err != nil {
			return err
		}
		return b.waitNavigation(ctx, before)
	})
}

// fillJS focuses the element and empties it, or for a <select> picks the
// option with the value; it returns "typed" when keys must follow.
const fillJS = `(function(sel, value) {
	const el = document.querySelector(sel);
	if (!el) throw new Error("no element matches " + sel);
	el.focus();
	if (el.tagName === "SELECT") {
		if (![...el.options].some(o => o.value === value)) throw new Error("no option with value " + JSON.stringify(value));
		el.value = value;
		el.dispatchEvent(new Event("input", {bubbles: true}));
		el.dispatchEvent(new Event("change", {bubbles: true}));
		return "selected";
	}
	if (el.isContentEditable) { el.textContent = ""; return "typed"; }
	if (!("value" in el)) throw new Error(sel + " is a <" + el.tagName.toLowerCase() + ">, which takes no value");
	el.value = "";
	el.dispatchEvent(new Event("input", {bubbles: true}));
	return "typed";
})(%s, %s)`

// Fill replaces the value of an input, a textarea, a contenteditable element
// or a <select> (by option value). Text is typed key by key, so the page
// sees the same events as from a person.
func (b *Browser) Fill(selector, value string) {
	b.t.Helper()
	b.step("fill "+selector, func(ctx context.Context) error {
		if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(selector))); err != nil {
			return err
		}
		how, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(fillJS, jsString(selector), jsString(value))))
		if err != nil || how != "typed" || value == "" {
			return err
		}
		return chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS(selector), value))
	})
}

const submitJS = `(function(sel) {
	const el = document.querySelector(sel);
	if (!el) throw new Error("no element matches " + sel);
	const form = el.tagName === "FORM" ? el : (el.form || el.closest("form"));
	if (!form) throw new Error(sel + " is not in a form");
	const submitter = (el !== form && el.type === "submit") ? el : undefined;
	form.requestSubmit(submitter);
})(%s)`

// Submit submits the form that the selector names, or that contains the
// element (a submit button is used as the submitter), as a person pressing
// Enter would: validation and submit handlers run. When the submission
// starts a page load, Submit waits for it to finish.
func (b *Browser) Submit(selector string) {
	b.t.Helper()
	b.step("submit "+selector, func(ctx context.Context) error {
		if err := chromedp.Do(ctx, chromedp.WaitReady(chromedp.CSS(selector))); err != nil {
			return err
		}
		before := b.loads()
		if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(submitJS, jsString(selector)))); err != nil {
			return err
		}
		return b.waitNavigation(ctx, before)
	})
}

// Text waits for an element that matches the CSS selector and returns its
// visible text (innerText).
func (b *Browser) Text(selector string) string {
	b.t.Helper()
	var s string
	b.step("text of "+selector, func(ctx context.Context) error {
		var err error
		s, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS(selector)))
		return err
	})
	return s
}

// Value waits for an element that matches the CSS selector and returns its
// value property.
func (b *Browser) Value(selector string) string {
	b.t.Helper()
	var s string
	b.step("value of "+selector, func(ctx context.Context) error {
		var err error
		s, err = chromedp.Run(ctx, chromedp.Value(chromedp.CSS(selector)))
		return err
	})
	return s
}

// Attr returns an attribute of the first element that matches the CSS
// selector, and whether it is present.
func (b *Browser) Attr(selector, name string) (string, bool) {
	b.t.Helper()
	var res chromedp.AttributeResult
	b.step("attribute "+name+" of "+selector, func(ctx context.Context) error {
		var err error
		res, err = chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(selector), name))
		return err
	})
	return res.Value, res.Exists
}

// Eval evaluates a JavaScript expression (awaiting a promise) and decodes
// its JSON value into out; out may be nil to ignore the value.
func (b *Browser) Eval(js string, out any) {
	b.t.Helper()
	b.step("eval "+shorten(js), func(ctx context.Context) error {
		raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](js, chromedp.EvalAwaitPromise))
		if err != nil || out == nil {
			return err
		}
		if len(raw) == 0 {
			return errors.New("the expression gave undefined")
		}
		return json.Unmarshal(raw, out)
	})
}

// Location returns the URL of the page.
func (b *Browser) Location() string {
	b.t.Helper()
	var s string
	b.step("location", func(ctx context.Context) error {
		var err error
		s, err = chromedp.Run(ctx, chromedp.Location())
		return err
	})
	return s
}

// Title returns the document title.
func (b *Browser) Title() string {
	b.t.Helper()
	var s string
	b.step("title", func(ctx context.Context) error {
		var err error
		s, err = chromedp.Run(ctx, chromedp.Title())
		return err
	})
	return s
}

// HTML returns the outer HTML of the document, for debugging.
func (b *Browser) HTML() string {
	b.t.Helper()
	var s string
	b.Eval("document.documentElement.outerHTML", &s)
	return s
}

// SetCookie sets a cookie for pageURL (its domain and, unless c.Path is set,
// its path), as if that page had set it.
func (b *Browser) SetCookie(pageURL string, c *http.Cookie) {
	b.t.Helper()
	p := network.SetCookieParams{Name: c.Name, Value: c.Value, URL: pageURL, Domain: c.Domain, Path: c.Path}
	if c.Secure {
		p.Secure = new(true)
	}
	if c.HttpOnly {
		p.HTTPOnly = new(true)
	}
	switch c.SameSite {
	case http.SameSiteLaxMode:
		p.SameSite = network.CookieSameSiteLax
	case http.SameSiteStrictMode:
		p.SameSite = network.CookieSameSiteStrict
	case http.SameSiteNoneMode:
		p.SameSite = network.CookieSameSiteNone
	}
	if !c.Expires.IsZero() {
		p.Expires = cdp.TimeSinceEpoch(float64(c.Expires.UnixNano()) / 1e9)
	}
	b.step("set cookie "+c.Name, func(ctx context.Context) error {
		_, err := chromedp.Call(ctx, network.SetCookie, p)
		return err
	})
}

// Cookies returns the cookies that the current page would send.
func (b *Browser) Cookies() []*http.Cookie {
	b.t.Helper()
	var out []*http.Cookie
	b.step("cookies", func(ctx context.Context) error {
		res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{})
		if err != nil {
			return err
		}
		for _, c := range res.Cookies {
			hc := &http.Cookie{Name: c.Name, Value: c.Value, Domain: c.Domain, Path: c.Path,
				Secure: c.Secure, HttpOnly: c.HTTPOnly}
			switch c.SameSite {
			case network.CookieSameSiteLax:
				hc.SameSite = http.SameSiteLaxMode
			case network.CookieSameSiteStrict:
				hc.SameSite = http.SameSiteStrictMode
			case network.CookieSameSiteNone:
				hc.SameSite = http.SameSiteNoneMode
			}
			if !c.Session && c.Expires > 0 {
				hc.Expires = time.Unix(int64(c.Expires), 0)
			}
			out = append(out, hc)
		}
		return nil
	})
	return out
}

// Cookie returns the value of the named cookie of the current page, and
// whether it exists.
func (b *Browser) Cookie(name string) (string, bool) {
	b.t.Helper()
	for _, c := range b.Cookies() {
		if c.Name == name {
			return c.Value, true
		}
	}
	return "", false
}

func jsString(s string) string {
	q, _ := json.Marshal(s)
	return string(q)
}

func shorten(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 60 {
		return s[:57] + "..."
	}
	return s
}
