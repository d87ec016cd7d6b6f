package textindex

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/careloop/careloop/internal/db"
)

func TestTerms(t *testing.T) {
	for _, c := range []struct {
		texts []string
		want  string
	}{
		{[]string{"李小红"}, "李小 小红 红"},
		{[]string{"张"}, "张"},
		{[]string{"深圳华强电子有限公司"}, "深圳 圳华 华强 强电 电子 子有 有限 限公 公司 司"},
		// Latin lower-cased, letters and digits apart, punctuation and emoji
		// break, full-width folded.
		{[]string{"华为P40 Pro：黑屏！"}, "华为 为 p 40 pro 黑屏 屏"},
		{[]string{"ＡＢＣ科技（深圳）"}, "abc 科技 技 深圳 圳"},
		{[]string{"RTX4090显卡🙂异响"}, "rtx 4090 显卡 卡 异响 响"},
		{[]string{"华·强", "Café"}, "华 强 café"},
		{[]string{"e\u0301cole"}, "école"[:0] + "e" + "cole"}, // a combining mark is dropped
		{[]string{"", "  ", "！？"}, ""},
		{[]string{"ひらがなカタカナ한국어"}, "ひら らが がな なカ カタ タカ カナ ナ한 한국 국어 어"},
	} {
		got := strings.Join(Terms(c.texts...), " ")
		if got != c.want {
			t.Errorf("Terms(%q) = %q, want %q", c.texts, got, c.want)
		}
	}
	long := strings.Repeat("x", 100)
	if got := Terms(long); len(got) != 1 || len(got[0]) != maxWord {
		t.Errorf("a long word: %q", got)
	}
}

func TestDocument(t *testing.T) {
	if got, want := Document(db.SQLite, "李小红", "保修"), "李小 小红 红 \uE000 保修 修"; got != want {
		t.Errorf("sqlite: %q, want %q", got, want)
	}
	if got, want := Document(db.Postgres, "红红火火", "it's"), "'红红':1 '红火':2 '火火':3 '火':4 'it':7 's':8"; got != want {
		t.Errorf("postgres: %q, want %q", got, want)
	}
	// A lexeme keeps 256 positions; positions wrap past 16383.
	doc := Document(db.Postgres, strings.Repeat("好 ", 300))
	if n := strings.Count(doc, ","); n != maxLexemePos-1 {
		t.Errorf("positions kept: %d", n+1)
	}
	var b strings.Builder
	for i := range maxPos + 10 {
		fmt.Fprintf(&b, "w%d ", i)
	}
	if doc := Document(db.Postgres, b.String()); !strings.Contains(doc, " '16383':") || strings.Contains(doc, ":16384") {
		t.Errorf("wrap: ...%s", doc[len(doc)-200:])
	}
}

func TestParseQuery(t *testing.T) {
	for q, want := range map[string]string{
		"换货":          "[[换货]]",
		"换货快递":        "[[换货 货快 快递]]",
		"张":           "[[张*]]",
		"华为 P40":      "[[华为] [p 40*]]",
		"a座":          "[[a 座*]]",
		"座b":          "[[座 b]]",
		"座物b":         "[[座物 物 b]]",
		"error":       "[[error*]]",
		"e":           "[[e]]",
		"黑屏，异响":       "[[黑屏] [异响]]",
		"ＡＢＣ１２３":      "[[abc 123*]]",
		"🙂🙂":          "[]",
		"  ":          "[]",
		"RTX4090 黑屏 ": "[[rtx 4090] [黑屏]]",
	} {
		pq, ok := ParseQuery(q)
		if got := fmt.Sprint(pq.Terms()); got != want || ok != (want != "[]") {
			t.Errorf("ParseQuery(%q) = %s %v, want %s", q, got, ok, want)
		}
	}
	pq, _ := ParseQuery("华为 P40手机")
	if got, want := pq.Arg(db.SQLite), `"华为" AND "p 40 手机"`; got != want {
		t.Errorf("sqlite arg %q, want %q", got, want)
	}
	if got, want := pq.Arg(db.Postgres), `('华为') & ('p' <-> '40' <-> '手机')`; got != want {
		t.Errorf("postgres arg %q, want %q", got, want)
	}
	pq, _ = ParseQuery("a座")
	if got, want := pq.Arg(db.SQLite), `"a 座"*`; got != want {
		t.Errorf("sqlite prefix arg %q, want %q", got, want)
	}
	if got, want := pq.Arg(db.Postgres), `('a' <-> '座':*)`; got != want {
		t.Errorf("postgres prefix arg %q, want %q", got, want)
	}
	for q, single := range map[string]bool{"小红": true, "张": false, "换货快递": false, "e": true, "error": false, "小红 小明": false} {
		pq, _ := ParseQuery(q)
		if pq.Single() != single {
			t.Errorf("Single(%q) = %v", q, !single)
		}
	}
}

func marks(segs []Segment) string {
	var b strings.Builder
	for _, s := range segs {
		if s.Match {
			b.WriteString("[" + s.Text + "]")
		} else {
			b.WriteString(s.Text)
		}
	}
	return b.String()
}

func TestHighlight(t *testing.T) {
	for _, c := range []struct{ text, q, want string }{
		{"深圳华强电子有限公司", "华强", "深圳[华强]电子有限公司"},
		{"李小红", "小红", "李[小红]"},
		{"华X强电子", "华强", "华X强电子"},
		{"华·强", "华强", "华·强"},
		{"申请换货，快递已寄出；再次换货", "换货", "申请[换货]，快递已寄出；再次[换货]"},
		{"换货快递", "换货 快递", "[换货快递]"},
		{"ＡＢＣ科技", "abc", "[ＡＢＣ]科技"},
		{"Error E04 errors", "error", "[Error] E04 [error]s"},
		{"concat the cat", "cat the", "concat [the] [cat]"},
		{"手机🙂黑屏", "黑屏", "手机🙂[黑屏]"},
		{"华为P40黑屏", "p40", "华为[P40]黑屏"},
		{"école", "ecole", "école"},
		{"nothing", "", "nothing"},
		{"aaaa", "aa", "[aa]aa"}, {"aa aab", "aa", "[aa] [aa]b"},
	} {
		segs := Highlight(c.text, c.q)
		if got := marks(segs); got != c.want {
			t.Errorf("Highlight(%q, %q) = %q, want %q", c.text, c.q, got, c.want)
		}
		var whole strings.Builder
		for _, s := range segs {
			whole.WriteString(s.Text)
		}
		if whole.String() != c.text {
			t.Errorf("Highlight(%q, %q) loses text: %q", c.text, c.q, whole.String())
		}
	}
	if Highlight("", "x") != nil {
		t.Error("empty text")
	}
	if got := Highlight("李小红", "小红"); !reflect.DeepEqual(got, []Segment{{Text: "李"}, {Text: "小红", Match: true}}) {
		t.Errorf("segments %#v", got)
	}
}
