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

// SealedPrefix starts every sealed value, so that a clear value is never
// taken for a sealed one (and the data step that seals what older binaries
// wrote can tell which rows are done).
const SealedPrefix = "pii1."

const sealedPrefix = SealedPrefix

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
	keys    []*key // current first, then the previous keys in the order given
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
			b.keys = append(b.keys, k)
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

// KeyIDs names every key the box holds, the current one first.
func (b *Box) KeyIDs() []string {
	out := make([]string, len(b.keys))
	for i, k := range b.keys {
		out[i] = k.id
	}
	return out
}

// CurrentPrefix is how every value sealed under the current key begins
// ("pii1.<key id>."): a value that does not begin so is one that rotation
// has still to reseal.
func (b *Box) CurrentPrefix() string { return sealedPrefix + b.current.id + "." }

// KeyOf names the key a sealed value was sealed under; ok is false for a
// value that is not sealed.
func KeyOf(sealed string) (id string, ok bool) {
	id, _, ok = parse(sealed)
	return id, ok
}

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
	return b.current.hash(phoneInput(phone))
}

// Lookups is the lookup hash of a phone number under every key the box
// holds, the current one first. While a key is rotated (karigar pii
// rotate-key) some rows still hold the hash of the previous key: finding a
// row by number asks for any of these (phone_lookup IN ?).
func (b *Box) Lookups(phone string) []string { return b.hashes(phoneInput(phone)) }

// LookupText is the keyed hash of an exact text that is not a phone number
// (a CNIC), for finding or keeping unique what is stored sealed. It never
// equals the Lookup of any phone number.
func (b *Box) LookupText(v string) string { return b.current.hash(textInput(v)) }

// LookupTexts is LookupText under every key the box holds, the current one
// first (see Lookups).
func (b *Box) LookupTexts(v string) []string { return b.hashes(textInput(v)) }

func phoneInput(phone string) string {
	if n, ok := NormalisePhone(phone); ok {
		return n
	}
	return "raw:" + strings.TrimSpace(phone)
}

func textInput(v string) string { return "text:" + v }

func (b *Box) hashes(in string) []string {
	out := make([]string, len(b.keys))
	for i, k := range b.keys {
		out[i] = k.hash(in)
	}
	return out
}

func (k *key) hash(in string) string {
	m := hmac.New(sha256.New, k.lookup)
	m.Write([]byte(in))
	return hex.EncodeToString(m.Sum(nil))
}

// ParseKey reads a key as it is configured (KARIGAR_PII_KEY): 32 bytes in
// hex (64 digits) or in standard or URL-safe base64, padded or not.
func ParseKey(v string) ([]byte, error) {
	v = strings.TrimSpace(v)
	if len(v) == 2*KeySize {
		if b, err := hex.DecodeString(v); err == nil {
			return b, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(v); err == nil && len(b) == KeySize {
			return b, nil
		}
	}
	return nil, fmt.Errorf("pii: a key must be %d bytes in base64 (openssl rand -base64 32) or hex (openssl rand -hex 32)", KeySize)
}

// NewKey returns a fresh random key.
func NewKey() []byte {
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		panic("pii: no randomness: " + err.Error())
	}
	return k
}

// NormalisePhone writes a phone number as E.164 ("+923001234567"). A
// Pakistani number written nationally, a mobile ("0300 1234567") or a
// landline with its area code ("042 3576 1234"), gets +92 in place of its
// trunk 0; "00" stands for "+". Spaces, dashes, dots and brackets are
// dropped. ok is false for anything that is not 8 to 15 digits after that.
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
	case len(digits) >= 9 && len(digits) <= 11 && digits[0] == '0' && digits[1] != '0':
		digits = "92" + digits[1:] // a landline: trunk 0, area code, number
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
