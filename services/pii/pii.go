// Package pii keeps personal data unreadable at rest: a field is sealed
// with AES-256-GCM under a key derived from KARIGAR_PII_KEY, and a phone
// number gets a keyed hash beside it (Lookup), so that the artisan a reply
// comes from can be found without decrypting every row.
//
// A Box holds the current key and any previous ones: Open reads what any of
// them sealed, Seal and Lookup use the current one. Rotating the key
// (karigar pii rotate-key) reseals every field and recomputes every lookup
// hash under the new key.
package pii

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the length of a PII key: 32 bytes, for AES-256.
const KeySize = 32

// sealedPrefix starts every sealed value, so that a clear value is never
// taken for a sealed one (and a migration can tell which rows are done).
const sealedPrefix = "pii1."

// ErrNotSealed is returned by Open for a value Seal did not make.
var ErrNotSealed = errors.New("pii: value is not sealed")

// ErrUnknownKey is returned by Open for a value sealed under a key the Box
// does not hold.
var ErrUnknownKey = errors.New("pii: value sealed under a key this box does not hold")

type key struct {
	id     string // 8 hex digits naming the key, stored with each value
	aead   cipher.AEAD
	lookup []byte // the HMAC key of Lookup
}

// Box seals and opens personal data. It is safe for concurrent use.
type Box struct {
	current *key
	byID    map[string]*key
}

// New returns a Box sealing under current and opening what current or any
// of previous sealed. Every key must be KeySize bytes.
func New(current []byte, previous ...[]byte) (*Box, error) {
	b := &Box{byID: map[string]*key{}}
	for i, raw := range append([][]byte{current}, previous...) {
		k, err := newKey(raw)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			b.current = k
		}
		if _, dup := b.byID[k.id]; !dup {
			b.byID[k.id] = k
		}
	}
	return b, nil
}

// newKey derives the sealing and lookup keys from raw, each for its one
// use, so that neither can stand in for the other.
func newKey(raw []byte) (*key, error) {
	if len(raw) != KeySize {
		return nil, fmt.Errorf("pii: a key must be %d bytes, not %d", KeySize, len(raw))
	}
	block, err := aes.NewCipher(derive(raw, "karigar/pii/seal"))
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	id := derive(raw, "karigar/pii/key-id")
	return &key{id: hex.EncodeToString(id[:4]), aead: aead, lookup: derive(raw, "karigar/pii/lookup")}, nil
}

func derive(raw []byte, purpose string) []byte {
	m := hmac.New(sha256.New, raw)
	m.Write([]byte(purpose))
	return m.Sum(nil)
}

// KeyID names the current key; sealed values carry the id of theirs.
func (b *Box) KeyID() string { return b.current.id }

// Seal encrypts plain under the current key with a fresh random nonce:
// "pii1.<key id>.<base64url(nonce || ciphertext)>". The key id is
// authenticated too, so a value cannot be relabelled to another key.
func (b *Box) Seal(plain string) (string, error) {
	k := b.current
	nonce := make([]byte, k.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	out := k.aead.Seal(nonce, nonce, []byte(plain), []byte(k.id))
	return sealedPrefix + k.id + "." + base64.RawURLEncoding.EncodeToString(out), nil
}

// Open decrypts what Seal made under any key the Box holds.
func (b *Box) Open(sealed string) (string, error) {
	id, body, ok := parse(sealed)
	if !ok {
		return "", ErrNotSealed
	}
	k := b.byID[id]
	if k == nil {
		return "", ErrUnknownKey
	}
	raw, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil || len(raw) < k.aead.NonceSize() {
		return "", ErrNotSealed
	}
	n := k.aead.NonceSize()
	plain, err := k.aead.Open(nil, raw[:n], raw[n:], []byte(k.id))
	if err != nil {
		return "", fmt.Errorf("pii: value does not open under key %s: %w", id, err)
	}
	return string(plain), nil
}

// IsSealed reports whether v has the form Seal gives (not whether it opens).
func IsSealed(v string) bool {
	_, _, ok := parse(v)
	return ok
}

// SealedUnderCurrent reports whether v was sealed under the current key:
// what rotation has still to reseal is what this is false for.
func (b *Box) SealedUnderCurrent(v string) bool {
	id, _, ok := parse(v)
	return ok && id == b.current.id
}

func parse(v string) (id, body string, ok bool) {
	rest, ok := strings.CutPrefix(v, sealedPrefix)
	if !ok {
		return "", "", false
	}
	id, body, ok = strings.Cut(rest, ".")
	return id, body, ok && len(id) == 8 && body != ""
}

// Lookup is the keyed hash of a phone number under the current key, hex
// encoded: the same for every way of writing one number (NormalisePhone),
// and of no use to anyone without the key.
func (b *Box) Lookup(phone string) string {
	n, ok := NormalisePhone(phone)
	if !ok {
		n = "raw:" + strings.TrimSpace(phone)
	}
	m := hmac.New(sha256.New, b.current.lookup)
	m.Write([]byte(n))
	return hex.EncodeToString(m.Sum(nil))
}

// NormalisePhone writes a phone number as E.164 ("+923001234567"). A
// Pakistani number written nationally ("0300 1234567") gets +92; "00"
// stands for "+". Spaces, dashes, dots and brackets are dropped. ok is
// false for anything that is not 8 to 15 digits after that.
func NormalisePhone(s string) (e164 string, ok bool) {
	var d strings.Builder
	plus := false
	for i, r := range strings.TrimSpace(s) {
		switch {
		case r >= '0' && r <= '9':
			d.WriteRune(r)
		case r >= '٠' && r <= '٩': // Arabic-Indic digits
			d.WriteRune('0' + (r - '٠'))
		case r >= '۰' && r <= '۹': // Extended (Urdu) digits
			d.WriteRune('0' + (r - '۰'))
		case r == '+' && i == 0:
			plus = true
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')':
		default:
			return "", false
		}
	}
	digits := d.String()
	switch {
	case plus:
	case strings.HasPrefix(digits, "00"):
		digits = digits[2:]
	case len(digits) == 11 && strings.HasPrefix(digits, "03"):
		digits = "92" + digits[1:]
	case len(digits) == 12 && strings.HasPrefix(digits, "923"):
	default:
		return "", false
	}
	if len(digits) < 8 || len(digits) > 15 || digits[0] == '0' {
		return "", false
	}
	return "+" + digits, true
}

// Mask shows a phone number as lists may: the country and operator code
// and the last two digits ("+92300*****67"). Anything that is not a phone
// number is masked whole.
func Mask(phone string) string {
	n, ok := NormalisePhone(phone)
	if !ok || len(n) < 9 {
		return "********"
	}
	return n[:6] + strings.Repeat("*", len(n)-8) + n[len(n)-2:]
}
