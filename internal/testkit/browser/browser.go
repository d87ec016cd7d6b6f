package browser

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
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

// process is a running Chromium.
type process struct {
	ctx         context.Context // the first tab; cancelling it stops the browser
	cancel      context.CancelFunc
	allocCancel context.CancelFunc
	tmpDir      string // the browser's TMPDIR: shared memory files, singleton sockets
}

func (p *process) stop() {
	p.cancel()
	p.allocCancel() // waits for the process and removes its profile dir
	os.RemoveAll(p.tmpDir)
}

// chromiumPath finds the Chromium binary: $CARELOOP_CHROMIUM, then
// /usr/bin/chromium, then chromium, chromium-browser, google-chrome and
// headless-shell on $PATH.
func chromiumPath() (string, error) {
	if p := os.Getenv("CARELOOP_CHROMIUM"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("CARELOOP_CHROMIUM=%s: %w", p, err)
		}
		return p, nil
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium", nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no Chromium found: install it (apt-get install -y chromium fonts-noto-cjk) or set CARELOOP_CHROMIUM")
}

// requireChromium returns the binary, or skips the test (fails it when
// CI=true, so that CI never passes by skipping every UI test).
func requireChromium(t testing.TB) string {
	t.Helper()
	p, err := chromiumPath()
	if err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("browser: %v (CI=true, so this is a failure, not a skip)", err)
	}
	t.Skipf("browser: %v", err)
	return ""
}

// startProcess launches Chromium and opens its first tab with the options.
func startProcess(exe string, opts ...chromedp.ContextOption) (*process, error) {
	// Chromium leaves its singleton socket folder in TMPDIR when it is
	// stopped, so give it a TMPDIR of its own and remove that afterwards.
	tmpDir, err := os.MkdirTemp("", "careloop-chromium-")
	if err != nil {
		return nil, err
	}
	aopts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.Env("TMPDIR="+tmpDir),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("lang", "en-US"),
		chromedp.WindowSize(DefaultWidth, DefaultHeight),
		// No UserDataDir option: chromedp makes a fresh temporary
		// --user-data-dir and removes it when the browser stops.
	)
	allocCtx, allocCancel := chromedp.NewExecAllocator(context.Background(), aopts...)
	opts = append(opts, chromedp.WithErrorf(func(string, ...any) {}))
	ctx, cancel := chromedp.NewContext(allocCtx, opts...)
	p := &process{ctx: ctx, cancel: cancel, allocCancel: allocCancel, tmpDir: tmpDir}
	if err := runWithin(ctx, startTimeout, func() error { return chromedp.Do(ctx) }); err != nil {
		p.stop()
		return nil, fmt.Errorf("starting %s: %w", exe, err)
	}
	return p, nil
}

// runWithin runs f, and cancels ctx when f takes longer than d. It is for
// first runs, whose context must not carry a deadline.
func runWithin(ctx context.Context, d time.Duration, f func() error) error {
	timer := time.AfterFunc(d, func() { chromedp.Cancel(ctx) })
	defer timer.Stop()
	err := f()
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("no answer within %v: %w", d, err)
	}
	return err
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
