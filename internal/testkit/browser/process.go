package browser

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Each Chromium gets a work folder <TMPDIR>/careloop-chromium-*, holding its
// profile (--user-data-dir), its TMPDIR (shared memory files, singleton
// socket) and an "owner" file with the pid of the test binary. Stopping the
// browser removes the folder; a test binary that was killed (a -timeout
// panic, ^C) cannot, so the next start removes the folders whose owner is
// gone, after killing any Chromium still using them.
const workPrefix = "careloop-chromium-"

// process is a running Chromium.
type process struct {
	ctx         context.Context // the first tab; cancelling it stops the browser
	cancel      context.CancelFunc
	allocCancel context.CancelFunc
	dir         string
}

func (p *process) stop() {
	done := make(chan struct{})
	go func() {
		defer close(done)
		chromedp.Cancel(p.ctx) // asks Chromium to close
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
	p.cancel()      // kills it if it is still there
	p.allocCancel() // waits for it to exit
	killUsing(profileDir(p.dir))
	os.RemoveAll(p.dir)
}

func profileDir(dir string) string { return filepath.Join(dir, "profile") }

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
	sweepStale()
	dir, err := os.MkdirTemp("", workPrefix)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "owner"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	aopts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(profileDir(dir)),
		chromedp.Env("TMPDIR="+dir),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("lang", "en-US"),
		chromedp.WindowSize(DefaultWidth, DefaultHeight),
	)
	allocCtx, allocCancel := chromedp.NewExecAllocator(context.Background(), aopts...)
	opts = append(opts, chromedp.WithErrorf(func(string, ...any) {}))
	ctx, cancel := chromedp.NewContext(allocCtx, opts...)
	p := &process{ctx: ctx, cancel: cancel, allocCancel: allocCancel, dir: dir}
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

// sweepStale removes the work folders of test binaries that have exited.
func sweepStale() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), workPrefix+"*"))
	for _, dir := range dirs {
		data, err := os.ReadFile(filepath.Join(dir, "owner"))
		if err != nil {
			// Being made right now, or not ours: leave it unless old.
			if fi, serr := os.Stat(dir); serr != nil || time.Since(fi.ModTime()) < time.Hour {
				continue
			}
		} else if pid, perr := strconv.Atoi(string(bytes.TrimSpace(data))); perr == nil && alive(pid) {
			continue
		}
		killUsing(profileDir(dir))
		os.RemoveAll(dir)
	}
}

func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// killUsing kills, by pid, the Chromium processes started with this
// profile folder; after a crash its helpers can outlive the main process.
// The folder is unique to one of our launches, so nothing else matches.
func killUsing(profile string) {
	want := []byte("--user-data-dir=" + profile)
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil {
			continue
		}
		for arg := range bytes.SplitSeq(cmdline, []byte{0}) {
			if bytes.Equal(arg, want) {
				syscall.Kill(pid, syscall.SIGKILL)
				break
			}
		}
	}
}
