package browser

import (
	"fmt"
	"html"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestMain(m *testing.M) { Main(m) }

const formPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Greeter</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:sans-serif;margin:2rem} input,button{font-size:1.2rem}</style></head>
<body>
<h1>Greeter</h1>
<form method="post" action="/greet" id="form">
  <label for="name">Your name</label>
  <input id="name" name="name" value="placeholder" required>
  <select id="tone" name="tone"><option value="plain">Plain</option><option value="warm">Warm</option></select>
  <button id="send" type="submit">Send</button>
</form>
<p><a id="about" href="/about">About</a></p>
<button id="js" type="button" onclick="document.getElementById('out').textContent='clicked'">JS</button>
<p id="out">not clicked</p>
</body></html>`

func testServer(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, formPage)
	})
	mux.HandleFunc("POST /greet", func(w http.ResponseWriter, r *http.Request) {
		greeting := "Hello"
		if r.FormValue("tone") == "warm" {
			greeting = "Dearest"
		}
		http.Redirect(w, r, "/result?msg="+greeting+"%2C+"+strings.ReplaceAll(r.FormValue("name"), " ", "+"), http.StatusSeeOther)
	})
	mux.HandleFunc("GET /result", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<!doctype html><meta charset="utf-8"><title>Result</title><p id="result">%s!</p>`, html.EscapeString(r.FormValue("msg")))
	})
	mux.HandleFunc("GET /about", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(100 * time.Millisecond) // a slow page: Click must wait for it
		fmt.Fprint(w, `<!doctype html><title>About</title><h1 id="about-title">About us</h1>`)
	})
	mux.HandleFunc("GET /lang", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<!doctype html><p id="lang">%s</p>`, html.EscapeString(r.Header.Get("Accept-Language")))
	})
	mux.HandleFunc("GET /cookie", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "session", Value: "s3cret", Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
		c, _ := r.Cookie("pref")
		v := "none"
		if c != nil {
			v = c.Value
		}
		fmt.Fprintf(w, `<!doctype html><p id="pref">%s</p>`, html.EscapeString(v))
	})
	mux.HandleFunc("GET /broken", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><p id="p">broken</p><img src="/missing.png" alt=""><script>console.error("bad thing", 42); throw new Error("boom");</script>`)
	})
	mux.HandleFunc("GET /csp", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self'")
		fmt.Fprint(w, `<!doctype html><p id="p">strict</p><script>document.title = "inline ran";</script>`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func pngWidth(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("screenshot file: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot %s is not a PNG: %v", path, err)
	}
	return img.Bounds().Dx()
}

// keepScreenshots puts the screenshots in a temporary folder unless
// CARELOOP_SCREENSHOTS asks to keep them somewhere.
func keepScreenshots(t *testing.T) {
	if os.Getenv("CARELOOP_SCREENSHOTS") == "" {
		t.Setenv("CARELOOP_SCREENSHOTS", t.TempDir())
	}
}

func TestFormFillSubmitAndScreenshots(t *testing.T) {
	keepScreenshots(t)
	srv := testServer(t)
	b := Shared(t)

	b.Visit(srv.URL + "/")
	if got := b.Title(); got != "Greeter" {
		t.Fatalf("title %q", got)
	}
	if got := b.Text(`label[for="name"]`); got != "Your name" {
		t.Fatalf("label %q", got)
	}
	b.Fill("#name", "Ada Lovelace 李")
	if got := b.Value("#name"); got != "Ada Lovelace 李" {
		t.Fatalf("Fill must replace the old value: %q", got)
	}
	b.Fill("#tone", "warm")
	first := b.Screenshot("form")
	if filepath.Base(first) != "01-form.png" || filepath.Dir(first) != b.ScreenshotDir() {
		t.Fatalf("screenshot path %s, dir %s", first, b.ScreenshotDir())
	}
	b.Submit("#send")
	if got := b.Text("#result"); got != "Dearest, Ada Lovelace 李!" {
		t.Fatalf("result %q", got)
	}
	if loc := b.Location(); !strings.HasPrefix(loc, srv.URL+"/result?") {
		t.Fatalf("location %q", loc)
	}
	if !b.Exists("#result") || b.Exists("#name") {
		t.Fatal("Exists is wrong")
	}

	wide := b.Screenshot("result desktop")
	if w := pngWidth(t, wide); w != DefaultWidth {
		t.Fatalf("desktop screenshot is %d px wide, want %d", w, DefaultWidth)
	}
	b.SetViewport(375, 667)
	phone := b.Screenshot("result/phone")
	if filepath.Base(phone) != "03-result_phone.png" {
		t.Fatalf("phone screenshot path %s", phone)
	}
	if w := pngWidth(t, phone); w != 375 {
		t.Fatalf("phone screenshot is %d px wide, want 375", w)
	}
	b.SetPhone(390, 844)
	b.Visit(srv.URL)
	if w := pngWidth(t, b.Screenshot("phone form")); w != 390 {
		t.Fatalf("SetPhone screenshot is %d px wide, want 390", w)
	}
	b.NoJSErrors()
}

func TestClickWaitsForNavigationButNotForScripts(t *testing.T) {
	srv := testServer(t)
	b := Shared(t)
	b.Visit(srv.URL)
	b.Click("#js")
	if got := b.Text("#out"); got != "clicked" {
		t.Fatalf("after JS click: %q", got)
	}
	b.Click("#about")
	// Exists does not wait, so this only holds when Click waited for the
	// slow page.
	if !b.Exists("#about-title") {
		t.Fatalf("Click returned before the new page loaded; location %s", b.Location())
	}
	b.NoJSErrors()
}

func TestJSErrorsIncludeExceptionsConsoleAndCSP(t *testing.T) {
	srv := testServer(t)
	b := Shared(t)
	b.Visit(srv.URL + "/broken")
	b.WaitVisible("#p")
	errs := strings.Join(b.JSErrors(), "\n")
	if !strings.Contains(errs, "boom") || !strings.Contains(errs, "console.error: bad thing 42") ||
		!strings.Contains(errs, "/missing.png") {
		t.Fatalf("JSErrors misses the exception, console.error or failed image:\n%s", errs)
	}
	if strings.Contains(errs, "favicon") {
		t.Fatalf("the browser's own favicon request is not a page error:\n%s", errs)
	}
	b.ClearJSErrors()
	if len(b.JSErrors()) != 0 {
		t.Fatal("ClearJSErrors left errors")
	}

	b.Visit(srv.URL + "/csp")
	if b.Title() == "inline ran" {
		t.Fatal("CSP did not block the inline script")
	}
	// The violation report may trail the load event by a moment.
	deadline := time.Now().Add(5 * time.Second)
	for len(b.JSErrors()) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	errs = strings.Join(b.JSErrors(), "\n")
	if !strings.Contains(errs, "Content Security Policy") {
		t.Fatalf("JSErrors misses the CSP violation:\n%s", errs)
	}
}

func TestVisitStatusAndParallelTabs(t *testing.T) {
	srv := testServer(t)
	for i := range 3 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			b := Shared(t)
			if got := b.VisitStatus(srv.URL + "/nowhere"); got != http.StatusNotFound {
				t.Fatalf("status %d, want 404", got)
			}
			b.ClearJSErrors()
			b.Visit(srv.URL + "/result?msg=tab" + fmt.Sprint(i))
			if got := b.Text("#result"); got != fmt.Sprintf("tab%d!", i) {
				t.Fatalf("tab %d reads %q", i, got)
			}
			b.NoJSErrors()
		})
	}
}

func TestLanguageAndCookies(t *testing.T) {
	srv := testServer(t)
	t.Run("set", func(t *testing.T) {
		b := Shared(t)
		b.SetLanguage("de")
		b.Visit(srv.URL + "/lang")
		if got := b.Text("#lang"); got != "de" {
			t.Fatalf("Accept-Language %q, want de", got)
		}
		b.SetCookie(srv.URL, &http.Cookie{Name: "pref", Value: "dark"})
		b.Visit(srv.URL + "/cookie")
		if got := b.Text("#pref"); got != "dark" {
			t.Fatalf("cookie pref reached the server as %q", got)
		}
		if v, ok := b.Cookie("session"); !ok || v != "s3cret" {
			t.Fatalf("session cookie %q %v; all: %v", v, ok, b.Cookies())
		}
	})
	t.Run("isolated", func(t *testing.T) {
		b := Shared(t)
		b.Visit(srv.URL + "/cookie")
		if got := b.Text("#pref"); got != "none" {
			t.Fatalf("a new Shared tab sees another test's cookie: %q", got)
		}
	})
}

func TestNewStartsOwnBrowser(t *testing.T) {
	srv := testServer(t)
	b := New(t)
	b.Visit(srv.URL)
	b.WaitVisible("#send")
	if got := b.Text("h1"); got != "Greeter" {
		t.Fatalf("h1 %q", got)
	}
	var sum int
	b.Eval(`new Promise(r => setTimeout(() => r(40 + 2), 10))`, &sum)
	if sum != 42 {
		t.Fatalf("Eval gave %d", sum)
	}
	b.Eval(`void 0`, nil)
}

// fakeTB records how a helper ends the test. Fatal and Skip end the calling
// goroutine as the real ones do.
type fakeTB struct {
	testing.TB
	mu      sync.Mutex
	fatal   string
	skipped string
	logs    []string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Fatal(args ...any) {
	f.mu.Lock()
	f.fatal = fmt.Sprint(args...)
	f.mu.Unlock()
	runtime.Goexit()
}
func (f *fakeTB) Fatalf(format string, args ...any) { f.Fatal(fmt.Sprintf(format, args...)) }
func (f *fakeTB) Skipf(format string, args ...any) {
	f.mu.Lock()
	f.skipped = fmt.Sprintf(format, args...)
	f.mu.Unlock()
	runtime.Goexit()
}
func (f *fakeTB) Logf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.logs = append(f.logs, fmt.Sprintf(format, args...))
}

// inGoroutine runs f as a test body would run, so that Goexit ends only it.
func inGoroutine(f func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	<-done
}

func TestFailureNamesStepAndPage(t *testing.T) {
	keepScreenshots(t)
	srv := testServer(t)
	b := Shared(t)
	b.Visit(srv.URL + "/lang")
	fake := &fakeTB{TB: t}
	b.t = fake
	b.SetTimeout(500 * time.Millisecond)
	inGoroutine(func() { b.WaitVisible("#missing") })
	b.t = t
	t.Logf("failure message:\n%s", fake.fatal)
	for _, want := range []string{"wait visible #missing", srv.URL + "/lang", "timed out", "screenshot: ", "failure.png"} {
		if !strings.Contains(fake.fatal, want) {
			t.Errorf("failure message lacks %q:\n%s", want, fake.fatal)
		}
	}
}

func TestMissingChromiumSkipsOrFailsOnCI(t *testing.T) {
	t.Setenv("CARELOOP_CHROMIUM", filepath.Join(t.TempDir(), "no-such-chromium"))
	t.Setenv("CI", "")
	fake := &fakeTB{TB: t}
	inGoroutine(func() { requireChromium(fake) })
	if !strings.Contains(fake.skipped, "no-such-chromium") || fake.fatal != "" {
		t.Fatalf("without CI: skipped %q fatal %q", fake.skipped, fake.fatal)
	}
	t.Setenv("CI", "true")
	fake = &fakeTB{TB: t}
	inGoroutine(func() { requireChromium(fake) })
	if !strings.Contains(fake.fatal, "CI=true") || fake.skipped != "" {
		t.Fatalf("with CI=true: skipped %q fatal %q", fake.skipped, fake.fatal)
	}
}

func TestSafeName(t *testing.T) {
	for in, want := range map[string]string{"TestA/sub case": "TestA_sub_case", "": "page", "..": "page", "ok-1.x": "ok-1.x"} {
		if got := safeName(in); got != want {
			t.Errorf("safeName(%q) = %q, want %q", in, got, want)
		}
	}
}
