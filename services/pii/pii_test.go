package pii

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func testKey(b byte) []byte { return bytes.Repeat([]byte{b}, KeySize) }

func TestSealOpens(t *testing.T) {
	box, err := New(testKey(1))
	if err != nil {
		t.Fatal(err)
	}
	s1, _ := box.Seal("+923001234567")
	s2, _ := box.Seal("+923001234567")
	if s1 == s2 {
		t.Fatal("two seals of one value are equal: the nonce is not fresh")
	}
	if strings.Contains(s1, "3001234567") || !IsSealed(s1) || !box.SealedUnderCurrent(s1) {
		t.Fatalf("sealed value %q", s1)
	}
	if got, err := box.Open(s1); err != nil || got != "+923001234567" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	// A changed byte of the body, or another key's id, does not open.
	// The second-to-last character: all six of its bits count, while the
	// last one's spare bits would decode the same.
	b := []byte(s1)
	if b[len(b)-2] == 'A' {
		b[len(b)-2] = 'B'
	} else {
		b[len(b)-2] = 'A'
	}
	tampered := string(b)
	if _, err := box.Open(tampered); err == nil {
		t.Fatal("a tampered value opened")
	}
	if _, err := box.Open("+923001234567"); !errors.Is(err, ErrNotSealed) {
		t.Fatalf("a clear value: %v", err)
	}
}

func TestRotationOpensOldValues(t *testing.T) {
	old, _ := New(testKey(1))
	sealed, _ := old.Seal("35202-1234567-1")
	rotated, err := New(testKey(2), testKey(1))
	if err != nil {
		t.Fatal(err)
	}
	if rotated.SealedUnderCurrent(sealed) {
		t.Fatal("a value of the old key reads as current")
	}
	if got, err := rotated.Open(sealed); err != nil || got != "35202-1234567-1" {
		t.Fatalf("Open after rotation = %q, %v", got, err)
	}
	fresh, _ := New(testKey(2))
	if _, err := fresh.Open(sealed); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("without the old key: %v", err)
	}
	if old.Lookup("03001234567") == rotated.Lookup("03001234567") {
		t.Fatal("lookup hashes do not change with the key")
	}
	if _, err := New(testKey(1)[:16]); err == nil {
		t.Fatal("a 16-byte key was taken")
	}
}

func TestLookupIsOneForEveryWritingOfANumber(t *testing.T) {
	box, _ := New(testKey(3))
	want := box.Lookup("+923001234567")
	for _, s := range []string{"0300 1234567", "0300-1234567", "923001234567", "00923001234567", " +92 (300) 123 4567", "۰۳۰۰۱۲۳۴۵۶۷"} {
		if got := box.Lookup(s); got != want {
			t.Errorf("Lookup(%q) differs from Lookup(+923001234567)", s)
		}
	}
	if box.Lookup("+923001234568") == want {
		t.Fatal("two numbers have one lookup hash")
	}
}

func TestNormaliseAndMask(t *testing.T) {
	for in, want := range map[string]string{
		"03001234567":      "+923001234567",
		"+44 20 7946 0958": "+442079460958",
		"12345":            "",
		"0300123456a":      "",
		"+0300123":         "",
	} {
		got, ok := NormalisePhone(in)
		if got != want || ok != (want != "") {
			t.Errorf("NormalisePhone(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	if got := Mask("0300 1234567"); got != "+92300*****67" {
		t.Fatalf("Mask = %q", got)
	}
	if got := Mask("not a phone"); strings.ContainsAny(got, "0123456789") {
		t.Fatalf("Mask of junk = %q", got)
	}
}

func TestLookupsUnderEveryKey(t *testing.T) {
	old, _ := New(testKey(1))
	box, _ := New(testKey(2), testKey(1), testKey(2)) // a repeated key counts once
	got := box.Lookups("0300 1234567")
	if len(got) != 2 || got[0] != box.Lookup("+923001234567") || got[1] != old.Lookup("+923001234567") {
		t.Fatalf("Lookups = %v", got)
	}
	if ids := box.KeyIDs(); len(ids) != 2 || ids[0] != box.KeyID() {
		t.Fatalf("KeyIDs = %v", ids)
	}
	texts := box.LookupTexts("35202-1234567-1")
	if len(texts) != 2 || texts[0] != box.LookupText("35202-1234567-1") || texts[1] != old.LookupText("35202-1234567-1") {
		t.Fatalf("LookupTexts = %v", texts)
	}
	// A text's hash is never a phone's, even for the same characters.
	if box.LookupText("+923001234567") == box.Lookup("+923001234567") || box.LookupText("x") == box.Lookup("x") {
		t.Fatal("LookupText and Lookup agree on one input")
	}
}

func TestCurrentPrefixAndKeyOf(t *testing.T) {
	box, _ := New(testKey(4), testKey(5))
	s, _ := box.Seal("+923001234567")
	if !strings.HasPrefix(s, box.CurrentPrefix()) || len(box.CurrentPrefix()) != len(SealedPrefix)+9 {
		t.Fatalf("%q does not begin with %q", s, box.CurrentPrefix())
	}
	if id, ok := KeyOf(s); !ok || id != box.KeyID() {
		t.Fatalf("KeyOf = %q, %v", id, ok)
	}
	if _, ok := KeyOf("{\"phone\":\"+923001234567\"}"); ok {
		t.Fatal("a clear value has a key")
	}
}

func TestParseKey(t *testing.T) {
	raw := testKey(9)
	for _, text := range []string{
		"CQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQk=", // standard base64
		"CQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQk",  // unpadded
		strings.Repeat("09", 32),                       // hex
		" " + strings.Repeat("09", 32) + "\n",          // as read from a file
	} {
		k, err := ParseKey(text)
		if err != nil || !bytes.Equal(k, raw) {
			t.Errorf("ParseKey(%q) = %x, %v", text, k, err)
		}
	}
	for _, bad := range []string{"", "short", "my secret key for phone numbers!", strings.Repeat("0", 63)} {
		if _, err := ParseKey(bad); err == nil {
			t.Errorf("ParseKey(%q) took it", bad)
		}
	}
	if a, b := NewKey(), NewKey(); len(a) != KeySize || bytes.Equal(a, b) {
		t.Fatal("NewKey is not a fresh 32-byte key")
	}
}

func TestNormaliseLandlines(t *testing.T) {
	for in, want := range map[string]string{
		"042 3576 1234":   "+924235761234", // Lahore
		"051-1234567":     "+92511234567",  // Islamabad
		"(021) 3456 7890": "+922134567890", // Karachi
		"0300 1234567":    "+923001234567",
		"0123":            "",
	} {
		got, ok := NormalisePhone(in)
		if got != want || ok != (want != "") {
			t.Errorf("NormalisePhone(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

// The cost sealing adds to a write and opening to a read of one value:
//
//	go test -run '^$' -bench . ./services/pii
func BenchmarkSeal(b *testing.B) {
	box, _ := New(testKey(1))
	for b.Loop() {
		if _, err := box.Seal("+923001234567"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen(b *testing.B) {
	box, _ := New(testKey(1))
	s, _ := box.Seal("+923001234567")
	for b.Loop() {
		if _, err := box.Open(s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLookup(b *testing.B) {
	box, _ := New(testKey(1))
	for b.Loop() {
		_ = box.Lookup("0300 1234567")
	}
}
