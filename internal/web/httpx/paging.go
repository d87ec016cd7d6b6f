package httpx

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"

	"github.com/careloop/careloop/internal/domain"
)

// Page is a page of a list answer.
type Page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// Limit reads ?limit= (default def, at most 200).
func Limit(r *http.Request, def int) (int, error) {
	s := r.URL.Query().Get("limit")
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 200 {
		return 0, domain.Invalid("limit", "validation.range", map[string]any{"Min": 1, "Max": 200})
	}
	return n, nil
}

// EncodeCursor makes an opaque cursor from a position.
func EncodeCursor(pos int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("p" + strconv.FormatInt(pos, 10)))
}

// DecodeCursor reads ?cursor= back into a position (0 when absent).
func DecodeCursor(r *http.Request) (int64, error) {
	s := r.URL.Query().Get("cursor")
	if s == "" {
		return 0, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil && strings.HasPrefix(string(raw), "p") {
		if n, err := strconv.ParseInt(string(raw[1:]), 10, 64); err == nil && n >= 0 {
			return n, nil
		}
	}
	return 0, domain.Invalid("cursor", "validation.cursor", nil)
}

// PageOf pages an in-memory list (for small sets such as roles and teams).
func PageOf[T any](r *http.Request, all []T) (Page[T], error) {
	limit, err := Limit(r, 50)
	if err != nil {
		return Page[T]{}, err
	}
	off, err := DecodeCursor(r)
	if err != nil {
		return Page[T]{}, err
	}
	if off > int64(len(all)) {
		off = int64(len(all))
	}
	end := min(int(off)+limit, len(all))
	p := Page[T]{Items: all[off:end]}
	if p.Items == nil {
		p.Items = []T{}
	}
	if end < len(all) {
		p.NextCursor = EncodeCursor(int64(end))
	}
	return p, nil
}

// ETag is the entity tag of a resource version.
func ETag(version int) string { return `"v` + strconv.Itoa(version) + `"` }

// IfMatch reads the If-Match header as a version: 0 when absent or "*". A
// header that is none of our tags can never match, so it is -1 (a 412). Of a
// list of tags, the newest version is the one that can still match.
func IfMatch(r *http.Request) int {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	if h == "" || h == "*" {
		return 0
	}
	best := -1
	for _, tag := range strings.Split(h, ",") {
		tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
		if n, err := strconv.Atoi(strings.TrimPrefix(strings.Trim(tag, `"`), "v")); err == nil && n > 0 && n > best {
			best = n
		}
	}
	return best
}
