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
	tampered := s1[:len(s1)-2] + "AA"
	if tampered == s1 {
		tampered = s1[:len(s1)-2] + "BB"
	}
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
