package tickets

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/careloop/careloop/internal/textindex"
)

// A snippet shows up to snippetBefore characters before the first match
// and snippetLen characters in all.
const (
	snippetBefore = 20
	snippetLen    = 100
)

// highlight fills the Highlight of a page of search hits: the subject and
// customer name as segments, and a snippet of the description, else of the
// first message (oldest first) that matched; when only a note matched,
// SnippetFrom says "note" and no text of it is given. Messages and notes
// are read only for the tickets whose description did not match.
func (s *Store) highlight(ctx context.Context, items []Ticket, q string) error {
	var need []int64
	at := map[int64]int{}
	for i := range items {
		t := &items[i]
		h := &Highlight{Subject: textindex.Highlight(t.Subject, q)}
		if c := textindex.Highlight(t.CustomerName, q); marked(c) {
			h.Customer = c
		}
		if sn := snippet(t.Description, q); sn != nil {
			h.Snippet, h.SnippetFrom = sn, "description"
		} else {
			need = append(need, t.ID)
			at[t.ID] = i
		}
		t.Highlight = h
	}
	if len(need) == 0 {
		return nil
	}
	a := &args{}
	ph := make([]string, len(need))
	for i, id := range need {
		ph[i] = a.add(id)
	}
	in := strings.Join(ph, ", ")
	rows, err := s.db.ShapedQ(ctx).QueryContext(ctx, `SELECT ticket_id, k, body FROM (
		SELECT ticket_id, 0 AS k, id, body FROM ticket_messages WHERE ticket_id IN (`+in+`)
		UNION ALL SELECT ticket_id, 1 AS k, id, body FROM ticket_notes WHERE ticket_id IN (`+in+`)) AS x ORDER BY ticket_id, k, id`, a.list...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var k int
		var body string
		if err := rows.Scan(&id, &k, &body); err != nil {
			return err
		}
		h := items[at[id]].Highlight
		if h.SnippetFrom != "" {
			continue
		}
		if sn := snippet(body, q); sn != nil {
			h.Snippet, h.SnippetFrom = sn, "message"
			if k == 1 {
				// A note's text stays in the staff thread (docs/tickets.md):
				// the list says only that a note matched.
				h.Snippet, h.SnippetFrom = nil, "note"
			}
		}
	}
	return rows.Err()
}

func marked(segs []textindex.Segment) bool {
	for _, sg := range segs {
		if sg.Match {
			return true
		}
	}
	return false
}

// snippet cuts text around its first match of q, on one line, with … where
// it was cut; nil when nothing in text matches.
func snippet(text, q string) []textindex.Segment {
	segs := textindex.Highlight(text, q)
	first := -1
	for i, sg := range segs {
		if sg.Match {
			first = i
			break
		}
	}
	if first < 0 {
		return nil
	}
	var out []textindex.Segment
	if first > 0 {
		before := oneLine(segs[first-1].Text)
		for i := first - 2; i >= 0; i-- {
			before = oneLine(segs[i].Text) + before
		}
		if n := utf8.RuneCountInString(before); n > snippetBefore {
			r := []rune(before)
			before = "…" + string(r[n-snippetBefore:])
		}
		out = append(out, textindex.Segment{Text: before})
	}
	left := snippetLen
	for _, sg := range segs[first:] {
		t := oneLine(sg.Text)
		n := utf8.RuneCountInString(t)
		switch {
		case left <= 0:
			return append(out, textindex.Segment{Text: "…"})
		case n > left && !sg.Match:
			return append(out, textindex.Segment{Text: string([]rune(t)[:left]) + "…"})
		}
		out = append(out, textindex.Segment{Text: t, Match: sg.Match})
		left -= n
	}
	return out
}

// oneLine turns line breaks and tabs into spaces.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '\n', '\r', '\t':
			return ' '
		}
		return r
	}, s)
}
