package api_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services/ledger"
)

// The verifier below is written from the algorithm documented in
// docs/architecture.md ("Inclusion proofs") and the LedgerInclusionProof
// schema, with crypto/ed25519 and crypto/sha256 only: it does not call the
// ledger package, so a proof that passes it is checkable by an outsider
// who holds nothing but the public key.

// wireProof is an inclusion proof as the API sends it.
type wireProof struct {
	TransactionID   string   `json:"transaction_id"`
	TransactionHash string   `json:"transaction_hash"`
	Chain           string   `json:"chain"`
	Sequence        uint64   `json:"sequence"`
	TreeSize        uint64   `json:"tree_size"`
	ChainIndex      uint64   `json:"chain_index"`
	Path            []string `json:"path"`
	Checkpoint      struct {
		Version    int    `json:"version"`
		Sequence   uint64 `json:"sequence"`
		HeadHash   string `json:"head_hash"`
		ChainCount uint64 `json:"chain_count"`
		RootHash   string `json:"root_hash"`
		CreatedAt  string `json:"created_at"` // signed as this exact string
		Signature  string `json:"signature"`
	} `json:"checkpoint"`
}

// checkProof verifies a proof with the public key alone.
func checkProof(pub ed25519.PublicKey, p wireProof) error {
	hash32 := func(what, s string) ([]byte, error) {
		b, err := hex.DecodeString(s)
		if err != nil || len(b) != 32 {
			return nil, fmt.Errorf("%s is not 32 bytes of hex", what)
		}
		return b, nil
	}
	cp := p.Checkpoint
	if cp.Version != 2 {
		return fmt.Errorf("checkpoint version %d", cp.Version)
	}
	txHash, err := hash32("transaction_hash", p.TransactionHash)
	if err != nil {
		return err
	}
	head, err := hash32("head_hash", cp.HeadHash)
	if err != nil {
		return err
	}
	root, err := hash32("root_hash", cp.RootHash)
	if err != nil {
		return err
	}
	id, err := hex.DecodeString(strings.ReplaceAll(p.TransactionID, "-", ""))
	if err != nil || len(id) != 16 {
		return errors.New("transaction_id is not a UUID")
	}
	sig, err := base64.StdEncoding.DecodeString(cp.Signature)
	if err != nil {
		return err
	}
	path := make([][]byte, len(p.Path))
	for i, s := range p.Path {
		if path[i], err = hash32("path element", s); err != nil {
			return err
		}
	}
	if p.Sequence < 1 || p.Sequence > p.TreeSize || p.ChainIndex >= cp.ChainCount {
		return errors.New("sequence or chain index out of range")
	}

	// 1. The checkpoint is the platform's.
	msg := []byte("karigar/ledger/checkpoint/v2")
	msg = binary.BigEndian.AppendUint64(msg, cp.Sequence)
	msg = append(msg, head...)
	msg = binary.BigEndian.AppendUint64(msg, cp.ChainCount)
	msg = append(msg, root...)
	msg = append(msg, cp.CreatedAt...)
	if !ed25519.Verify(pub, msg, sig) {
		return errors.New("bad signature")
	}
	sum := func(parts ...[]byte) []byte {
		h := sha256.New()
		for _, b := range parts {
			h.Write(b)
		}
		return h.Sum(nil)
	}
	// RFC 9162, 2.1.3.2, taking hashes while the tree has a level above.
	climb := func(r []byte, index, size uint64) ([]byte, error) {
		fn, sn := index, size-1
		for sn > 0 {
			if len(path) == 0 {
				return nil, errors.New("path too short")
			}
			if fn%2 == 1 || fn == sn {
				r = sum([]byte{1}, path[0], r)
				for fn%2 == 0 && fn != 0 {
					fn, sn = fn/2, sn/2
				}
			} else {
				r = sum([]byte{1}, r, path[0])
			}
			path = path[1:]
			fn, sn = fn/2, sn/2
		}
		return r, nil
	}
	// 2. From the transaction's leaf to its chain's root.
	chainRoot, err := climb(sum([]byte{0}, []byte("karigar/ledger/tx-leaf/v1"), id, txHash), p.Sequence-1, p.TreeSize)
	if err != nil {
		return err
	}
	// 3. From the chain's leaf to the checkpoint's root.
	got, err := climb(sum([]byte{0}, []byte("karigar/ledger/chain-leaf/v1"), binary.BigEndian.AppendUint64(nil, p.TreeSize), chainRoot,
		[]byte(p.Chain)), p.ChainIndex, cp.ChainCount)
	if err != nil {
		return err
	}
	if len(path) != 0 {
		return errors.New("path too long")
	}
	if !bytes.Equal(got, root) {
		return errors.New("the path does not lead to the signed root")
	}
	return nil
}

// toLedgerProof decodes a proof from the API for ledger.VerifyInclusion.
func toLedgerProof(t *testing.T, p wireProof) ledger.Proof {
	t.Helper()
	dec := func(s string) []byte { b, _ := hex.DecodeString(s); return b }
	out := ledger.Proof{TransactionID: uuid.MustParse(p.TransactionID), TransactionHash: dec(p.TransactionHash), Chain: p.Chain,
		Sequence: int64(p.Sequence), TreeSize: int64(p.TreeSize), ChainIndex: int64(p.ChainIndex)}
	for _, h := range p.Path {
		out.Path = append(out.Path, dec(h))
	}
	cp := p.Checkpoint
	out.Checkpoint = ledger.Checkpoint{Version: cp.Version, Sequence: int64(cp.Sequence), HeadHash: dec(cp.HeadHash),
		Chains: int64(cp.ChainCount), RootHash: dec(cp.RootHash)}
	if err := out.Checkpoint.CreatedAt.UnmarshalText([]byte(cp.CreatedAt)); err != nil {
		t.Fatal(err)
	}
	out.Checkpoint.Signature, _ = base64.StdEncoding.DecodeString(cp.Signature)
	return out
}

func (e *env) publicKey() ed25519.PublicKey {
	e.t.Helper()
	var key struct {
		PublicKey string `json:"public_key"`
	}
	res := e.do("GET", "/api/v1/audit/ledger/public-key", nil)
	res.wantStatus(e.t, 200)
	res.decode(e.t, &key)
	pub, err := base64.StdEncoding.DecodeString(key.PublicKey)
	if err != nil || len(pub) != ed25519.PublicKeySize {
		e.t.Fatalf("public key %q", key.PublicKey)
	}
	return pub
}

// proof fetches a transaction's proof as s, and its raw body.
func (e *env) proof(s session, id uuid.UUID) (wireProof, []byte) {
	e.t.Helper()
	res := e.do("GET", "/api/v1/audit/ledger/proofs/"+id.String(), nil, bearer(s.AccessToken))
	res.wantStatus(e.t, 200)
	var p wireProof
	res.decode(e.t, &p)
	return p, res.Body
}

// An auditor fetches the proofs of the first, a middle and the last
// transaction of a group's chain (sales and a payout): each verifies with
// only the public key, by a verifier written from the documentation; every
// alteration, and another transaction's proof, fails. The proof holds the
// transaction's own id and hash and nothing else that names anyone; its
// checkpoint verifies with POST /audit/ledger/verify, as do checkpoints of
// version 1 kept from before.
func TestLedgerInclusionProofs(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f := newCatalogFixture(e)
		pub := uuid.MustParse(f.public.ID)
		sell(e, f.group.ID, 1, ledger.MakerMinutes{ArtisanID: pub, Minutes: 240})
		sell(e, f.group.ID, 2, ledger.MakerMinutes{ArtisanID: uuid.MustParse(f.private.ID), Minutes: 60})
		// A payout to her, booked as CreatePayout books one (the route's
		// own tests are TestPayoutsAndAcknowledgements').
		g := uuid.MustParse(f.group.ID)
		if _, _, err := ledgerOf(e).Post(t.Context(), ledger.Entry{Reference: "payout:proof-test", Kind: ledger.KindPayout, GroupID: &g,
			Memo: `{"method":"jazzcash"}`, Postings: []ledger.Posting{
				{Owner: ledger.Artisan(pub, g), Type: ledger.TypePayable, Amount: -40000, Currency: "PKR"},
				{Owner: ledger.Platform, Type: ledger.TypePaidOut, Amount: 40000, Currency: "PKR"}}}); err != nil {
			t.Fatal(err)
		}
		sell(e, f.group.ID, 1, ledger.MakerMinutes{ArtisanID: pub, Minutes: 240})
		sell(e, f.pending.ID, 1, ledger.MakerMinutes{ArtisanID: models.NewID(), Minutes: 30}) // another group's chain

		var chain, elsewhere []models.LedgerTransaction
		if err := e.db.Where("chain_key = ?", f.group.ID).Order("chain_seq").Find(&chain).Error; err != nil || len(chain) != 4 {
			t.Fatalf("chain: %d %v", len(chain), err)
		}
		if err := e.db.Where("chain_key = ?", f.pending.ID).Find(&elsewhere).Error; err != nil || len(elsewhere) != 1 {
			t.Fatalf("other chain: %d %v", len(elsewhere), err)
		}
		if chain[2].Kind != ledger.KindPayout {
			t.Fatalf("the third transaction is the payout: %+v", chain[2])
		}

		path := "/api/v1/audit/ledger/proofs/" + chain[0].ID.String()
		e.do("GET", path, nil).wantError(t, 401, "unauthorized")
		e.do("GET", path, nil, bearer(f.manager.AccessToken)).wantError(t, 403, "forbidden")
		e.do("GET", path, nil, bearer(f.buyer.AccessToken)).wantError(t, 403, "forbidden")
		e.do("GET", path, nil, bearer(f.auditor.AccessToken)).wantError(t, 404, "not_found") // not assigned yet
		e.do("GET", "/api/v1/audit/ledger/proofs/not-a-uuid", nil, bearer(f.admin.AccessToken)).wantError(t, 400, "bad_request")
		e.do("GET", "/api/v1/audit/ledger/proofs/"+models.NewID().String(), nil, bearer(f.admin.AccessToken)).wantError(t, 404, "not_found")
		e.assignAuditor(f.admin, f.group.ID, "auditor@ngo.pk")
		e.do("GET", "/api/v1/audit/ledger/proofs/"+elsewhere[0].ID.String(), nil, bearer(f.auditor.AccessToken)).wantError(t, 404, "not_found")

		key := e.publicKey()
		var accounts []models.LedgerAccount
		if err := e.db.Find(&accounts).Error; err != nil {
			t.Fatal(err)
		}
		proofs := map[int]wireProof{}
		for _, i := range []int{0, 2, 3} { // first, middle (the payout), last
			tr := chain[i]
			pr, raw := e.proof(f.auditor, tr.ID)
			if err := checkProof(key, pr); err != nil {
				t.Fatalf("transaction %d: %v\n%s", i+1, err, raw)
			}
			if err := ledger.VerifyInclusion(key, toLedgerProof(t, pr)); err != nil {
				t.Fatalf("transaction %d, ledger.VerifyInclusion: %v", i+1, err)
			}
			if pr.TransactionID != tr.ID.String() || pr.TransactionHash != hex.EncodeToString(tr.Hash) || pr.Chain != f.group.ID ||
				pr.Sequence != uint64(i+1) || pr.TreeSize != 4 || pr.Checkpoint.ChainCount != 2 || pr.Checkpoint.Sequence != 5 {
				t.Errorf("transaction %d: %s", i+1, raw)
			}
			// Only hashes and the transaction's own id: no artisan, account, person or other transaction.
			var fields map[string]json.RawMessage
			_ = json.Unmarshal(raw, &fields)
			if keys := slices.Sorted(maps.Keys(fields)); !slices.Equal(keys, []string{"chain", "chain_index", "checkpoint",
				"path", "sequence", "transaction_hash", "transaction_id", "tree_size"}) {
				t.Errorf("fields %v", keys)
			}
			leaks := []string{f.public.ID, f.private.ID, f.manager.User.ID, "Shazia", "Rukhsana", "Secret-Surname", "03009998887",
				"9998887", "jazzcash", "payout:"}
			for _, a := range accounts {
				leaks = append(leaks, a.ID.String())
				if a.OwnerID.String() != f.group.ID { // the chain is the group's, shown with a receipt anyway
					leaks = append(leaks, a.OwnerID.String())
				}
			}
			for j, other := range chain {
				if j != i {
					leaks = append(leaks, other.ID.String(), hex.EncodeToString(other.Hash))
				}
			}
			for _, leak := range leaks {
				if leak != uuid.Nil.String() && bytes.Contains(raw, []byte(leak)) {
					t.Errorf("transaction %d's proof holds %q: %s", i+1, leak, raw)
				}
			}
			proofs[i] = pr
		}
		if _, raw := e.proof(f.admin, elsewhere[0].ID); checkProof(key, decodeWire(t, raw)) != nil {
			t.Errorf("the admin's proof of the other group's sale: %s", raw)
		}

		// Tampered proofs fail.
		first, last := proofs[0], proofs[3]
		flip := func(h string) string {
			b, _ := hex.DecodeString(h)
			b[31] ^= 1
			return hex.EncodeToString(b)
		}
		edits := map[string]func(q *wireProof){
			"path[0]":          func(q *wireProof) { q.Path[0] = flip(q.Path[0]) },
			"last of path":     func(q *wireProof) { q.Path[len(q.Path)-1] = flip(q.Path[len(q.Path)-1]) },
			"transaction hash": func(q *wireProof) { q.TransactionHash = flip(q.TransactionHash) },
			"sequence":         func(q *wireProof) { q.Sequence = 2 },
			"root":             func(q *wireProof) { q.Checkpoint.RootHash = flip(q.Checkpoint.RootHash) },
			"signature": func(q *wireProof) {
				b, _ := base64.StdEncoding.DecodeString(q.Checkpoint.Signature)
				b[0] ^= 1
				q.Checkpoint.Signature = base64.StdEncoding.EncodeToString(b)
			},
			"another transaction": func(q *wireProof) { q.TransactionID, q.TransactionHash = last.TransactionID, last.TransactionHash },
			"another's path":      func(q *wireProof) { q.Path = last.Path },
			"created_at":          func(q *wireProof) { q.Checkpoint.CreatedAt = strings.Replace(q.Checkpoint.CreatedAt, "Z", "+00:00", 1) },
		}
		for what, edit := range edits {
			q := first
			q.Path = slices.Clone(first.Path)
			edit(&q)
			if err := checkProof(key, q); err == nil {
				t.Errorf("a proof with an altered %s verified", what)
			}
			if err := ledger.VerifyInclusion(key, toLedgerProof(t, q)); err == nil && what != "created_at" {
				t.Errorf("ledger.VerifyInclusion: a proof with an altered %s verified", what)
			}
		}

		// The proof's checkpoint is one the auditors can keep and verify.
		auditor := bearer(f.auditor.AccessToken)
		var cp map[string]any
		e.do("GET", "/api/v1/audit/ledger/checkpoint", nil, auditor).decode(t, &cp)
		if cp["version"] != float64(2) || cp["root_hash"] != first.Checkpoint.RootHash || cp["created_at"] != first.Checkpoint.CreatedAt {
			t.Fatalf("the latest checkpoint %v is the proofs' %+v", cp, first.Checkpoint)
		}
		var proofCP map[string]any
		_ = json.Unmarshal(mustJSON(t, first.Checkpoint), &proofCP)
		// A checkpoint of version 1, as an auditor kept one before: the same
		// heads, signed as the code before inclusion proofs signed them.
		v1 := map[string]any{"sequence": cp["sequence"], "head_hash": cp["head_hash"], "created_at": cp["created_at"]}
		headHash, _ := hex.DecodeString(cp["head_hash"].(string))
		msg := binary.AppendVarint([]byte("karigar/ledger/checkpoint/v1"), int64(cp["sequence"].(float64)))
		msg = append(append(msg, headHash...), cp["created_at"].(string)...)
		v1["signature"] = base64.StdEncoding.EncodeToString(ed25519.Sign(testLedgerKey, msg))
		var v verification
		res := e.do("POST", "/api/v1/audit/ledger/verify", map[string]any{"checkpoints": []any{cp, proofCP, v1}}, auditor)
		res.wantStatus(t, 200)
		res.decode(t, &v)
		if !v.OK || len(v.Checkpoints) != 3 || !v.Checkpoints[0].OK || !v.Checkpoints[1].OK || !v.Checkpoints[2].OK {
			t.Fatalf("kept checkpoints: %s", res.Body)
		}
		forged := maps.Clone(cp)
		forged["root_hash"] = flip(cp["root_hash"].(string))
		v = verification{}
		e.do("POST", "/api/v1/audit/ledger/verify", map[string]any{"checkpoints": []any{forged}}, auditor).decode(t, &v)
		if v.OK || v.Checkpoints[0].OK {
			t.Errorf("a checkpoint with another root verified: %+v", v)
		}
		for field, bad := range map[string]map[string]any{
			"version":     {"version": 3},
			"root_hash":   {"version": 2, "chain_count": 2, "root_hash": "zz"},
			"chain_count": {"version": 2, "root_hash": cp["root_hash"]},
		} {
			body := maps.Clone(v1)
			maps.Copy(body, bad)
			res := e.do("POST", "/api/v1/audit/ledger/verify", map[string]any{"checkpoints": []any{body}}, auditor)
			if er := res.wantError(t, 422, "validation_failed"); er.Error.Fields["checkpoints[0]."+field] == "" {
				t.Errorf("%s: %+v", field, er.Error.Fields)
			}
		}
		withRoot := maps.Clone(v1)
		withRoot["root_hash"] = cp["root_hash"]
		e.do("POST", "/api/v1/audit/ledger/verify", map[string]any{"checkpoints": []any{withRoot}}, auditor).wantError(t, 422, "validation_failed")

		// Bookings go on: a proof kept stays valid on its own; a new one of
		// the same transaction leads to the latest checkpoint, once there is
		// a newer one (an auditor's, or one signed for a later transaction).
		sell(e, f.group.ID, 1, ledger.MakerMinutes{ArtisanID: pub, Minutes: 240})
		if err := checkProof(key, first); err != nil {
			t.Errorf("a kept proof: %v", err)
		}
		if again, _ := e.proof(f.auditor, chain[0].ID); again.Checkpoint.Sequence != 5 {
			t.Errorf("no newer checkpoint yet: %+v", again.Checkpoint)
		}
		e.do("GET", "/api/v1/audit/ledger/checkpoint", nil, auditor).wantStatus(t, 200)
		again, _ := e.proof(f.auditor, chain[0].ID)
		if err := checkProof(key, again); err != nil || again.TreeSize != 5 || again.Checkpoint.Sequence != 6 {
			t.Errorf("the first transaction's proof, later: %+v %v", again, err)
		}
		e.verifyLedger(f.auditor)
	})
}

func decodeWire(t *testing.T, raw []byte) wireProof {
	t.Helper()
	var p wireProof
	if err := json.Unmarshal(raw, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
