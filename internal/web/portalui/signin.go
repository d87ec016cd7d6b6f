package portalui

import (
	"errors"
	"net/http"
	"strings"

	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/i18n"
	"github.com/careloop/careloop/internal/portal"
	"github.com/careloop/careloop/internal/web/httpx"
)

// Signing in: an address gets a single-use link by mail; a phone (when an
// SMS channel is set up) a code by text message. The pages answer the same
// whether or not the address or phone is known.

type signinData struct {
	Step  string // "" (the forms), "sent" (check your mail), "code" (enter the code)
	Email string
	Phone string
	Next  string
	SMS   bool // the phone form shows only when an SMS channel exists
	Demo  bool // a --demo server offers the demo customer's direct sign-in
	// DemoEmail is the demo customer's address.
	DemoEmail string
}

func (u *UI) signinData(r *http.Request, step string) signinData {
	next := r.FormValue("next")
	if next == "" {
		next = r.URL.Query().Get("next")
	}
	return signinData{Step: step, Next: portal.SafeNext(next), SMS: u.Portal.SMSAvailable(), Demo: u.Demo, DemoEmail: DemoEmail}
}

func (u *UI) signinForm(w http.ResponseWriter, r *http.Request) {
	if httpx.Principal(r).IsPortal() {
		redirect(w, r, "/portal")
		return
	}
	u.render(w, r, http.StatusOK, "signin", u.page(r, "portal.signin.title", u.signinData(r, "")))
}

func (u *UI) signin(w http.ResponseWriter, r *http.Request) {
	d := u.signinData(r, "sent")
	d.Email = strings.TrimSpace(r.PostFormValue("email"))
	p := u.page(r, "portal.signin.title", &d)
	err := u.Portal.RequestLink(r.Context(), portal.LinkRequest{Email: d.Email, IP: httpx.ClientIP(r.Context()), Lang: p.Lang, Next: d.Next})
	switch {
	case err == nil:
		u.render(w, r, http.StatusOK, "signin", p)
	case throttled(w, p, err):
		d.Step = ""
		u.render(w, r, http.StatusTooManyRequests, "signin", p)
	case u.fieldErrors(p, err):
		d.Step = ""
		u.render(w, r, http.StatusBadRequest, "signin", p)
	default:
		u.fail(w, r, err)
	}
}

func (u *UI) signinPhone(w http.ResponseWriter, r *http.Request) {
	d := u.signinData(r, "code")
	d.Phone = strings.TrimSpace(r.PostFormValue("phone"))
	p := u.page(r, "portal.signin.title", &d)
	phone, err := u.Portal.RequestCode(r.Context(), portal.CodeRequest{Phone: d.Phone, IP: httpx.ClientIP(r.Context()), Lang: p.Lang})
	switch {
	case errors.Is(err, portal.ErrNoSMS):
		u.ErrorPage(w, r, http.StatusNotFound, "portal.signin.no_sms")
	case err == nil:
		d.Phone = phone
		u.render(w, r, http.StatusOK, "signin", p)
	case throttled(w, p, err):
		d.Step = ""
		u.render(w, r, http.StatusTooManyRequests, "signin", p)
	case u.fieldErrors(p, err):
		d.Step = ""
		u.render(w, r, http.StatusBadRequest, "signin", p)
	default:
		u.fail(w, r, err)
	}
}

func (u *UI) signinCode(w http.ResponseWriter, r *http.Request) {
	d := u.signinData(r, "code")
	d.Phone = strings.TrimSpace(r.PostFormValue("phone"))
	p := u.page(r, "portal.signin.title", &d)
	code := strings.TrimSpace(r.PostFormValue("code"))
	if code == "" {
		u.fieldErrors(p, domain.Invalid("code", "validation.required", nil))
		u.render(w, r, http.StatusBadRequest, "signin", p)
		return
	}
	sid, err := u.Portal.VerifyCode(r.Context(), d.Phone, code, httpx.ClientIP(r.Context()), r.UserAgent())
	switch {
	case errors.Is(err, portal.ErrNoSMS):
		u.ErrorPage(w, r, http.StatusNotFound, "portal.signin.no_sms")
	case err == nil:
		u.replaceSession(w, r, sid)
		redirect(w, r, d.Next)
	case errors.Is(err, portal.ErrBadCode):
		p.Fields["code"] = p.T("portal.signin.bad_code")
		p.Error = "portal.error.form"
		u.render(w, r, http.StatusUnauthorized, "signin", p)
	case throttled(w, p, err):
		u.render(w, r, http.StatusTooManyRequests, "signin", p)
	case u.fieldErrors(p, err):
		d.Step = ""
		u.render(w, r, http.StatusBadRequest, "signin", p)
	default:
		u.fail(w, r, err)
	}
}

// signinDemo signs the demo customer in at once: a --demo server only.
func (u *UI) signinDemo(w http.ResponseWriter, r *http.Request) {
	if !u.Demo {
		u.ErrorPage(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	sid, err := u.Portal.DemoSignIn(r.Context(), DemoEmail, httpx.ClientIP(r.Context()), r.UserAgent())
	if err != nil {
		u.fail(w, r, err)
		return
	}
	u.replaceSession(w, r, sid)
	redirect(w, r, "/portal")
}

// replaceSession ends the browser's portal session, if any, and sets the
// new one (no fixation, no two customers mixed in one browser).
func (u *UI) replaceSession(w http.ResponseWriter, r *http.Request, sid string) {
	if c, err := r.Cookie(u.Cookie); err == nil {
		_ = u.Portal.EndSession(r.Context(), c.Value)
	}
	u.setCookie(w, sid)
}

type authData struct {
	Token   string
	Label   string // whose link it is
	Purpose string
	// Current is who is signed in in this browser now, when another
	// account: signing in ends that session.
	Current string
	// Problem says why the link cannot sign in: used, expired, unknown.
	Problem string
}

// linkProblem maps a link's refusal to its page.
func linkProblem(err error) (int, string, bool) {
	switch {
	case errors.Is(err, portal.ErrLinkUsed):
		return http.StatusGone, "used", true
	case errors.Is(err, portal.ErrLinkExpired):
		return http.StatusGone, "expired", true
	case errors.Is(err, portal.ErrLinkUnknown):
		return http.StatusNotFound, "unknown", true
	}
	return 0, "", false
}

// authForm shows whose a link is and a button that signs in: a GET never
// spends the link, so mail scanners that fetch links leave it usable.
func (u *UI) authForm(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("token")
	d := &authData{Token: token}
	p := u.page(r, "portal.auth.title", d)
	l, err := u.Portal.LinkStatus(r.Context(), token)
	if status, problem, ok := linkProblem(err); ok {
		d.Problem = problem
		u.render(w, r, status, "auth", p)
		return
	}
	if err != nil {
		u.fail(w, r, err)
		return
	}
	d.Label, d.Purpose = l.Account.Label(), l.Purpose
	if cur := httpx.Principal(r); cur.IsPortal() && cur.PortalAccountID != l.Account.ID {
		d.Current = cur.Email
	}
	u.render(w, r, http.StatusOK, "auth", p)
}

func (u *UI) auth(w http.ResponseWriter, r *http.Request) {
	d := &authData{Token: r.PostFormValue("token")}
	p := u.page(r, "portal.auth.title", d)
	sid, l, err := u.Portal.Redeem(r.Context(), d.Token, httpx.ClientIP(r.Context()), r.UserAgent())
	if status, problem, ok := linkProblem(err); ok {
		d.Problem = problem
		u.render(w, r, status, "auth", p)
		return
	}
	if err != nil {
		u.fail(w, r, err)
		return
	}
	u.replaceSession(w, r, sid)
	redirect(w, r, portal.SafeNext(l.Next))
}

func (u *UI) signout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(u.Cookie); err == nil {
		_ = u.Portal.EndSession(r.Context(), c.Value)
	}
	u.setCookie(w, "")
	redirect(w, r, "/portal/signin?done=signed_out")
}

// setLang switches the language: remembered on the portal account when
// signed in, in a cookie for everyone.
func (u *UI) setLang(w http.ResponseWriter, r *http.Request) {
	lang := i18n.Normalize(r.PostFormValue("lang"))
	if lang == "" {
		u.fail(w, r, domain.Invalid("lang", "validation.one_of", map[string]any{"Values": "zh-CN, en"}))
		return
	}
	if p := httpx.Principal(r); p.IsPortal() {
		if err := u.Portal.SetLocale(r.Context(), p.PortalAccountID, lang); err != nil {
			u.fail(w, r, err)
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: u.LangCookie, Value: lang, Path: "/", MaxAge: 365 * 24 * 3600,
		Secure: u.SecureCookies, SameSite: http.SameSiteLaxMode, HttpOnly: true})
	redirect(w, r, portal.SafeNext(r.PostFormValue("next")))
}
