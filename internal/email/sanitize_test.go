package email_test

import (
	"strings"
	"testing"

	"github.com/careloop/careloop/internal/email"
)

func TestSanitizeHTMLDropsScriptsAndHoldsRemoteImages(t *testing.T) {
	in := `<div onclick="steal()"><p>您好，<b>设备</b>又坏了</p><script>alert(document.cookie)</script><style>body{display:none}</style>
<img src="https://track.example.com/open.gif?u=42" width="1" height="1"><img src="//cdn.example.com/a.png">
<a href="javascript:alert(1)">点我</a><a href="https://huaqiang.cn/help">帮助</a><iframe src="https://evil.example"></iframe>
<form action="https://evil.example"><input name="p"></form></div>`
	out := email.SanitizeHTML(in)
	for _, bad := range []string{"<script", "alert(", "<style", "onclick", "javascript:", "<iframe", "<form", "<input", ` src="https://track`, ` src="//cdn`} {
		if strings.Contains(out, bad) {
			t.Errorf("sanitised HTML still holds %q:\n%s", bad, out)
		}
	}
	for _, good := range []string{"<b>设备</b>", `data-src="https://track.example.com/open.gif?u=42"`, `data-src="https://cdn.example.com/a.png"`, `href="https://huaqiang.cn/help"`, `rel="nofollow noreferrer noopener"`} {
		if !strings.Contains(out, good) {
			t.Errorf("sanitised HTML lost %q:\n%s", good, out)
		}
	}
	if !email.HasRemoteImages(out) {
		t.Error("held-back images are not reported")
	}
}
