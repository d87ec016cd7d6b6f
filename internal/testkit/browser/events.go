package browser

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
)

// onEvent sees every event of the tab, in order, on the goroutine that reads
// the browser's messages (chromedp.WithListener): it must be quick and must
// not send commands.
func (b *Browser) onEvent(ev any) {
	switch e := ev.(type) {
	case *runtime.EventExceptionThrown:
		b.addJSError("exception: " + exceptionText(e.ExceptionDetails))
	case *runtime.EventConsoleAPICalled:
		if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeAssert {
			msg := "console." + string(e.Type) + ": " + argsText(e.Args)
			if st := e.StackTrace; st != nil && len(st.CallFrames) > 0 {
				f := st.CallFrames[0]
				msg += fmt.Sprintf(" (%s:%d)", f.URL, f.LineNumber+1)
			}
			b.addJSError(msg)
		}
	case *log.EventEntryAdded:
		// The browser's own console messages: CSP violations, failed
		// resource loads, mixed content, deprecations.
		if en := e.Entry; en != nil && en.Level == log.EntryLevelError && !isFaviconMiss(en) {
			msg := string(en.Source) + " error: " + en.Text
			if en.URL != "" && !strings.Contains(en.Text, en.URL) {
				msg += " (" + en.URL + ")"
			}
			b.addJSError(msg)
		}
	case *page.EventFrameNavigated:
		if e.Frame != nil && e.Frame.ParentID == "" {
			b.update(func() { b.url = e.Frame.URL })
		}
	case *page.EventFrameStartedLoading:
		b.update(func() {
			if e.FrameID == b.mainFrame {
				b.started++
			}
		})
	case *page.EventFrameStoppedLoading:
		b.update(func() {
			if e.FrameID == b.mainFrame {
				b.stopped++
			}
		})
	}
}

// isFaviconMiss tells the failed load of /favicon.ico, which the browser
// requests by itself, from the page's own errors.
func isFaviconMiss(en *log.Entry) bool {
	if en.Source != log.EntrySourceNetwork {
		return false
	}
	u, err := url.Parse(en.URL)
	return err == nil && u.Path == "/favicon.ico"
}

// update changes the state under the lock and wakes the waiters.
func (b *Browser) update(f func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	f()
	close(b.changed)
	b.changed = make(chan struct{})
}

func (b *Browser) addJSError(msg string) {
	b.update(func() { b.jsErrors = append(b.jsErrors, msg) })
}

// JSErrors returns the page errors seen so far in this tab: uncaught
// exceptions and unhandled rejections, console.error and console.assert
// calls, and error entries of the browser log, which include Content
// Security Policy violations and failed resource loads (not the browser's
// own request for /favicon.ico).
func (b *Browser) JSErrors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.jsErrors)
}

// ClearJSErrors forgets the errors seen so far.
func (b *Browser) ClearJSErrors() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.jsErrors = nil
}

// NoJSErrors fails the test (without stopping it) when the tab has seen
// page errors, and lists them.
func (b *Browser) NoJSErrors() {
	b.t.Helper()
	if errs := b.JSErrors(); len(errs) > 0 {
		b.t.Errorf("browser: %d page error(s) on %s:\n  %s", len(errs), b.currentURL(), strings.Join(errs, "\n  "))
	}
}

func (b *Browser) currentURL() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.url == "" {
		return "about:blank"
	}
	return b.url
}

func (b *Browser) loads() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.started
}

// navStartWindow is how long a click or a submit may take to start a page
// load before the step counts as one that does not navigate.
const navStartWindow = 500 * time.Millisecond

// waitNavigation waits, after a step that may navigate, until the main frame
// has finished every load that started after startedBefore. When no load
// starts within navStartWindow it returns at once.
func (b *Browser) waitNavigation(ctx context.Context, startedBefore int) error {
	startBy := time.Now().Add(navStartWindow)
	for {
		b.mu.Lock()
		started, stopped, ch := b.started, b.stopped, b.changed
		b.mu.Unlock()
		if started > startedBefore && stopped >= started {
			return nil
		}
		if started == startedBefore && !time.Now().Before(startBy) {
			return nil
		}
		wait := time.Until(startBy)
		if started > startedBefore || wait <= 0 {
			wait = time.Second
		}
		timer := time.NewTimer(wait)
		select {
		case <-ch:
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			return fmt.Errorf("waiting for the page load: %w", ctx.Err())
		}
		timer.Stop()
	}
}

func exceptionText(d *runtime.ExceptionDetails) string {
	if d == nil {
		return "unknown exception"
	}
	text := d.Text
	if d.Exception != nil {
		desc := valueText(d.Exception)
		desc, _, _ = strings.Cut(desc, "\n    at ")
		text = strings.TrimSpace(text + " " + desc)
	}
	url, line := d.URL, d.LineNumber
	if st := d.StackTrace; url == "" && st != nil && len(st.CallFrames) > 0 {
		url, line = st.CallFrames[0].URL, st.CallFrames[0].LineNumber
	}
	if url != "" {
		text += fmt.Sprintf(" (%s:%d)", url, line+1)
	}
	return text
}

func argsText(args []*runtime.RemoteObject) string {
	parts := make([]string, 0, len(args))
	for _, a := range args {
		parts = append(parts, valueText(a))
	}
	return strings.Join(parts, " ")
}

// valueText renders a remote value roughly as the DevTools console does.
func valueText(o *runtime.RemoteObject) string {
	if o == nil {
		return "null"
	}
	if o.Type == runtime.RemoteObjectTypeString {
		var s string
		if json.Unmarshal([]byte(o.Value), &s) == nil {
			return s
		}
	}
	switch {
	case o.Type == runtime.RemoteObjectTypeUndefined:
		return "undefined"
	case o.UnserializableValue != "":
		return string(o.UnserializableValue)
	case o.Description != "":
		return o.Description
	case len(o.Value) > 0:
		return string(o.Value)
	}
	return string(o.Type)
}
