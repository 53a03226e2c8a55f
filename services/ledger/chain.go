package ledger

import (
	"crypto/sha256"
	"encoding/binary"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/karigar/karigar/models"
)

// Hash versions: which encoding a transaction's hash covers, stored with it
// (ledger_transactions.hash_version) so that chains written before a change
// of the encoding keep verifying. Each encoding starts with its own tag, so
// a transaction's version cannot be changed without changing its hash.
const (
	// hashV1: the transaction and its postings, accounts by id only. Rows
	// written before migration 0012, or by an older binary still running.
	hashV1 = 1
	// hashV2: as version 1, and with every posting the identity of its
	// account as it was when booked (identity), so that a row of
	// ledger_accounts given to another owner, group or type, or another
	// currency, no longer matches the transactions that posted to it.
	hashV2 = 2
	// currentHashVersion is what bookings are written with.
	currentHashVersion = hashV2
)

// encodingTag starts the encoding of a transaction of a version. Unknown
// versions get a tag of their own: such a row cannot match its hash.
func encodingTag(version int) string {
	switch version {
	case hashV1:
		return "karigar/ledger/v1"
	case hashV2:
		return "karigar/ledger/v2"
	}
	return "karigar/ledger/unknown/" + strconv.Itoa(version)
}

// chainAccount is an account as the chain hashes it: its row, its identity
// encoded once, and during a verification what was found about it.
type chainAccount struct {
	models.LedgerAccount
	identity []byte // appendIdentity of the row, computed once
	missing  bool   // postings name it but no such row exists
	sum      int64  // what the postings read so far add up to
	vouched  bool   // a version 2 transaction posting to it still matches its hash
}

func newChainAccount(a models.LedgerAccount) *chainAccount {
	return &chainAccount{LedgerAccount: a, identity: appendIdentity(nil, a)}
}

// posted is a posting with the account it posts to.
type posted struct {
	models.LedgerPosting
	acct *chainAccount // nil only where version 1 is all that is encoded
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendID(b []byte, u *uuid.UUID) []byte {
	if u == nil {
		return appendString(b, "")
	}
	return appendString(b, u.String())
}

// appendRawID appends a UUID's 16 bytes, length-prefixed (0 for none):
// version 2's identities use it, as cheaper than the text form.
func appendRawID(b []byte, u *uuid.UUID) []byte {
	if u == nil {
		return binary.AppendUvarint(b, 0)
	}
	b = binary.AppendUvarint(b, 16)
	return append(b, u[:]...)
}

// appendIdentity encodes who an account belongs to and what it is: owner
// kind, owner id, group, type, currency and whether it may go negative
// (which decides whether an overdraft is refused).
func appendIdentity(b []byte, a models.LedgerAccount) []byte {
	b = appendString(b, a.OwnerKind)
	b = appendRawID(b, &a.OwnerID)
	b = appendRawID(b, a.GroupID)
	b = appendString(b, a.Type)
	b = appendString(b, a.Currency)
	if a.MayGoNegative {
		return append(b, 1)
	}
	return append(b, 0)
}

// identityHash is what an account records of its identity when opened:
// SHA-256 over its id and identity.
func identityHash(a models.LedgerAccount) []byte {
	b := appendString(nil, "karigar/ledger/account/v1")
	b = appendRawID(b, &a.ID)
	h := sha256.Sum256(appendIdentity(b, a))
	return h[:]
}

// encode is the canonical encoding of a transaction and its postings (in
// position order) in the transaction's hash version: every field,
// length-prefixed, in a fixed order. The writer and the verifier share it,
// so they cannot disagree on what a transaction was; a change to any field,
// posting, the order of postings or (version 2) an account's identity
// changes it. Version 1's bytes must never change (a test holds a hash
// computed before version 2 existed).
func encode(t models.LedgerTransaction, ps []posted) []byte {
	b := make([]byte, 0, 256+128*len(ps))
	b = appendString(b, encodingTag(t.HashVersion))
	b = appendString(b, t.ID.String())
	b = appendString(b, t.ChainKey)
	b = binary.AppendVarint(b, t.ChainSeq)
	b = appendString(b, t.Reference)
	b = appendString(b, t.Kind)
	b = appendID(b, t.GroupID)
	b = appendString(b, t.Memo)
	b = appendString(b, t.OccurredAt.UTC().Format(time.RFC3339Nano))
	b = appendID(b, t.PrevID)
	b = binary.AppendUvarint(b, uint64(len(ps)))
	for _, p := range ps {
		b = binary.AppendVarint(b, int64(p.Position))
		b = appendString(b, p.AccountID.String())
		b = binary.AppendVarint(b, p.Amount)
		b = appendString(b, p.Currency)
		if t.HashVersion >= hashV2 {
			if p.acct == nil || p.acct.missing {
				b = append(b, 0xff) // no identity encodes as one
			} else {
				b = append(b, p.acct.identity...)
			}
		}
	}
	return b
}

// chainHash is SHA-256 over the previous transaction's hash and the
// canonical encoding of this one.
func chainHash(t models.LedgerTransaction, ps []posted) []byte {
	h := sha256.New()
	h.Write(t.PrevHash)
	h.Write(encode(t, ps))
	return h.Sum(nil)
}

// Head is one chain's position: its last transaction's sequence and hash,
// and (in a checkpoint of version 2) the root of the chain's tree of its
// Seq transactions (tree.go).
type Head struct {
	ChainKey string `json:"chain_key"`
	Seq      int64  `json:"seq"`
	Hash     []byte `json:"hash"`
	Root     []byte `json:"root,omitempty"`
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
