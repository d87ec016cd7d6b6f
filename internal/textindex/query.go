package textindex

import (
	"strings"

	"github.com/careloop/careloop/internal/db"
)

// A query holds at most maxPhrases phrases of at most maxPhraseTerms
// terms; the rest of a longer query is ignored by the index (Highlight
// still marks it).
const (
	maxPhrases     = 8
	maxPhraseTerms = 32
)

// Query is a parsed search: phrases that must all be in a document, each
// a run of adjacent terms.
type Query struct {
	phrases [][]token
}

// ParseQuery parses what a user typed. Every piece of the query between
// spaces or punctuation is a phrase that a document must contain: 换货 is
// the term 换货; 换货快递 the adjacent terms 换货 货快 快递 (a document with
// 换货 and 快递 apart does not match); "华为 P40" the phrases 华为 and
// p 40. A single CJK character matches any term it starts (张 finds 张伟 and
// 主张); the query's last word, when Latin or digits of two characters or
// more, is a prefix (as the user types: "erro" finds "error"). ok is false
// when nothing searchable is left (punctuation, emoji only).
func ParseQuery(q string) (Query, bool) {
	var out Query
	pieces := split(q)
	for pi, p := range pieces {
		if len(out.phrases) == maxPhrases {
			break
		}
		var ph []token
		for ri, r := range p {
			lastRun := ri == len(p)-1
			if r.class != cjk {
				t := token{text: string(r.chars[:min(len(r.chars), maxWord)])}
				t.prefix = lastRun && pi == len(pieces)-1 && len(r.chars) >= 2
				ph = append(ph, t)
				continue
			}
			n := len(r.chars)
			for i := 0; i+1 < n; i++ {
				ph = append(ph, token{text: string(r.chars[i : i+2])})
			}
			switch {
			case n == 1:
				// At the end of the piece the document's run may go on
				// (a bigram starting with the character); inside it, the
				// document's run ends there too (its unigram).
				ph = append(ph, token{text: string(r.chars), prefix: lastRun})
			case !lastRun:
				ph = append(ph, token{text: string(r.chars[n-1])})
			}
		}
		if len(ph) > maxPhraseTerms {
			ph = ph[:maxPhraseTerms]
			ph[len(ph)-1].prefix = false
		}
		out.phrases = append(out.phrases, ph)
	}
	return out, len(out.phrases) > 0
}

// Single tells whether the query is one exact term: a two-character CJK
// word such as 换货 or 小红, or one whole word. Such a query is one posting
// list of the index, the cheapest search there is.
func (q Query) Single() bool {
	return len(q.phrases) == 1 && len(q.phrases[0]) == 1 && !q.phrases[0][0].prefix
}

// Terms returns the query's phrases as lists of terms, a prefix term
// ending in '*'; for tests and logs.
func (q Query) Terms() [][]string {
	out := make([][]string, len(q.phrases))
	for i, ph := range q.phrases {
		for _, t := range ph {
			s := t.text
			if t.prefix {
				s += "*"
			}
			out[i] = append(out[i], s)
		}
	}
	return out
}

// Arg returns the query as the parameter of Index.Match / Index.IDs for
// dialect d: an FTS5 query ("换货 货快" AND "保修") on SQLite, a tsquery
// literal ('换货' <-> '货快' & '保修') on PostgreSQL.
func (q Query) Arg(d db.Dialect) string {
	var b strings.Builder
	for i, ph := range q.phrases {
		if d == db.Postgres {
			if i > 0 {
				b.WriteString(" & ")
			}
			b.WriteByte('(')
			for j, t := range ph {
				if j > 0 {
					b.WriteString(" <-> ")
				}
				writeLexeme(&b, t.text)
				if t.prefix {
					b.WriteString(":*")
				}
			}
			b.WriteByte(')')
			continue
		}
		if i > 0 {
			b.WriteString(" AND ")
		}
		b.WriteByte('"')
		for j, t := range ph {
			if j > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(t.text) // letters and digits only: nothing to quote
		}
		b.WriteByte('"')
		if ph[len(ph)-1].prefix {
			b.WriteByte('*')
		}
	}
	return b.String()
}
