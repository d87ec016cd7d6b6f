package webhooks_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/webhooks"
)

// docVerify is the Go example of docs/webhooks.md, kept word for word so
// that the documented receiver is known to accept what Careloop signs.
func docVerify(secret, header string, body []byte, now time.Time) bool {
	var ts, sig string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sig = v
		}
	}
	n, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || now.Sub(time.Unix(n, 0)).Abs() > 5*time.Minute {
		return false
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	return hmac.Equal([]byte(sig), []byte(hex.EncodeToString(mac.Sum(nil))))
}

// docPython is the Python example of docs/webhooks.md.
const docPython = `import hashlib, hmac, time

def verify(secret: str, header: str, body: bytes, tolerance: int = 300) -> bool:
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    ts, sig = parts.get("t", ""), parts.get("v1", "")
    if not ts.isdigit() or abs(time.time() - int(ts)) > tolerance:
        return False
    expected = hmac.new(secret.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(sig, expected)
`

func TestDocumentedVerifiersAcceptCareloopSignatures(t *testing.T) {
	doc, err := os.ReadFile("../../docs/webhooks.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), docPython) || !strings.Contains(string(doc), "mac.Write([]byte(ts + \".\"))") {
		t.Fatal("docs/webhooks.md no longer shows the verifiers this test checks")
	}
	body := []byte(`{"id":1,"event":"ticket.created","data":{"subject":"洗衣机漏水"}}`)
	// The Python example reads the real clock; so does this signature.
	now := time.Now()
	h := webhooks.Signature("whsec_abc", now, body)
	if !docVerify("whsec_abc", h, body, now) || docVerify("whsec_other", h, body, now) || docVerify("whsec_abc", h, body, now.Add(time.Hour)) {
		t.Fatal("the Go example disagrees with the signer")
	}
	py, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("python3 is needed to check the documented Python example (.ci/run installs it)")
		}
		t.Skip("no python3 to run the Python example")
	}
	dir := t.TempDir()
	_ = os.WriteFile(filepath.Join(dir, "body"), body, 0o600)
	script := docPython + `
import sys
body = open(sys.argv[1], "rb").read()
print(verify("whsec_abc", sys.argv[2], body), verify("whsec_other", sys.argv[2], body))
`
	out, err := exec.Command(py, "-c", script, filepath.Join(dir, "body"), h).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "True False" {
		t.Fatalf("the Python example: %s %v", out, err)
	}
}
