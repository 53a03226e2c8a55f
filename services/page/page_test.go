package page

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// Encode writes the payload's JSON itself; cursors issued before must still
// decode, so its bytes are json.Marshal's.
func TestEncodeWritesTheMarshalledPayload(t *testing.T) {
	c := NewCodec([]byte("test key"))
	id := uuid.MustParse("01a2372d-ac3d-7712-bc23-d4f1e7a1cc89")
	at := time.Date(2026, 12, 2, 14, 34, 22, 820947000, time.UTC)
	for _, keys := range [][]any{{at, id}, {int64(342000), id}, {true, 1, at, id}} {
		scope := `products|newest||textiles|<&>|"q"`
		cursor := c.Encode(scope, keys...)
		p := payload{Scope: scope}
		for _, k := range keys {
			b, _ := json.Marshal(k)
			p.Keys = append(p.Keys, b)
		}
		want, _ := json.Marshal(p)
		b64, _, _ := strings.Cut(cursor, ".")
		if got, _ := base64.RawURLEncoding.DecodeString(b64); string(got) != string(want) {
			t.Errorf("keys %v: payload %s, want %s", keys, got, want)
		}
		if len(keys) == 2 {
			var gotAt time.Time
			var gotID uuid.UUID
			var n int64
			first := any(&gotAt)
			if _, isInt := keys[0].(int64); isInt {
				first = &n
			}
			if err := c.Decode(cursor, scope, first, &gotID); err != nil || gotID != id {
				t.Errorf("keys %v: decoded %v, %v", keys, gotID, err)
			}
		}
	}
}
