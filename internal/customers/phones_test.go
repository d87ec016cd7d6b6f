package customers

import "testing"

func TestParsePhone(t *testing.T) {
	tests := []struct {
		in     string
		kind   PhoneKind
		number string
		ext    string
		key    string
	}{
		// mobiles
		{in: "13912345678", kind: PhoneMobile, number: "13912345678"},
		{in: " 139 1234 5678 ", kind: PhoneMobile, number: "13912345678"},
		{in: "139-1234-5678", kind: PhoneMobile, number: "13912345678"},
		{in: "+86 139 1234 5678", kind: PhoneMobile, number: "13912345678"},
		{in: "+8613912345678", kind: PhoneMobile, number: "13912345678"},
		{in: "(+86)139-1234-5678", kind: PhoneMobile, number: "13912345678"},
		{in: "0086 13912345678", kind: PhoneMobile, number: "13912345678"},
		{in: "8613912345678", kind: PhoneMobile, number: "13912345678"},
		{in: "１３９１２３４５６７８", kind: PhoneMobile, number: "13912345678"},
		{in: "\u3000186.0000.1111", kind: PhoneMobile, number: "18600001111"},
		{in: "199 8888 0000", kind: PhoneMobile, number: "19988880000"},
		{in: "1391234567", key: KeyPhoneTooShort},
		{in: "139123456789", key: KeyPhoneTooLong},
		{in: "12345678901", key: KeyPhoneBadPrefix},
		{in: "10012345678", key: KeyPhoneBadPrefix},
		{in: "139l2345678", key: KeyPhoneLetters},
		{in: "手机13912345678", key: KeyPhoneLetters},
		{in: "139*1234*5678", key: KeyPhoneInvalidChars},
		{in: "13912345678/13812345678", key: KeyPhoneInvalidChars},
		{in: "139+12345678", key: KeyPhoneInvalidChars},
		{in: "13912345678 转 8", key: KeyPhoneExtMobile},
		{in: "+1 415 555 0100", key: KeyPhoneForeign},
		{in: "+852 9123 4567", key: KeyPhoneForeign},
		{in: "001 415 555 0100", key: KeyPhoneForeign},
		{in: "", key: KeyPhoneEmpty},
		{in: "   ", key: KeyPhoneEmpty},
		{in: "+86", key: KeyPhoneTooShort},
		// landlines
		{in: "010-12345678", kind: PhoneLandline, number: "010-12345678"},
		{in: "01012345678", kind: PhoneLandline, number: "010-12345678"},
		{in: "(010) 8765 4321", kind: PhoneLandline, number: "010-87654321"},
		{in: "(021) 6123 4567", kind: PhoneLandline, number: "021-61234567"},
		{in: "（021）61234567", kind: PhoneLandline, number: "021-61234567"},
		{in: "0755-1234567", kind: PhoneLandline, number: "0755-1234567"},
		{in: "0755-86013388", kind: PhoneLandline, number: "0755-86013388"},
		{in: "0571 8888 6666", kind: PhoneLandline, number: "0571-88886666"},
		{in: "+86 10 1234 5678", kind: PhoneLandline, number: "010-12345678"},
		{in: "+86-755-86013388", kind: PhoneLandline, number: "0755-86013388"},
		{in: "+86 (0)21 6123 4567", kind: PhoneLandline, number: "021-61234567"},
		{in: "010-12345678 转 123", kind: PhoneLandline, number: "010-12345678", ext: "123"},
		{in: "010-12345678转123", kind: PhoneLandline, number: "010-12345678", ext: "123"},
		{in: "010-12345678 分机 8001", kind: PhoneLandline, number: "010-12345678", ext: "8001"},
		{in: "010-12345678 ext 123", kind: PhoneLandline, number: "010-12345678", ext: "123"},
		{in: "010-12345678 Ext.123", kind: PhoneLandline, number: "010-12345678", ext: "123"},
		{in: "010-12345678 x123", kind: PhoneLandline, number: "010-12345678", ext: "123"},
		{in: "010-12345678#6", kind: PhoneLandline, number: "010-12345678", ext: "6"},
		{in: "010-12345678-123", kind: PhoneLandline, number: "010-12345678", ext: "123"},
		{in: "0755-1234567-88", kind: PhoneLandline, number: "0755-1234567", ext: "88"},
		{in: "010-1234-5678", kind: PhoneLandline, number: "010-12345678"},
		{in: "0755-8601-3388", kind: PhoneLandline, number: "0755-86013388"},
		{in: "010-1234567", key: KeyPhoneTooShort},
		{in: "0755-123456", key: KeyPhoneTooShort},
		{in: "0755-123456789", key: KeyPhoneTooLong},
		{in: "010-123456789", key: KeyPhoneTooLong},
		{in: "010-02345678", key: KeyPhoneBadPrefix},
		{in: "0755-1234567 转 1234567", key: KeyPhoneExtInvalid},
		{in: "010-12345678 转 12a", key: KeyPhoneExtInvalid},
		{in: "010-12345678 转", key: KeyPhoneExtInvalid},
		{in: "011-12345678", key: KeyPhoneAreaCode},
		{in: "01-012345678", key: KeyPhoneAreaCode},
		{in: "0755 0-1234567", key: KeyPhoneBadPrefix},
		{in: "07-551234567", key: KeyPhoneAreaCode},
		{in: "12345678", key: KeyPhoneTooShort},
		{in: "23912345678", key: KeyPhoneBadPrefix},
		{in: "62345678", key: KeyPhoneNoAreaCode},
		{in: "6234567", key: KeyPhoneNoAreaCode},
		{in: "623456", key: KeyPhoneTooShort},
		{in: "Tel: 010-12345678", key: KeyPhoneLetters},
		{in: "=HYPERLINK(\"x\")", key: KeyPhoneInvalidChars},
		// service numbers
		{in: "400-123-4567", kind: PhoneService, number: "400-123-4567"},
		{in: "4001234567", kind: PhoneService, number: "400-123-4567"},
		{in: "400 8888 999", kind: PhoneService, number: "400-888-8999"},
		{in: "800-820-8820", kind: PhoneService, number: "800-820-8820"},
		{in: "400-800-1234 转 2", kind: PhoneService, number: "400-800-1234", ext: "2"},
		{in: "400-800-1234-2", kind: PhoneService, number: "400-800-1234", ext: "2"},
		{in: "400-123-456", key: KeyPhoneTooShort},
		{in: "400-123-45678", key: KeyPhoneTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			p, err := ParsePhone(tt.in)
			if got := errKey(t, err); got != tt.key {
				t.Fatalf("ParsePhone(%q) error key = %q (%v), want %q", tt.in, got, err, tt.key)
			}
			if tt.key != "" {
				return
			}
			if p.Kind != tt.kind || p.Number != tt.number || p.Ext != tt.ext {
				t.Fatalf("ParsePhone(%q) = %+v, want %v %q ext %q", tt.in, p, tt.kind, tt.number, tt.ext)
			}
			// The canonical form parses back to itself.
			q, err := ParsePhone(p.String())
			if err != nil || q != p {
				t.Fatalf("ParsePhone(%q) = %+v, %v; want %+v", p.String(), q, err, p)
			}
		})
	}
}

func TestParsePhoneParams(t *testing.T) {
	_, err := ParsePhone("139 1234 567")
	if got := errParams(t, err)["Digits"]; got != 10 {
		t.Errorf("Digits = %v, want 10", got)
	}
	_, err = ParsePhone("139*1234")
	if got := errParams(t, err)["Char"]; got != "*" {
		t.Errorf("Char = %v, want *", got)
	}
}

func TestPhoneMasked(t *testing.T) {
	tests := []struct{ in, masked, last4 string }{
		{"13912345678", "139****5678", "5678"},
		{"+86 186 0000 1111", "186****1111", "1111"},
		{"010-12345678", "010-****5678", "5678"},
		{"010-12345678 转 123", "010-****5678", "5678"},
		{"0755-1234567", "0755-***4567", "4567"},
		{"400-123-4567", "400-***-4567", "4567"},
	}
	for _, tt := range tests {
		p, err := ParsePhone(tt.in)
		if err != nil {
			t.Fatalf("ParsePhone(%q): %v", tt.in, err)
		}
		if got := p.Masked(); got != tt.masked {
			t.Errorf("Masked(%q) = %q, want %q", tt.in, got, tt.masked)
		}
		if got := MaskPhone(p.String()); got != tt.masked {
			t.Errorf("MaskPhone(%q) = %q, want %q", p.String(), got, tt.masked)
		}
		if got := p.Last4(); got != tt.last4 {
			t.Errorf("Last4(%q) = %q, want %q", tt.in, got, tt.last4)
		}
	}
}

func TestMaskPhoneInvalid(t *testing.T) {
	for in, want := range map[string]string{
		"12345":    "****2345",
		"abc":      "****",
		"":         "****",
		"6234-567": "****4567",
	} {
		if got := MaskPhone(in); got != want {
			t.Errorf("MaskPhone(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPhoneLast4(t *testing.T) {
	for in, want := range map[string]string{
		"13912345678":  "5678",
		"010-12345678": "5678",
		"123":          "",
		"1-2-3-4":      "1234",
	} {
		if got := PhoneLast4(in); got != want {
			t.Errorf("PhoneLast4(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPhoneKindString(t *testing.T) {
	if PhoneMobile.String() != "mobile" || PhoneLandline.String() != "landline" ||
		PhoneService.String() != "service" || PhoneKind(0).String() != "unknown" {
		t.Error("PhoneKind.String")
	}
}

func BenchmarkParsePhone(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParsePhone("+86 139-1234-5678"); err != nil {
			b.Fatal(err)
		}
		if _, err := ParsePhone("(0755) 8601 3388 转 123"); err != nil {
			b.Fatal(err)
		}
	}
}
