package receipts

import (
	"math/bits"
	"strings"
	"testing"
)

func TestNewCodeIsTenCrockfordSymbolsOfFiftyRandomBits(t *testing.T) {
	seen := map[string]bool{}
	var ones [CodeLength * 5]int
	const n = 4000
	for range n {
		c, err := NewCode()
		if err != nil {
			t.Fatal(err)
		}
		if len(c) != CodeLength || strings.Trim(c, crockford) != "" {
			t.Fatalf("code %q is not %d symbols of Crockford's base32", c, CodeLength)
		}
		if back, ok := ParseCode(c); !ok || back != c {
			t.Fatalf("ParseCode(%q) = %q, %v", c, back, ok)
		}
		if seen[c] {
			t.Fatalf("code %q drawn twice in %d", c, n)
		}
		seen[c] = true
		for i, r := range c {
			v := strings.IndexRune(crockford, r)
			for b := range 5 {
				ones[i*5+b] += v >> (4 - b) & 1
			}
		}
	}
	// Every one of the 50 bits varies: each is set in about half the codes
	// (4000 draws: a fair bit is outside 40%-60% with odds far below 1e-30).
	for i, c := range ones {
		if c < n*4/10 || c > n*6/10 {
			t.Errorf("bit %d set in %d of %d codes", i, c, n)
		}
	}
	if bits.Len64(1<<(5*CodeLength)-1) != 50 {
		t.Fatal("a code does not hold 50 bits")
	}
}

func TestParseCodeIsForgiving(t *testing.T) {
	for in, want := range map[string]string{
		"7K9QMZX2VD":       "7K9QMZX2VD",
		"7k9qmzx2vd":       "7K9QMZX2VD",
		"7K9QM-ZX2VD":      "7K9QMZX2VD",
		" 7K9 QMZ X2VD ":   "7K9QMZX2VD",
		"IL0OABCDEF":       "1100ABCDEF",
		"il0oabcdef":       "1100ABCDEF",
		"۷K۹QMZX۲VD":       "7K9QMZX2VD", // Urdu digits
		"٧K٩QMZX٢VD":       "7K9QMZX2VD", // Arabic-Indic digits
		"７Ｋ９ｑmzx2vd":       "7K9QMZX2VD", // full-width forms
		"\u200e7K9QMZX2VD": "7K9QMZX2VD",
		"7K9QMZX2V":        "", // too short
		"7K9QMZX2VDA":      "", // too long
		"7K9QMZX2VU":       "", // U is no symbol
		"7K9QMZX2V*":       "",
		"":                 "",
		"کوڈ":              "",
	} {
		got, ok := ParseCode(in)
		if got != want || ok != (want != "") {
			t.Errorf("ParseCode(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

func TestParseReply(t *testing.T) {
	const code = "7K9QMZX2VD"
	for in, want := range map[string]struct {
		answer Answer
		code   string
	}{
		"HAAN 7K9QMZX2VD":           {Yes, code},
		"haan 7k9qmzx2vd":           {Yes, code},
		"  Han   7K9QM-ZX2VD  ":     {Yes, code},
		"YES 7K9QMZX2VD":            {Yes, code},
		"y 7K9QMZX2VD":              {Yes, code},
		"جی 7K9QMZX2VD":             {Yes, code},
		"ہاں 7K9QMZX2VD":            {Yes, code},
		"ہاں ۷K۹QMZX۲VD":            {Yes, code},
		"هاں 7K9QMZX2VD":            {Yes, code}, // Arabic heh for Urdu heh goal
		"ہان 7K9QMZX2VD":            {Yes, code}, // noon for noon ghunna
		"جی ہاں 7K9QMZX2VD":         {Yes, code},
		"HAAN: 7K9QMZX2VD.":         {Yes, code},
		"7K9QMZX2VD haan":           {Yes, code},
		"NAHI 7K9QMZX2VD":           {No, code},
		"nai 7K9QMZX2VD":            {No, code},
		"No 7K9QMZX2VD":             {No, code},
		"n 7K9QMZX2VD":              {No, code},
		"نہیں 7K9QMZX2VD":           {No, code},
		"نهيں ٧K٩QMZX٢VD":           {No, code}, // Arabic letters and digits
		"جی نہیں 7K9QMZX2VD":        {No, code},
		"NAHI 7K9QM ZX2VD":          {No, code},
		"HAAN NAHI 7K9QMZX2VD":      {NoAnswer, code},
		"HAAN":                      {Yes, ""},
		"7K9QMZX2VD":                {NoAnswer, code},
		"hello":                     {NoAnswer, ""},
		"":                          {NoAnswer, ""},
		"HAAN 7K9QMZX2VD thank you": {Yes, ""},
		"OK 7K9QMZX2VD":             {NoAnswer, ""},
	} {
		a, c := ParseReply(in)
		if a != want.answer || c != want.code {
			t.Errorf("ParseReply(%q) = %v, %q; want %v, %q", in, a, c, want.answer, want.code)
		}
	}
}
