// Package browser drives a headless Chromium for Careloop's UI tests, through
// chromedp (v0.23, the generic Action[T] API).
//
// A package with UI tests stops the shared browser in its TestMain and opens
// a tab per test:
//
//	func TestMain(m *testing.M) { browser.Main(m) }
//
//	func TestLogin(t *testing.T) {
//		srv := httptest.NewServer(app.Handler())
//		defer srv.Close()
//		b := browser.Shared(t)
//		b.Visit(srv.URL + "/login")
//		b.Fill("#email", "ada@example.com")
//		b.Fill("#password", "correct horse")
//		b.Submit("#login-form")        // waits for the next page
//		if got := b.Text("h1"); got != "Inbox" { t.Fatalf("h1 %q", got) }
//		b.Screenshot("inbox")          // NN-inbox.png, full page
//		b.NoJSErrors()                 // no exceptions, console errors or CSP violations
//	}
//
// # Browsers and tabs
//
// Shared starts one Chromium per test binary on first use and gives each test
// a new tab in a browser context of its own (separate cookies, storage and
// cache), closed when the test ends. Main (or RunMain, for a TestMain that
// does more) stops that browser after m.Run, so no Chromium outlives `go
// test`; Shared fails a test whose package lacks it. New starts a Chromium for
// one test instead, stopped by t.Cleanup. Chromium is also killed if the test
// binary dies (parent-death signal, and its control pipe closes), and its
// temporary profile and TMPDIR are removed when it stops.
//
// The binary is $CARELOOP_CHROMIUM, else /usr/bin/chromium, else chromium,
// chromium-browser, google-chrome or headless-shell on $PATH. When none is
// found the test is skipped, or fails when CI=true so that CI cannot pass by
// skipping. Install it with `apt-get install -y chromium fonts-noto-cjk`.
// Chromium runs headless with --no-sandbox, --disable-gpu, --disable-quic,
// --no-first-run, --disable-background-networking,
// --disable-component-update, --disable-sync, --lang=en-US and a fresh
// temporary --user-data-dir; every tab starts with a 1440×900 viewport.
//
// # Steps
//
// Selectors are CSS selectors; a step acts on the first match. Each step
// waits as a person would (Click and Fill wait for a visible element, Text for
// an existing one) for at most 15 s (SetTimeout), and fails the test with
// t.Fatalf naming the step, the selector and the page URL, a screenshot of the
// page (NN-failure.png) and the page errors so far. Click and Submit wait for
// the page load that they start; a step that starts none returns after
// 0.5 s. Exists does not wait. Context gives the chromedp context for
// anything else.
//
// # Screenshots
//
// Screenshot saves a full-page PNG as NN-name.png in
// $CARELOOP_SCREENSHOTS/<TestName>, or else
// <os.TempDir()>/careloop-screenshots/<TestName>, and logs the folder once
// per test ("screenshots: …"). SetViewport(375, 667) resizes the viewport;
// SetPhone emulates a phone (mobile viewport and touch).
//
// # Page errors
//
// JSErrors lists what the tab's pages reported: uncaught exceptions and
// unhandled rejections, console.error and console.assert calls, and error
// entries of the browser log, which include Content Security Policy
// violations and failed resource loads (except the browser's own request
// for /favicon.ico). NoJSErrors fails the test if any.
//
// # Language and cookies
//
// SetLanguage("de") sends "Accept-Language: de" with every later request
// (SetHeader for any header). SetCookie, Cookies and Cookie read and write
// the tab's cookies.
package browser
