package attachments

import (
	"path"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxNameChars bounds a stored file name.
const MaxNameChars = 200

// fallbackName names a file whose name has nothing left after cleaning.
const fallbackName = "attachment"

// CleanName makes an uploaded file's name safe to store and to offer for
// download: the last element of any path (either separator), valid UTF-8
// without control or bidirectional-override characters, without the
// characters Windows forbids in names, without leading or trailing dots and
// spaces, and at most MaxNameChars characters (the extension kept).
func CleanName(s string) string {
	s = strings.ToValidUTF8(s, "")
	if i := strings.LastIndexAny(s, `/\`); i >= 0 {
		s = s[i+1:]
	}
	s = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsControl(r), unicode.Is(unicode.Bidi_Control, r), r == utf8.RuneError,
			r == '\u200b', r == '\ufeff':
			return -1
		case strings.ContainsRune(`<>:"|?*`, r):
			return '_'
		case unicode.IsSpace(r):
			return ' '
		}
		return r
	}, s)
	s = strings.Trim(s, ". ")
	if s == "" {
		return fallbackName
	}
	if utf8.RuneCountInString(s) > MaxNameChars {
		ext := path.Ext(s)
		if utf8.RuneCountInString(ext) > 16 {
			ext = ""
		}
		stem := []rune(strings.TrimSuffix(s, ext))
		s = strings.TrimRight(string(stem[:MaxNameChars-utf8.RuneCountInString(ext)]), ". ") + ext
	}
	return s
}

// extOf is the lower-case extension of a cleaned name, without the dot.
func extOf(name string) string {
	return strings.ToLower(strings.TrimPrefix(path.Ext(name), "."))
}
