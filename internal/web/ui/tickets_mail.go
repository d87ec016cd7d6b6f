package ui

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"

	"github.com/careloop/careloop/internal/email"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/web/httpx"
)

// A customer's message that came by mail shows, under its text, the
// attachments that were not kept and why, and a "show original formatting"
// button when the mail had HTML. The HTML (sanitised at intake) is served
// by /tickets/{id}/messages/{mid}/mail through the ticket's scope, as a
// document of its own for a sandboxed iframe: no scripts, no forms, no
// requests but data: images, under a CSP of its own. Remote images are held
// back (data-src) until the agent clicks "load images", which loads the
// frame again with ?images=1: only then may images come from the web, with
// no referrer. static/mail_view.js does the clicks; without it the two
// buttons are links that open the same documents in a new tab.

// mailPost is what a message shows of its mail.
type mailPost struct {
	URL     string
	HTML    bool
	Images  bool     // remote images are held back
	Refused []string // the attachments not kept, said in the viewer's language
}

// mailFrameStyle is the mail document's only style, allowed by its hash.
const mailFrameStyle = `body{font:14px/1.6 system-ui,"PingFang SC","Microsoft YaHei","Noto Sans CJK SC",sans-serif;margin:8px;color:#1f2328;word-break:break-word}img{max-width:100%;height:auto}img.remote-image{display:inline-block;min-width:1em;min-height:1em;outline:1px dashed #aab}blockquote{margin:0 0 0 .5em;padding-left:.75em;border-left:3px solid #d0d7de;color:#57606a}table{max-width:100%}`

var mailFrameStyleHash = func() string {
	sum := sha256.Sum256([]byte(mailFrameStyle))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}()

func (u *UI) ticketMailRoutes() []httpx.Route {
	return []httpx.Route{
		{Method: "GET", Path: "/tickets/{id}/messages/{mid}/mail", Perm: identity.Authenticated, Handler: u.ticketMail},
	}
}

// mailPosts fills in the mail of the customer messages that came by mail.
func (u *UI) mailPosts(r *http.Request, ticketID int64, d *ticketPage) error {
	if u.Mailboxes == nil {
		return nil
	}
	var ids []int64
	for _, p := range d.Posts {
		if p.Kind == "customer" {
			ids = append(ids, p.ID)
		}
	}
	views, err := u.Mailboxes.MailOf(r.Context(), ids)
	if err != nil || len(views) == 0 {
		return err
	}
	lang := httpx.Lang(r)
	for i, p := range d.Posts {
		v, ok := views[p.ID]
		if p.Kind != "customer" || !ok {
			continue
		}
		m := &mailPost{URL: fmt.Sprintf("/tickets/%d/messages/%d/mail", ticketID, p.ID), HTML: v.HTML, Images: v.RemoteImages}
		for _, f := range v.Refused {
			params := map[string]any{}
			for k, val := range f.Params {
				params[k] = val
			}
			params["Name"] = f.Name
			m.Refused = append(m.Refused, u.Cat.T(lang, f.Key, params))
		}
		if m.HTML || len(m.Refused) > 0 {
			d.Posts[i].Mail = m
		}
	}
	return nil
}

// ticketMail serves a mail's sanitised HTML for the sandboxed frame.
func (u *UI) ticketMail(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.fail(w, r, err)
		return
	}
	mid, err := httpx.PathID(r, "mid")
	if err != nil {
		u.fail(w, r, err)
		return
	}
	if err := u.Tickets.Visible(r.Context(), httpx.Principal(r), id); err != nil {
		u.fail(w, r, err)
		return
	}
	html, err := u.Mailboxes.MailHTML(r.Context(), id, mid)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	img := "data:"
	if r.URL.Query().Get("images") == "1" {
		html, img = email.ShowImages(html), "data: https: http:"
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "sandbox allow-popups allow-popups-to-escape-sandbox; default-src 'none'; img-src "+img+
		"; style-src "+mailFrameStyleHash+"; base-uri 'none'; form-action 'none'; frame-ancestors 'self'")
	h.Set("X-Frame-Options", "SAMEORIGIN")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "private, no-store")
	_, _ = fmt.Fprintf(w, "<!doctype html><html lang=\"%s\"><head><meta charset=\"utf-8\"><meta name=\"referrer\" content=\"no-referrer\"><style>%s</style></head><body>%s</body></html>",
		httpx.Lang(r), mailFrameStyle, html)
}
