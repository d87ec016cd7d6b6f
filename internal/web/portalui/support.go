package portalui

import (
	"net/http"
	"strings"

	"github.com/careloop/careloop/internal/i18n"
	"github.com/careloop/careloop/internal/portal"
	"github.com/careloop/careloop/internal/web/httpx"
)

// The public web form, embeddable in any site: this route alone may be
// framed by any origin (frame-ancestors *); everything else keeps 'none'.

// HoneypotField is the form field people never see and bots fill in.
const HoneypotField = "website"

type supportData struct {
	Name, Email, Phone, Subject, Description string
	Lang                                     string
	Result                                   *portal.SupportResult
	Promise                                  string // when the first answer is promised
}

// embeddable lets any site frame the answer: the site's policy (set on
// every answer before the handler runs) with frame-ancestors * instead of
// 'none', and no X-Frame-Options.
func embeddable(w http.ResponseWriter) {
	h := w.Header()
	csp := h.Get("Content-Security-Policy")
	if csp == "" {
		csp = "default-src 'self'; frame-ancestors 'none'"
	}
	h.Set("Content-Security-Policy", strings.Replace(csp, "frame-ancestors 'none'", "frame-ancestors *", 1))
	h.Del("X-Frame-Options")
}

// supportLang is ?lang= (or the form's lang), else the request's: in a
// frame on another site our language cookie may not stick.
func supportLang(r *http.Request) *http.Request {
	if l := i18n.Normalize(r.FormValue("lang")); l != "" {
		return r.WithContext(httpx.WithLang(r.Context(), l))
	}
	return r
}

func (u *UI) supportPage(r *http.Request, d *supportData) *Page {
	p := u.page(r, "portal.support.title", d)
	p.Public, p.User = true, nil
	d.Lang = p.Lang
	other := i18n.English
	if p.Lang == i18n.English {
		other = i18n.Default
	}
	p.LangHref = "/support/new?lang=" + other
	return p
}

func (u *UI) supportForm(w http.ResponseWriter, r *http.Request) {
	embeddable(w)
	r = supportLang(r)
	u.render(w, r, http.StatusOK, "support", u.supportPage(r, &supportData{}))
}

func (u *UI) support(w http.ResponseWriter, r *http.Request) {
	embeddable(w)
	r = supportLang(r)
	f := r.PostFormValue
	d := &supportData{Name: f("name"), Email: f("email"), Phone: f("phone"), Subject: f("subject"), Description: f("description")}
	p := u.supportPage(r, d)
	if strings.TrimSpace(f(HoneypotField)) != "" {
		// A bot: it is thanked like a person and nothing is recorded.
		d.Result = &portal.SupportResult{}
		u.render(w, r, http.StatusOK, "support", p)
		return
	}
	res, err := u.Portal.SubmitSupport(r.Context(), portal.SupportRequest{Name: d.Name, Email: d.Email, Phone: d.Phone,
		Subject: d.Subject, Description: d.Description, IP: httpx.ClientIP(r.Context()), Lang: p.Lang})
	if err != nil {
		u.refused(w, r, p, "support", err)
		return
	}
	d.Result = &res
	if d.Promise, err = u.promise(r, res.TicketID); err != nil {
		u.fail(w, r, err)
		return
	}
	u.render(w, r, http.StatusOK, "support", p)
}
