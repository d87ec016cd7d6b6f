package textindex

import (
	"unicode"
	"unicode/utf8"
)

// class is what a character is to the tokenizer.
type class uint8

const (
	sep    class = iota // space, punctuation, symbols, emoji, private use: ends a piece
	cjk                 // Han, kana, Hangul: indexed as overlapping bigrams
	letter              // other letters: words
	digit               // decimal digits: words of their own ("rtx4090" is rtx, 4090)
	mark                // combining marks: dropped, the word goes on
)

// maxWord caps a word's length in characters; longer words are indexed and
// searched by their first maxWord characters.
const maxWord = 32

// fold returns r as the index sees it (full-width ASCII as half-width,
// lower case) and its class.
func fold(r rune) (rune, class) {
	if r >= 0xFF01 && r <= 0xFF5E {
		r -= 0xFEE0
	}
	if r < utf8.RuneSelf {
		switch {
		case r >= 'a' && r <= 'z':
			return r, letter
		case r >= 'A' && r <= 'Z':
			return r + 'a' - 'A', letter
		case r >= '0' && r <= '9':
			return r, digit
		}
		return r, sep
	}
	switch {
	case unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul):
		return r, cjk
	case unicode.IsLetter(r):
		return unicode.ToLower(r), letter
	case unicode.Is(unicode.Nd, r):
		return r, digit
	case unicode.Is(unicode.Mn, r):
		return r, mark
	}
	return r, sep
}

// run is a maximal sequence of characters of one class (cjk, letter or
// digit) inside a piece: the folded characters and, for each, its byte
// span in the original text.
type run struct {
	class      class
	chars      []rune
	start, end []int
}

// piece is a maximal sequence of runs not broken by a separator: "a座物业"
// is one piece of two runs, "华为 P40" two pieces.
type piece []run

// split cuts text into pieces.
func split(text string) []piece {
	var out []piece
	var cur piece
	flush := func() {
		if len(cur) > 0 {
			out = append(out, cur)
			cur = nil
		}
	}
	for i, r := range text {
		f, c := fold(r)
		switch c {
		case sep:
			flush()
			continue
		case mark:
			if n := len(cur); n > 0 {
				last := &cur[n-1]
				last.end[len(last.end)-1] = i + utf8.RuneLen(r)
			}
			continue
		}
		if n := len(cur); n == 0 || cur[n-1].class != c {
			cur = append(cur, run{class: c})
		}
		last := &cur[len(cur)-1]
		last.chars = append(last.chars, f)
		last.start = append(last.start, i)
		last.end = append(last.end, i+utf8.RuneLen(r))
	}
	flush()
	return out
}

// token is one term with its place among the terms of its text.
type token struct {
	text   string
	prefix bool // query only: matches any term starting with text
}

// docTokens returns the terms of a run as a document holds them: a word
// as itself; a CJK run as its overlapping bigrams followed by its last
// character alone (张, or 李小 小红 红 for 李小红), so that every character
// starts some term (a one-character search is a prefix search) and a run
// of one character is its unigram.
func docTokens(r run, out []token) []token {
	if r.class != cjk {
		return append(out, token{text: string(r.chars[:min(len(r.chars), maxWord)])})
	}
	for i := 0; i+1 < len(r.chars); i++ {
		out = append(out, token{text: string(r.chars[i : i+2])})
	}
	return append(out, token{text: string(r.chars[len(r.chars)-1])})
}
