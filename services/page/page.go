// Package page is keyset pagination: limits and opaque, signed cursors that
// hold the sort key of the last item and are bound to the query they came from.
package page

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"hash"
	"strconv"
	"strings"
	"sync"

	"github.com/karigar/karigar/services"
)

// DefaultLimit and MaxLimit bound ?limit=.
const (
	DefaultLimit = 20
	MaxLimit     = 100
)

// Limit parses ?limit=: empty is DefaultLimit; anything but 1–MaxLimit is a bad_request.
func Limit(raw string) (int, error) {
	if raw == "" {
		return DefaultLimit, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > MaxLimit {
		return 0, services.BadRequest("limit must be a whole number from 1 to %d", MaxLimit)
	}
	return n, nil
}

// Codec signs cursors so that a client can neither forge nor alter one.
type Codec struct {
	key []byte
	// macs are keyed HMACs, reset between uses: keying one hashes the key
	// into its pads, work a list page need not repeat.
	macs *sync.Pool
}

// NewCodec returns a Codec keyed by key.
func NewCodec(key []byte) Codec {
	return Codec{key: key, macs: &sync.Pool{New: func() any { return hmac.New(sha256.New, key) }}}
}

type payload struct {
	Scope string            `json:"s"`
	Keys  []json.RawMessage `json:"k"`
}

// Encode returns a cursor holding keys for the query named by scope (a
// canonical string of the query's filters and order).
func (c Codec) Encode(scope string, keys ...any) string {
	// The bytes json.Marshal gives a payload, written out directly: marshalling
	// the payload compacted each key's JSON a second time.
	body := make([]byte, 0, 64+len(scope))
	body = append(body, `{"s":`...)
	s, _ := json.Marshal(scope)
	body = append(body, s...)
	body = append(body, `,"k":[`...)
	for i, k := range keys {
		if i > 0 {
			body = append(body, ',')
		}
		b, _ := json.Marshal(k)
		body = append(body, b...)
	}
	body = append(body, "]}"...)
	return base64.RawURLEncoding.EncodeToString(body) + "." + base64.RawURLEncoding.EncodeToString(c.sign(body))
}

// Decode reads cursor into the pointers in keys. A cursor that is malformed,
// altered, or made for another query is a bad_request.
func (c Codec) Decode(cursor, scope string, keys ...any) error {
	bad := services.BadRequest("cursor is not valid for this query: use the next_cursor of a response to the same query")
	b64, sig64, ok := strings.Cut(cursor, ".")
	body, err1 := base64.RawURLEncoding.DecodeString(b64)
	sig, err2 := base64.RawURLEncoding.DecodeString(sig64)
	if !ok || err1 != nil || err2 != nil || !hmac.Equal(sig, c.sign(body)) {
		return bad
	}
	var p payload
	if err := json.Unmarshal(body, &p); err != nil || p.Scope != scope || len(p.Keys) != len(keys) {
		return bad
	}
	for i, k := range keys {
		if err := json.Unmarshal(p.Keys[i], k); err != nil {
			return bad
		}
	}
	return nil
}

func (c Codec) sign(body []byte) []byte {
	var m hash.Hash
	if c.macs != nil {
		m = c.macs.Get().(hash.Hash)
		defer c.macs.Put(m)
		m.Reset()
	} else {
		m = hmac.New(sha256.New, c.key)
	}
	m.Write([]byte("karigar/cursor\x00"))
	m.Write(body)
	return m.Sum(nil)[:16]
}
