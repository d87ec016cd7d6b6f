package browser

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/chromedp/chromedp"
)

// ScreenshotDir returns the folder of this test's screenshots:
// $CARELOOP_SCREENSHOTS/<TestName>, or else
// <os.TempDir()>/careloop-screenshots/<TestName>. Subtest slashes and other
// odd characters in the name become underscores.
func (b *Browser) ScreenshotDir() string {
	base := os.Getenv("CARELOOP_SCREENSHOTS")
	if base == "" {
		base = filepath.Join(os.TempDir(), "careloop-screenshots")
	}
	return filepath.Join(base, safeName(b.t.Name()))
}

// Screenshot saves a full-page PNG as NN-name.png in ScreenshotDir (NN
// counts the test's screenshots from 01) and returns its path. The first one
// of a test removes the test's old NN-*.png files and logs the folder.
func (b *Browser) Screenshot(name string) string {
	b.t.Helper()
	path, err := b.saveScreenshot(name, b.timeout)
	if err != nil {
		b.fail("screenshot "+name, err)
	}
	return path
}

func (b *Browser) saveScreenshot(name string, timeout time.Duration) (string, error) {
	if b.shotDir == "" {
		dir := b.ScreenshotDir()
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", err
		}
		old, _ := filepath.Glob(filepath.Join(dir, "[0-9][0-9]-*.png"))
		for _, f := range old {
			os.Remove(f)
		}
		b.shotDir = dir
		b.t.Logf("screenshots: %s", dir)
	}
	ctx, cancel := context.WithTimeout(b.ctx, timeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		return "", err
	}
	b.shotSeq++
	path := filepath.Join(b.shotDir, fmt.Sprintf("%02d-%s.png", b.shotSeq, safeName(name)))
	if err := os.WriteFile(path, png, 0o644); err != nil {
		return "", err
	}
	return path, nil
}

// safeName keeps letters, digits, '-', '_' and '.', and turns the rest into
// '_'.
func safeName(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '_'
	}, s)
	if s == "" || strings.Trim(s, ".") == "" {
		return "page"
	}
	return s
}
