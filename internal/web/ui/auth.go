package ui

import (
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/careloop/careloop/internal/demo"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/i18n"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/web/httpx"
)

// SetupCode guards the first-run page: only someone who can read the server
// log can create the first administrator.
type SetupCode struct {
	mu   sync.Mutex
	code string
}

// NewSetupCode makes a random code to print in the log.
func NewSetupCode() *SetupCode {
	const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	s := string(b)
	return &SetupCode{code: s[:4] + "-" + s[4:8] + "-" + s[8:]}
}

// Code returns the code to print.
func (s *SetupCode) Code() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.code
}

// check compares in constant time, ignoring case and spaces.
func (s *SetupCode) check(code string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	code = strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(code), " ", ""))
	return s.code != "" && subtle.ConstantTimeCompare([]byte(code), []byte(s.code)) == 1
}

func (s *SetupCode) burn() {
	s.mu.Lock()
	s.code = ""
	s.mu.Unlock()
}

func (u *UI) authRoutes() []httpx.Route {
	return []httpx.Route{
		{Method: "GET", Path: "/login", Perm: identity.Public, Handler: u.loginForm},
		{Method: "POST", Path: "/login", Perm: identity.Public, Handler: u.login},
		{Method: "POST", Path: "/logout", Perm: identity.Authenticated, Handler: u.logout},
		{Method: "GET", Path: "/setup", Perm: identity.Public, Handler: u.setupForm},
		{Method: "POST", Path: "/setup", Perm: identity.Public, Handler: u.setup},
		{Method: "POST", Path: "/lang", Perm: identity.Public, Handler: u.setLang},
	}
}

type loginData struct {
	Email string
	Next  string
	// Demo lists the demo accounts and their password, on a --demo server
	// only.
	Demo         []demo.Account
	DemoPassword string
}

// loginPage is the sign-in form's data; a demo server lists its accounts.
func (u *UI) loginPage(email, next string) loginData {
	d := loginData{Email: email, Next: next}
	if u.Demo {
		d.Demo, d.DemoPassword = demo.Accounts, demo.Password
	}
	return d
}

// safeNext keeps post-sign-in redirects on this site.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	if u, err := url.Parse(next); err != nil || u.Host != "" || u.Scheme != "" {
		return "/"
	}
	return next
}

func (u *UI) firstRun(r *http.Request) bool {
	n, err := u.Identity.CountUsers(r.Context())
	return err == nil && n == 0
}

func (u *UI) loginForm(w http.ResponseWriter, r *http.Request) {
	if u.firstRun(r) {
		redirect(w, r, "/setup")
		return
	}
	if httpx.Principal(r) != nil {
		redirect(w, r, safeNext(r.URL.Query().Get("next")))
		return
	}
	u.render(w, r, http.StatusOK, "login", u.page(r, "login.title", u.loginPage("", safeNext(r.URL.Query().Get("next")))))
}

func (u *UI) login(w http.ResponseWriter, r *http.Request) {
	email, password := r.PostFormValue("email"), r.PostFormValue("password")
	data := u.loginPage(email, safeNext(r.PostFormValue("next")))
	p := u.page(r, "login.title", data)
	if strings.TrimSpace(email) == "" || password == "" {
		p.Error = "login.missing"
		u.render(w, r, http.StatusBadRequest, "login", p)
		return
	}
	user, err := u.Identity.Authenticate(r.Context(), email, password, httpx.ClientIP(r.Context()))
	var th *identity.ThrottledError
	switch {
	case errors.As(err, &th):
		p.Error = "error.throttled"
		p.Fields["minutes"] = strings.TrimSpace(formatMinutes(th))
		w.Header().Set("Retry-After", formatSeconds(th))
		u.render(w, r, http.StatusTooManyRequests, "login", p)
		return
	case errors.Is(err, identity.ErrBadCredentials):
		p.Error = "login.failed"
		u.render(w, r, http.StatusUnauthorized, "login", p)
		return
	case err != nil:
		u.fail(w, r, err)
		return
	}
	if err := u.startSession(w, r, user.ID); err != nil {
		u.fail(w, r, err)
		return
	}
	redirect(w, r, data.Next)
}

func (u *UI) startSession(w http.ResponseWriter, r *http.Request, userID int64) error {
	// A sign-in replaces any session the browser had (no fixation).
	if c, err := r.Cookie(u.SessionCookie); err == nil {
		_ = u.Identity.EndSession(r.Context(), c.Value)
	}
	sid, err := u.Identity.CreateSession(r.Context(), userID, httpx.ClientIP(r.Context()), r.UserAgent())
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: u.SessionCookie, Value: sid, Path: "/", HttpOnly: true,
		Secure: u.SecureCookies, SameSite: http.SameSiteLaxMode, MaxAge: int(u.Identity.SessionMaxAge().Seconds())})
	return nil
}

func (u *UI) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(u.SessionCookie); err == nil {
		_ = u.Identity.EndSession(r.Context(), c.Value)
	}
	http.SetCookie(w, &http.Cookie{Name: u.SessionCookie, Value: "", Path: "/", HttpOnly: true, Secure: u.SecureCookies,
		SameSite: http.SameSiteLaxMode, MaxAge: -1})
	redirect(w, r, "/login")
}

type setupData struct {
	Email, Name string
}

func (u *UI) setupForm(w http.ResponseWriter, r *http.Request) {
	if !u.firstRun(r) {
		redirect(w, r, "/login")
		return
	}
	u.render(w, r, http.StatusOK, "setup", u.page(r, "setup.title", setupData{}))
}

func (u *UI) setup(w http.ResponseWriter, r *http.Request) {
	if !u.firstRun(r) {
		redirect(w, r, "/login")
		return
	}
	data := setupData{Email: r.PostFormValue("email"), Name: r.PostFormValue("name")}
	p := u.page(r, "setup.title", data)
	if u.Setup == nil || !u.Setup.check(r.PostFormValue("setup_code")) {
		p.Fields["setup_code"] = u.Cat.T(p.Lang, "setup.bad_code", nil)
		p.Error = "error.validation"
		u.render(w, r, http.StatusForbidden, "setup", p)
		return
	}
	if r.PostFormValue("password") != r.PostFormValue("password2") {
		p.Fields["password2"] = u.Cat.T(p.Lang, "validation.password_mismatch", nil)
		p.Error = "error.validation"
		u.render(w, r, http.StatusBadRequest, "setup", p)
		return
	}
	user, err := u.Identity.CreateUser(r.Context(), identity.NewUser{Email: data.Email, Name: data.Name,
		Password: r.PostFormValue("password"), Locale: p.Lang, Roles: []string{"admin"}})
	if err != nil {
		if u.fieldErrors(p, err) {
			u.render(w, r, http.StatusBadRequest, "setup", p)
			return
		}
		u.fail(w, r, err)
		return
	}
	u.Setup.burn()
	if err := u.startSession(w, r, user.ID); err != nil {
		u.fail(w, r, err)
		return
	}
	redirect(w, r, "/?done=setup")
}

// setLang switches the language; a signed-in user's choice is remembered on
// their account, a visitor's in a cookie.
func (u *UI) setLang(w http.ResponseWriter, r *http.Request) {
	lang := i18n.Normalize(r.PostFormValue("lang"))
	if lang == "" {
		u.fail(w, r, domain.Invalid("lang", "validation.one_of", map[string]any{"Values": "zh-CN, en"}))
		return
	}
	if p := httpx.Principal(r); p != nil {
		if err := u.Identity.SetLocale(r.Context(), p.UserID, lang); err != nil {
			u.fail(w, r, err)
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: u.LangCookie, Value: lang, Path: "/", MaxAge: 365 * 24 * 3600,
		Secure: u.SecureCookies, SameSite: http.SameSiteLaxMode, HttpOnly: true})
	redirect(w, r, safeNext(r.PostFormValue("next")))
}
