package textindex

import (
	"strconv"
	"strings"

	"github.com/careloop/careloop/internal/db"
)

// fieldBreak separates the texts of a document on SQLite: a private-use
// character, a token to FTS5's unicode61 tokenizer that no query contains
// (the tokenizer here drops it), so no phrase runs from one text into the
// next.
const fieldBreak = "\uE000"

// PostgreSQL's tsvector limits: positions go up to 16383 (higher ones are
// clamped there) and a lexeme keeps at most 256 of them.
const (
	maxPos        = 16383
	maxLexemePos  = 256
	pgFieldGapPos = 2 // positions skipped between texts
)

// Terms returns the terms of a document made of texts, in order: what the
// index holds, whichever the database. Terms of different texts are never
// adjacent. Useful for tests and to see what a text is indexed as.
func Terms(texts ...string) []string {
	var out []string
	var toks []token
	for _, t := range texts {
		for _, p := range split(t) {
			for _, r := range p {
				toks = docTokens(r, toks[:0])
				for _, tk := range toks {
					out = append(out, tk.text)
				}
			}
		}
	}
	return out
}

// Document returns the index form of a document made of texts (a name; a
// subject and a description) for dialect d: on SQLite the terms separated
// by spaces, for an FTS5 table with the default unicode61 tokenizer; on
// PostgreSQL a tsvector literal with positions ('李小':1 '小红':2 '红':3),
// to be cast with ::tsvector (Put does). An empty text gives an empty
// document.
func Document(d db.Dialect, texts ...string) string {
	if d == db.Postgres {
		return pgDocument(texts)
	}
	var b strings.Builder
	var toks []token
	for i, t := range texts {
		if i > 0 && b.Len() > 0 {
			b.WriteString(" " + fieldBreak)
		}
		for _, p := range split(t) {
			for _, r := range p {
				toks = docTokens(r, toks[:0])
				for _, tk := range toks {
					if b.Len() > 0 {
						b.WriteByte(' ')
					}
					b.WriteString(tk.text)
				}
			}
		}
	}
	return b.String()
}

// pgDocument builds the tsvector literal. Past position 16383 positions
// wrap around to 1, so adjacent terms stay adjacent in long texts (a
// phrase that matches there may rarely be a false one, two terms meeting
// only through the wrap); a term met more than 256 times keeps its first
// 256 positions.
func pgDocument(texts []string) string {
	positions := map[string][]int{}
	var order []string
	pos := 0
	var toks []token
	for i, t := range texts {
		if i > 0 {
			pos += pgFieldGapPos
		}
		for _, p := range split(t) {
			for _, r := range p {
				toks = docTokens(r, toks[:0])
				for _, tk := range toks {
					pos++
					ps, seen := positions[tk.text]
					if !seen {
						order = append(order, tk.text)
					}
					if len(ps) < maxLexemePos {
						positions[tk.text] = append(ps, (pos-1)%maxPos+1)
					}
				}
			}
		}
	}
	var b strings.Builder
	for i, lex := range order {
		if i > 0 {
			b.WriteByte(' ')
		}
		writeLexeme(&b, lex)
		for j, p := range positions[lex] {
			if j == 0 {
				b.WriteByte(':')
			} else {
				b.WriteByte(',')
			}
			b.WriteString(strconv.Itoa(p))
		}
	}
	return b.String()
}

// writeLexeme writes a quoted lexeme of a tsvector or tsquery literal.
// Terms hold only letters and digits, but quote anyway.
func writeLexeme(b *strings.Builder, lex string) {
	b.WriteByte('\'')
	for _, r := range lex {
		switch r {
		case '\'':
			b.WriteString("''")
		case '\\':
			b.WriteString(`\\`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('\'')
}
