package ledger

import (
	"crypto/sha256"
	"encoding/binary"
	"time"

	"github.com/google/uuid"

	"github.com/karigar/karigar/models"
)

// encodingVersion starts every encoded transaction, so that a future change
// of the encoding cannot be mistaken for this one.
const encodingVersion = "karigar/ledger/v1"

// encode is the canonical encoding of a transaction and its postings (in
// position order): every field, length-prefixed, in a fixed order. The
// writer and the verifier share it, so they cannot disagree on what a
// transaction was; a change to any field, posting or the order of postings
// changes it.
func encode(t models.LedgerTransaction, ps []models.LedgerPosting) []byte {
	b := make([]byte, 0, 256+64*len(ps))
	str := func(s string) []byte {
		b = binary.AppendUvarint(b, uint64(len(s)))
		return append(b, s...)
	}
	id := func(u *uuid.UUID) []byte {
		if u == nil {
			return str("")
		}
		return str(u.String())
	}
	b = str(encodingVersion)
	b = str(t.ID.String())
	b = str(t.ChainKey)
	b = binary.AppendVarint(b, t.ChainSeq)
	b = str(t.Reference)
	b = str(t.Kind)
	b = id(t.GroupID)
	b = str(t.Memo)
	b = str(t.OccurredAt.UTC().Format(time.RFC3339Nano))
	b = id(t.PrevID)
	b = binary.AppendUvarint(b, uint64(len(ps)))
	for _, p := range ps {
		b = binary.AppendVarint(b, int64(p.Position))
		b = str(p.AccountID.String())
		b = binary.AppendVarint(b, p.Amount)
		b = str(p.Currency)
	}
	return b
}

// chainHash is SHA-256 over the previous transaction's hash and the
// canonical encoding of this one.
func chainHash(t models.LedgerTransaction, ps []models.LedgerPosting) []byte {
	h := sha256.New()
	h.Write(t.PrevHash)
	h.Write(encode(t, ps))
	return h.Sum(nil)
}

// Head is one chain's position: its last transaction's sequence and hash.
type Head struct {
	ChainKey string `json:"chain_key"`
	Seq      int64  `json:"seq"`
	Hash     []byte `json:"hash"`
}

// headsHash is the one hash that stands for every chain at once: SHA-256
// over the heads in chain_key order. A checkpoint signs it.
func headsHash(heads []Head) []byte {
	h := sha256.New()
	var b []byte
	b = binary.AppendUvarint(b, uint64(len(heads)))
	for _, hd := range heads {
		b = binary.AppendUvarint(b, uint64(len(hd.ChainKey)))
		b = append(b, hd.ChainKey...)
		b = binary.AppendVarint(b, hd.Seq)
		b = append(b, hd.Hash...)
	}
	h.Write([]byte("karigar/ledger/heads/v1"))
	h.Write(b)
	return h.Sum(nil)
}
