package textindex

import "sort"

// Segment is a part of a text, matching a query or not. Concatenated, the
// segments of Highlight are the text; the caller renders them (the pages
// wrap a match in <mark>, escaping every segment as any other text).
type Segment struct {
	Text  string `json:"text"`
	Match bool   `json:"match,omitempty"`
}

// Highlight cuts text into segments where the pieces of query q occur, as
// the index compares them: case, full-width and combining marks aside;
// punctuation inside a piece of the query must be absent ("华强" does not
// mark 华·强); a word must start where a word starts and, except for the
// query's last word (a prefix), end where it ends ("cat" does not mark
// "concat"). It returns one unmatched segment when nothing matches, and
// nil for an empty text.
func Highlight(text, q string) []Segment {
	if text == "" {
		return nil
	}
	type span struct{ from, to int }
	var spans []span
	doc := split(text)
	pieces := split(q)
	for pi, qp := range pieces {
		lastPiece := pi == len(pieces)-1
		// Flatten the query piece's characters and note where word runs
		// start and end.
		var want []rune
		for _, r := range qp {
			want = append(want, r.chars...)
		}
		first, last := qp[0], qp[len(qp)-1]
		for _, dp := range doc {
			// The document piece's characters, classes and spans.
			var chars []rune
			var classes []class
			var starts, ends []int
			for _, r := range dp {
				for i, c := range r.chars {
					chars = append(chars, c)
					classes = append(classes, r.class)
					starts = append(starts, r.start[i])
					ends = append(ends, r.end[i])
				}
			}
			for i := 0; i+len(want) <= len(chars); i++ {
				if !equalRunes(chars[i:i+len(want)], want) {
					continue
				}
				j := i + len(want) // one past the match
				// A word of the query starts a word of the text.
				if first.class != cjk && i > 0 && classes[i-1] == first.class {
					continue
				}
				// And ends one, unless it is the last word typed (a prefix)
				// or cut at maxWord.
				prefix := lastPiece && len(last.chars) >= 2 || len(last.chars) >= maxWord
				if last.class != cjk && !prefix && j < len(chars) && classes[j] == last.class {
					continue
				}
				spans = append(spans, span{starts[i], ends[j-1]})
			}
		}
	}
	if len(spans) == 0 {
		return []Segment{{Text: text}}
	}
	sort.Slice(spans, func(a, b int) bool { return spans[a].from < spans[b].from })
	var out []Segment
	at := 0
	cur := spans[0]
	emit := func(s span) {
		if s.from > at {
			out = append(out, Segment{Text: text[at:s.from]})
		}
		out = append(out, Segment{Text: text[s.from:s.to], Match: true})
		at = s.to
	}
	for _, s := range spans[1:] {
		if s.from <= cur.to {
			cur.to = max(cur.to, s.to)
			continue
		}
		emit(cur)
		cur = s
	}
	emit(cur)
	if at < len(text) {
		out = append(out, Segment{Text: text[at:]})
	}
	return out
}

func equalRunes(a, b []rune) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
