package customers

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mozillazg/go-pinyin"
)

// NameKeys are the pinyin search keys of a name. Full is the toneless full
// pinyin ("zhangwei"), Initials the first letters ("zw"). Latin letters and
// digits are kept as they are (lower-cased), other symbols are dropped:
// "ABC科技(深圳)" → "abckejishenzhen" / "abckjsz". When the name starts with a
// known polyphonic surname whose surname reading differs from the common
// one, Full and Initials use the surname reading and AltFull/AltInitials the
// common one (曾 → "zeng…"/"ceng…"), so both spellings find the customer;
// otherwise the Alt fields are "".
type NameKeys struct {
	Full, Initials       string
	AltFull, AltInitials string
}

// Terms returns the distinct non-empty keys joined by single spaces, ready
// to store in a search column.
func (k NameKeys) Terms() string {
	all := [4]string{k.Full, k.Initials, k.AltFull, k.AltInitials}
	var b strings.Builder
	b.Grow(len(k.Full) + len(k.Initials) + len(k.AltFull) + len(k.AltInitials) + 3)
outer:
	for i, s := range all {
		if s == "" {
			continue
		}
		for _, t := range all[:i] {
			if t == s {
				continue outer
			}
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s)
	}
	return b.String()
}

// surnameReadings holds surnames whose usual reading as a surname differs
// (without tones) from go-pinyin's first reading of the character.
var surnameReadings = map[rune]string{
	'曾': "zeng", '单': "shan", '解': "xie", '仇': "qiu", '朴': "piao",
	'查': "zha", '区': "ou", '盖': "ge", '乐': "yue", '覃': "qin",
	'翟': "zhai", '种': "chong", '秘': "bi", '员': "yun", '缪': "miao",
	'召': "shao", '阚': "kan", '祭': "zhai", '句': "gou", '折': "she",
	'隗': "wei", '能': "nai", '宓': "fu", '蕃': "pi", '尉': "yu",
	'繁': "po", '黑': "he",
}

// compoundSurnames are two-character surnames read differently from their
// characters' common readings.
var compoundSurnames = map[[2]rune][2]string{
	{'万', '俟'}: {"mo", "qi"},
	{'尉', '迟'}: {"yu", "chi"},
	{'单', '于'}: {"chan", "yu"},
	{'澹', '台'}: {"tan", "tai"},
	{'长', '孙'}: {"zhang", "sun"},
}

// phraseReadings fixes frequent words in company and place names where the
// common reading of a character is the wrong one (银行 is yinhang, not
// yinxing). Small on purpose: go-pinyin has no phrase dictionary.
var phraseReadings = map[[2]rune][2]string{
	{'银', '行'}: {"yin", "hang"}, {'分', '行'}: {"fen", "hang"},
	{'支', '行'}: {"zhi", "hang"}, {'总', '行'}: {"zong", "hang"},
	{'商', '行'}: {"shang", "hang"}, {'车', '行'}: {"che", "hang"},
	{'行', '业'}: {"hang", "ye"}, {'重', '庆'}: {"chong", "qing"},
	{'长', '沙'}: {"chang", "sha"}, {'长', '城'}: {"chang", "cheng"},
	{'长', '春'}: {"chang", "chun"}, {'长', '江'}: {"chang", "jiang"},
	{'长', '安'}: {"chang", "an"}, {'长', '虹'}: {"chang", "hong"},
	{'成', '都'}: {"cheng", "du"}, {'首', '都'}: {"shou", "du"},
	{'厦', '门'}: {"xia", "men"}, {'音', '乐'}: {"yin", "yue"},
	{'乐', '器'}: {"yue", "qi"}, {'蚌', '埠'}: {"beng", "bu"},
	{'会', '计'}: {"kuai", "ji"}, {'朝', '阳'}: {"chao", "yang"},
}

// toneless maps the toned vowels go-pinyin uses to plain letters (ü → v,
// as pinyin input methods type it).
var toneless = map[rune]byte{
	'ā': 'a', 'á': 'a', 'ǎ': 'a', 'à': 'a',
	'ē': 'e', 'é': 'e', 'ě': 'e', 'è': 'e', 'ê': 'e',
	'ō': 'o', 'ó': 'o', 'ǒ': 'o', 'ò': 'o',
	'ī': 'i', 'í': 'i', 'ǐ': 'i', 'ì': 'i',
	'ū': 'u', 'ú': 'u', 'ǔ': 'u', 'ù': 'u',
	'ü': 'v', 'ǖ': 'v', 'ǘ': 'v', 'ǚ': 'v', 'ǜ': 'v',
	'ń': 'n', 'ň': 'n', 'ǹ': 'n', 'ḿ': 'm',
}

// writeReading appends the toneless first reading of Han character r and
// reports whether it had one.
func writeReading(full, ini *strings.Builder, r rune) bool {
	py, ok := pinyin.PinyinDict[int(r)]
	if !ok || py == "" {
		return false
	}
	if i := strings.IndexByte(py, ','); i >= 0 {
		py = py[:i]
	}
	first := true
	for _, c := range py {
		var b byte
		if c < utf8.RuneSelf {
			b = byte(c)
		} else if t, ok := toneless[c]; ok {
			b = t
		} else {
			continue
		}
		full.WriteByte(b)
		if first {
			ini.WriteByte(b)
			first = false
		}
	}
	return true
}

func writeSyllable(full, ini *strings.Builder, s string) {
	full.WriteString(s)
	ini.WriteByte(s[0])
}

// NameSearchKeys returns the pinyin search keys of a customer or company
// name. Apart from the returned strings it does not allocate.
func NameSearchKeys(name string) NameKeys {
	name = strings.TrimSpace(name)
	var surname [2]string
	n := 0
	if r, size := utf8.DecodeRuneInString(name); unicode.Is(unicode.Han, r) {
		next, _ := utf8.DecodeRuneInString(name[size:])
		if s, ok := compoundSurnames[[2]rune{r, next}]; ok {
			surname, n = s, 2
		} else if s, ok := surnameReadings[r]; ok {
			surname[0], n = s, 1
		}
	}
	full, ini := buildKeys(name, surname, n)
	k := NameKeys{Full: full, Initials: ini}
	if n > 0 {
		if cf, ci := buildKeys(name, surname, 0); cf != full {
			k.AltFull, k.AltInitials = cf, ci
		}
	}
	return k
}

// buildKeys writes the full pinyin and the initials of name, reading its
// first nsurname characters as surname.
func buildKeys(name string, surname [2]string, nsurname int) (string, string) {
	var full, ini strings.Builder
	full.Grow(len(name) * 2)
	ini.Grow(len(name) / 2)
	var pending string // reading of the next Han character, from a phrase
	han := 0           // Han characters seen so far
	for i, r := range name {
		if r >= 0xFF01 && r <= 0xFF5E { // full-width ASCII
			r -= 0xFEE0
		}
		switch {
		case r < utf8.RuneSelf:
			c := byte(r)
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			if (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') {
				full.WriteByte(c)
				ini.WriteByte(c)
			}
			pending = ""
		case unicode.Is(unicode.Han, r):
			han++
			switch {
			case han <= nsurname:
				writeSyllable(&full, &ini, surname[han-1])
			case pending != "":
				writeSyllable(&full, &ini, pending)
				pending = ""
			default:
				next, _ := utf8.DecodeRuneInString(name[i+utf8.RuneLen(r):])
				if s, ok := phraseReadings[[2]rune{r, next}]; ok {
					writeSyllable(&full, &ini, s[0])
					pending = s[1]
				} else {
					writeReading(&full, &ini, r)
				}
			}
		default:
			pending = ""
		}
	}
	return full.String(), ini.String()
}

// QueryKind is what a search-box query looks like.
type QueryKind uint8

// The kinds of search query, from ClassifyQuery.
const (
	QueryEmpty          QueryKind = iota
	QueryGeneric                  // none of the below: search names and numbers by substring
	QueryPhoneSuffix              // exactly four digits: the last four of a phone
	QueryPhone                    // a complete valid phone number; Text is its canonical form
	QueryCustomerNumber           // 9–15 digits beginning with a plausible YYYYMM
	QueryEmail                    // contains '@'
	QueryPinyin                   // ASCII letters only: full pinyin or initials
	QueryName                     // contains Han characters
)

var queryKindNames = [...]string{"empty", "generic", "phone_suffix", "phone", "customer_number", "email", "pinyin", "name"}

// String returns the kind's snake_case name.
func (k QueryKind) String() string {
	if int(k) < len(queryKindNames) {
		return queryKindNames[k]
	}
	return "unknown"
}

// Query is a classified, normalised search query.
type Query struct {
	Kind QueryKind
	// Text is the normalised query: trimmed, full-width ASCII folded to
	// half-width, whitespace runs collapsed to one space, ASCII lower-cased;
	// pinyin and email without spaces; a phone in canonical form.
	Text string
}

// ClassifyQuery says what the search box received. It allocates only when
// the query needs rewriting (full-width characters, capitals, extra spaces).
func ClassifyQuery(q string) Query {
	t := normaliseQuery(q)
	if t == "" {
		return Query{Kind: QueryEmpty}
	}
	var digits, letters, spaces, han, phoneSeps, other int
	at := false
	for _, r := range t {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r >= 'a' && r <= 'z':
			letters++
		case r == ' ':
			spaces++
		case r == '@':
			at = true
		case r == '-' || r == '(' || r == ')' || r == '+' || r == '.':
			phoneSeps++
		case r >= utf8.RuneSelf && unicode.Is(unicode.Han, r):
			han++
		default:
			other++
		}
	}
	n := len(t)
	switch {
	case at:
		return Query{Kind: QueryEmail, Text: withoutSpaces(t)}
	case digits == n:
		switch {
		case n == 4:
			return Query{Kind: QueryPhoneSuffix, Text: t}
		case n >= 9 && n <= 15 && isNumberPrefix(t):
			return Query{Kind: QueryCustomerNumber, Text: t}
		}
		if p, err := ParsePhone(t); err == nil {
			return Query{Kind: QueryPhone, Text: p.String()}
		}
	case digits >= 7 && digits+spaces+phoneSeps == n:
		if p, err := ParsePhone(t); err == nil {
			return Query{Kind: QueryPhone, Text: p.String()}
		}
	case letters > 0 && letters+spaces == n:
		return Query{Kind: QueryPinyin, Text: withoutSpaces(t)}
	case han > 0:
		return Query{Kind: QueryName, Text: t}
	}
	return Query{Kind: QueryGeneric, Text: t}
}

// normaliseQuery trims q, folds full-width ASCII, collapses whitespace and
// lower-cases ASCII; it returns a substring of q when nothing else changes.
func normaliseQuery(q string) string {
	q = strings.TrimFunc(q, unicode.IsSpace)
	clean := true
	prevSpace := false
	for _, r := range q {
		isSpace := unicode.IsSpace(r)
		if (r >= 'A' && r <= 'Z') || (r >= 0xFF01 && r <= 0xFF5E) || (isSpace && (r != ' ' || prevSpace)) {
			clean = false
			break
		}
		prevSpace = isSpace
	}
	if clean {
		return q
	}
	var b strings.Builder
	b.Grow(len(q))
	prevSpace = false
	for _, r := range q {
		if unicode.IsSpace(r) {
			if !prevSpace {
				b.WriteByte(' ')
			}
			prevSpace = true
			continue
		}
		prevSpace = false
		if r >= 0xFF01 && r <= 0xFF5E {
			r -= 0xFEE0
		}
		if r >= 'A' && r <= 'Z' {
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

func withoutSpaces(s string) string {
	if strings.IndexByte(s, ' ') < 0 {
		return s
	}
	return strings.ReplaceAll(s, " ", "")
}
