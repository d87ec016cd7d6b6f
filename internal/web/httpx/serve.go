package httpx

import (
	"io"
	"net/http"
	"strings"

	"github.com/careloop/careloop/internal/attachments"
)

// ServeAttachment answers with an attachment's bytes (which it closes) so
// that a browser never runs them: Content-Disposition attachment with the
// name in RFC 5987 form (Chinese names survive), the Content-Type found
// from the content (text is text/plain, never text/html), nosniff, and a
// sandbox CSP with nothing allowed. With ?preview=1 a PNG, JPEG, GIF or WebP
// image is sent inline for a preview, under the same headers; any other
// type, SVG included (which is never stored), still downloads. Range and
// conditional requests are answered by http.ServeContent, with the
// checksum as ETag.
func ServeAttachment(w http.ResponseWriter, r *http.Request, a attachments.Attachment, rc io.ReadSeekCloser) {
	defer rc.Close()
	disposition := "attachment"
	if r.URL.Query().Get("preview") == "1" && a.Previewable() {
		disposition = "inline"
	}
	h := w.Header()
	ct := a.ContentType
	if ct == "" || strings.Contains(ct, "html") || strings.Contains(ct, "svg") || strings.Contains(ct, "xml") {
		ct = "application/octet-stream"
	}
	h.Set("Content-Type", ct)
	h.Set("Content-Disposition", ContentDisposition(disposition, a.Filename))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Cache-Control", "private, no-cache")
	h.Set("ETag", `"`+a.SHA256+`"`)
	http.ServeContent(w, r, "", a.CreatedAt, rc)
}

// ContentDisposition is a Content-Disposition header value for a file name
// in any language: an ASCII fallback in filename= for old clients and the
// UTF-8 name in filename*= (RFC 6266, RFC 5987).
func ContentDisposition(disposition, name string) string {
	var ascii, ext strings.Builder
	for _, r := range name {
		switch {
		case r < 0x20 || r == 0x7f:
		case r >= 0x80 || r == '"' || r == '\\' || r == '%' || r == ';':
			ascii.WriteByte('_')
		default:
			ascii.WriteRune(r)
		}
	}
	for _, b := range []byte(name) {
		if attrChar(b) {
			ext.WriteByte(b)
		} else {
			const hexDigits = "0123456789ABCDEF"
			ext.WriteByte('%')
			ext.WriteByte(hexDigits[b>>4])
			ext.WriteByte(hexDigits[b&15])
		}
	}
	return disposition + `; filename="` + ascii.String() + `"; filename*=UTF-8''` + ext.String()
}

// attrChar is RFC 5987's attr-char: what filename*= may carry unescaped.
func attrChar(b byte) bool {
	switch {
	case b >= 'a' && b <= 'z', b >= 'A' && b <= 'Z', b >= '0' && b <= '9':
		return true
	}
	return strings.IndexByte("!#$&+-.^_`|~", b) >= 0
}
