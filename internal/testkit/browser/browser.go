package browser

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"
)

// Defaults of every Browser.
const (
	DefaultWidth   = 1440
	DefaultHeight  = 900
	DefaultTimeout = 15 * time.Second
	startTimeout   = 60 * time.Second
)

// Browser is one tab of a headless Chromium, bound to a test. Its methods
// fail the test (t.Fatalf) on any error, naming the step and the page.
type Browser struct {
	t       testing.TB
	ctx     context.Context // the tab's chromedp context
	timeout time.Duration

	mu        sync.Mutex
	changed   chan struct{} // closed and replaced when the state below changes
	mainFrame cdp.FrameID
	url       string // URL of the main frame, from FrameNavigated
	started   int    // main-frame loads started
	stopped   int    // main-frame loads stopped
	jsErrors  []string

	headers  map[string]any // extra HTTP headers of every request
	width    int64
	height   int64
	shotDir  string
	shotSeq  int
	failing  bool
	sharedBC bool // the tab has its own browser context in the shared process
}

// New starts a Chromium of the test's own, with one tab, and stops it when
// the test ends. It costs a browser start (about a second); prefer Shared.
func New(t testing.TB) *Browser {
	t.Helper()
	exe := requireChromium(t)
	b := newBrowser(t)
	p, err := startProcess(exe, chromedp.WithListener(b.onEvent))
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	t.Cleanup(p.stop)
	b.attach(p.ctx)
	return b
}

var shared struct {
	mu       sync.Mutex
	p        *process
	err      error
	mainUsed bool
	closed   bool
}

// Shared opens a new tab in the test binary's shared Chromium, starting it on
// first use. Each tab has its own browser context (cookies, storage, cache),
// so tests do not see each other's sessions, and it is closed when the test
// ends. The package's TestMain must call Main (or RunMain), which stops the
// shared browser when the tests are done; Shared fails the test otherwise.
func Shared(t testing.TB) *Browser {
	t.Helper()
	exe := requireChromium(t)
	shared.mu.Lock()
	if !shared.mainUsed {
		shared.mu.Unlock()
		t.Fatalf("browser.Shared needs the package's TestMain to stop the browser: " +
			"add `func TestMain(m *testing.M) { browser.Main(m) }`")
	}
	if shared.closed {
		shared.mu.Unlock()
		t.Fatalf("browser.Shared called after the shared browser was shut down")
	}
	if shared.p == nil && shared.err == nil {
		shared.p, shared.err = startProcess(exe)
	}
	p, err := shared.p, shared.err
	shared.mu.Unlock()
	if err != nil {
		t.Fatalf("browser: shared browser: %v", err)
	}

	b := newBrowser(t)
	b.sharedBC = true
	ctx, cancel := chromedp.NewContext(p.ctx, chromedp.WithNewBrowserContext(), chromedp.WithListener(b.onEvent))
	t.Cleanup(cancel)
	if err := runWithin(ctx, startTimeout, func() error { return chromedp.Do(ctx) }); err != nil {
		t.Fatalf("browser: opening a tab: %v", err)
	}
	b.attach(ctx)
	return b
}

// Main runs the tests and then stops the shared browser, so that no Chromium
// outlives `go test`. Use it as the package's TestMain:
//
//	func TestMain(m *testing.M) { browser.Main(m) }
func Main(m *testing.M) {
	os.Exit(RunMain(m))
}

// RunMain is Main for a TestMain that does more: it runs m.Run, stops the
// shared browser, and returns the exit code.
func RunMain(m *testing.M) int {
	shared.mu.Lock()
	shared.mainUsed = true
	shared.mu.Unlock()
	defer Shutdown()
	return m.Run()
}

// Shutdown stops the shared browser, if it runs, and waits for it to exit.
// Later calls of Shared fail.
func Shutdown() {
	shared.mu.Lock()
	p := shared.p
	shared.p, shared.closed = nil, true
	shared.mu.Unlock()
	if p != nil {
		p.stop()
	}
}

func newBrowser(t testing.TB) *Browser {
	return &Browser{
		t:       t,
		timeout: DefaultTimeout,
		changed: make(chan struct{}),
		headers: map[string]any{},
		width:   DefaultWidth,
		height:  DefaultHeight,
	}
}

// attach binds b to a tab context that has run once, and sets the default
// viewport, so that every tab has the same size whatever its window.
func (b *Browser) attach(ctx context.Context) {
	b.t.Helper()
	b.ctx = ctx
	c := chromedp.FromContext(ctx)
	b.mu.Lock()
	// In Chromium the main frame of a page has the id of its target.
	b.mainFrame = cdp.FrameID(c.Target.TargetID)
	b.mu.Unlock()
	b.SetViewport(DefaultWidth, DefaultHeight)
}

// SetTimeout changes the limit of each later step (default 15 s).
func (b *Browser) SetTimeout(d time.Duration) { b.timeout = d }

// Context returns the tab's chromedp context, for steps this package lacks.
// Derive a context with a timeout from it for each call of chromedp.Run.
func (b *Browser) Context() context.Context { return b.ctx }
