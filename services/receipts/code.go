package receipts

import (
	"crypto/rand"
	"encoding/binary"
	"strings"
	"unicode"
)

// CodeLength is the number of symbols in a receipt code: 10 symbols of
// Crockford's base32, 5 bits each, 50 random bits in all.
const CodeLength = 10

// crockford is Crockford's base32 alphabet: the digits and the letters but
// I, L, O and U, which are read as 1, 1, 0 or refused, so that a code read
// aloud or copied by hand survives.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// NewCode returns a fresh receipt code: 50 bits from crypto/rand written as
// CodeLength symbols of Crockford's base32. Uniqueness is the database's
// (receipts.code is unique); the caller draws again on a collision.
func NewCode() (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	v := binary.BigEndian.Uint64(b[:]) >> (64 - 5*CodeLength)
	out := make([]byte, CodeLength)
	for i := CodeLength - 1; i >= 0; i-- {
		out[i] = crockford[v&31]
		v >>= 5
	}
	return string(out), nil
}

// ParseCode reads a receipt code as Crockford says to: case does not
// matter, I and L are 1, O is 0, hyphens and spaces are dropped; Urdu and
// Arabic-Indic digits (and full-width forms) are read as the digits they
// are. It returns the canonical form and whether s is exactly one code.
func ParseCode(s string) (string, bool) {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '-' || r == '_' || unicode.IsSpace(r) || r == '\u200c' || r == '\u200d' || isBidiMark(r):
			continue
		case r >= '٠' && r <= '٩':
			r = '0' + (r - '٠')
		case r >= '۰' && r <= '۹':
			r = '0' + (r - '۰')
		case r >= '０' && r <= '９':
			r = '0' + (r - '０')
		case r >= 'ａ' && r <= 'ｚ':
			r = 'A' + (r - 'ａ')
		case r >= 'Ａ' && r <= 'Ｚ':
			r = 'A' + (r - 'Ａ')
		case r >= 'a' && r <= 'z':
			r = r - 'a' + 'A'
		}
		switch r {
		case 'I', 'L':
			r = '1'
		case 'O':
			r = '0'
		}
		if r > unicode.MaxASCII || !strings.ContainsRune(crockford, r) {
			return "", false
		}
		if b.Len() == CodeLength {
			return "", false
		}
		b.WriteRune(r)
	}
	if b.Len() != CodeLength {
		return "", false
	}
	return b.String(), true
}

// isBidiMark is a character that steers the direction of text and shows
// nothing: phones put them around Latin text typed amid Urdu.
func isBidiMark(r rune) bool {
	return r == '\u200e' || r == '\u200f' || r == '\u061c' || r == '\ufeff' ||
		(r >= '\u202a' && r <= '\u202e') || (r >= '\u2066' && r <= '\u2069')
}
