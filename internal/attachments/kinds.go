package attachments

import (
	"archive/zip"
	"bytes"
	"io"
	"net/http"
	"slices"
	"strings"
)

// kind is a type of file Careloop can recognise by its content and name.
type kind struct {
	name   string   // e.g. "docx"
	mime   string   // the Content-Type it is stored and served with
	exts   []string // lower case, without the dot; the first is the usual one
	family string   // what sniffing its content finds (see sniff)
}

// kinds are every type an administrator may allow. A name's extension picks
// the kind; the content must sniff as the kind's family.
var kinds = []kind{
	{"png", "image/png", []string{"png"}, "png"},
	{"jpeg", "image/jpeg", []string{"jpg", "jpeg", "jpe", "jfif"}, "jpeg"},
	{"gif", "image/gif", []string{"gif"}, "gif"},
	{"webp", "image/webp", []string{"webp"}, "webp"},
	{"heic", "image/heic", []string{"heic", "heif"}, "heic"},
	{"pdf", "application/pdf", []string{"pdf"}, "pdf"},
	{"text", "text/plain", []string{"txt", "log", "text"}, "text"},
	{"csv", "text/csv", []string{"csv"}, "text"},
	{"docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", []string{"docx"}, "docx"},
	{"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", []string{"xlsx"}, "xlsx"},
	{"pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation", []string{"pptx"}, "pptx"},
	{"doc", "application/msword", []string{"doc"}, "ole"},
	{"xls", "application/vnd.ms-excel", []string{"xls"}, "ole"},
	{"ppt", "application/vnd.ms-powerpoint", []string{"ppt"}, "ole"},
	{"zip", "application/zip", []string{"zip"}, "zip"},
	{"mp3", "audio/mpeg", []string{"mp3"}, "mpa"},
	{"aac", "audio/aac", []string{"aac"}, "mpa"},
	{"wav", "audio/wav", []string{"wav"}, "wav"},
	{"ogg", "audio/ogg", []string{"ogg", "oga", "opus"}, "ogg"},
	{"m4a", "audio/mp4", []string{"m4a"}, "ftyp"},
	{"amr", "audio/amr", []string{"amr"}, "amr"},
	{"mp4", "video/mp4", []string{"mp4", "m4v"}, "ftyp"},
	{"mov", "video/quicktime", []string{"mov"}, "ftyp"},
	{"3gp", "video/3gpp", []string{"3gp", "3g2"}, "ftyp"},
	{"webm", "video/webm", []string{"webm"}, "webm"},
	{"avi", "video/x-msvideo", []string{"avi"}, "avi"},
}

// families are what sniff can find, each with a catalog key
// attachments.mislabelled_<family> saying "its content is …". "unknown" is
// content Careloop does not recognise.
var families = []string{"png", "jpeg", "gif", "webp", "heic", "pdf", "text", "docx", "xlsx", "pptx", "ole", "zip",
	"mpa", "wav", "ogg", "amr", "ftyp", "webm", "avi", "unknown"}

// Families lists what a file's content can be found to be, each with its
// catalog key KeyMislabelledPrefix + family.
func Families() []string { return slices.Clone(families) }

// activeExts are names a browser would run or render as a page: refused by
// name before a byte is read, whatever the allowed types.
var activeExts = map[string]bool{
	"html": true, "htm": true, "xhtml": true, "xht": true, "shtml": true, "shtm": true, "mht": true, "mhtml": true,
	"svg": true, "svgz": true, "xml": true, "xsl": true, "xslt": true,
	"js": true, "mjs": true, "cjs": true, "hta": true, "swf": true, "vbs": true, "wsf": true,
	"php": true, "jsp": true, "asp": true, "aspx": true,
}

// previewable kinds may be shown inline (still under nosniff and a sandbox
// CSP); SVG is never one of them.
var previewable = map[string]bool{"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true}

var (
	byExt  = map[string]*kind{}
	byMIME = map[string]*kind{}
	byName = map[string]*kind{}
)

func init() {
	for i := range kinds {
		k := &kinds[i]
		byMIME[k.mime], byName[k.name] = k, k
		for _, e := range k.exts {
			byExt[e] = k
		}
	}
}

var (
	oleMagic  = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}
	zipMagic  = []byte("PK\x03\x04")
	zipEmpty  = []byte("PK\x05\x06")
	amrMagic  = []byte("#!AMR")
	ebmlMagic = []byte{0x1A, 0x45, 0xDF, 0xA3}
)

// sniff tells what the content is: its family, the kind a file of that
// content without an extension is stored as ("" when none can be chosen),
// and whether it is active content (HTML, SVG, XML) that is never stored.
// head is the first 512 bytes; ra reads the whole file of size bytes (for a
// zip's directory).
func sniff(head []byte, ra io.ReaderAt, size int64) (family, def string, active bool) {
	switch {
	case bytes.HasPrefix(head, oleMagic):
		return "ole", "", false
	case bytes.HasPrefix(head, zipMagic), bytes.HasPrefix(head, zipEmpty):
		f := zipFamily(ra, size)
		return f, f, false
	case len(head) >= 12 && string(head[4:8]) == "ftyp":
		switch brand := string(head[8:12]); {
		case brand == "heic" || brand == "heix" || brand == "mif1" || brand == "msf1" || brand == "hevc":
			return "heic", "heic", false
		case brand == "qt  ":
			return "ftyp", "mov", false
		case strings.HasPrefix(brand, "M4A") || strings.HasPrefix(brand, "M4B"):
			return "ftyp", "m4a", false
		case strings.HasPrefix(brand, "3g"):
			return "ftyp", "3gp", false
		}
		return "ftyp", "mp4", false
	case bytes.HasPrefix(head, amrMagic):
		return "amr", "amr", false
	case bytes.HasPrefix(head, []byte("ID3")):
		return "mpa", "mp3", false
	case len(head) >= 2 && head[0] == 0xFF && head[1]&0xE0 == 0xE0 && (head[1]>>1)&3 == 0 && head[1]&0x10 != 0:
		return "mpa", "aac", false // ADTS: MPEG layer bits 00
	case len(head) >= 2 && head[0] == 0xFF && head[1]&0xE0 == 0xE0 && (head[1]>>1)&3 == 1:
		return "mpa", "mp3", false // MPEG layer III (FF FE, a UTF-16 BOM, is layer I)
	case len(head) >= 12 && string(head[:4]) == "RIFF" && string(head[8:12]) == "WAVE":
		return "wav", "wav", false
	case len(head) >= 12 && string(head[:4]) == "RIFF" && string(head[8:12]) == "AVI ":
		return "avi", "avi", false
	case bytes.HasPrefix(head, []byte("OggS")):
		return "ogg", "ogg", false
	case bytes.HasPrefix(head, ebmlMagic):
		return "webm", "webm", false
	}
	ct := http.DetectContentType(head)
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	switch ct {
	case "image/png":
		return "png", "png", false
	case "image/jpeg":
		return "jpeg", "jpeg", false
	case "image/gif":
		return "gif", "gif", false
	case "image/webp":
		return "webp", "webp", false
	case "application/pdf":
		return "pdf", "pdf", false
	case "text/plain":
		return "text", "text", false
	case "text/html", "text/xml", "image/svg+xml":
		return "", "", true
	}
	return "unknown", "", false
}

// zipFamily tells an Office Open XML document from another zip archive by
// the parts its directory names (read from the end of the file only).
func zipFamily(ra io.ReaderAt, size int64) string {
	zr, err := zip.NewReader(ra, size)
	if err != nil {
		return "zip"
	}
	for _, f := range zr.File {
		switch strings.ToLower(f.Name) {
		case "word/document.xml":
			return "docx"
		case "xl/workbook.xml":
			return "xlsx"
		case "ppt/presentation.xml":
			return "pptx"
		}
	}
	return "zip"
}

// accepts tells whether content of family may be stored under an extension
// of kind k: its own family, or any zip for a .zip.
func (k *kind) accepts(family string) bool {
	if k.family == family {
		return true
	}
	return k.name == "zip" && (family == "docx" || family == "xlsx" || family == "pptx")
}

// markupScan looks through a file's bytes, as they stream by, for the tags
// that make a browser render a page or run a script: <html, <script, <svg
// and their kind, in any case, also in UTF-16 (NUL bytes are skipped).
// Only text files are refused for what it finds: the same bytes inside a
// compressed or binary format are noise.
type markupScan struct {
	buf   []byte
	found string
}

// Tags common in honest text (<a, <img, <b) are not among them: a browser
// shows such a file as a page only when told it is one, and it never is.
var markupTags = []string{"<svg", "<html", "<!doctype html", "<script", "<iframe", "<body", "<head", "<object", "<embed",
	"<frameset", "<?xml-stylesheet", "<xsl:"}

// markupKeep is how many bytes are carried between writes: the longest tag
// and the byte after it.
const markupKeep = len("<?xml-stylesheet") + 1

func (m *markupScan) Write(p []byte) (int, error) {
	if m.found != "" {
		return len(p), nil
	}
	for _, c := range p {
		switch {
		case c == 0:
			continue
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		}
		m.buf = append(m.buf, c)
	}
	m.search(false)
	if len(m.buf) > markupKeep {
		n := copy(m.buf, m.buf[len(m.buf)-markupKeep:])
		m.buf = m.buf[:n]
	}
	return len(p), nil
}

// finish searches the last bytes, where the end of the file ends a tag.
func (m *markupScan) finish() { m.search(true) }

func (m *markupScan) search(atEOF bool) {
	b := m.buf
	for i := bytes.IndexByte(b, '<'); i >= 0 && m.found == ""; {
		rest := b[i:]
		for _, tag := range markupTags {
			if !bytes.HasPrefix(rest, []byte(tag)) {
				continue
			}
			if len(rest) == len(tag) {
				if atEOF {
					m.found = tag
				}
				continue // the next write tells what follows
			}
			if c := rest[len(tag)]; c == ' ' || c == '>' || c == '/' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || tag == "<xsl:" {
				m.found = tag
				break
			}
		}
		j := bytes.IndexByte(b[i+1:], '<')
		if j < 0 {
			break
		}
		i += 1 + j
	}
}
