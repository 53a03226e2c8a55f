package ledger

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"encoding/json"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services"
)

// Checkpoint is a signed statement of the ledger's position: Sequence
// transactions in all, whose chains' heads hash to HeadHash. An auditor
// keeps it outside the platform; whoever holds the database can recompute
// the chains, but not sign a checkpoint for a rewritten one.
type Checkpoint struct {
	Sequence  int64
	HeadHash  []byte
	CreatedAt time.Time
	Signature []byte
}

// message is what a checkpoint's signature covers.
func (c Checkpoint) message() []byte {
	b := []byte("karigar/ledger/checkpoint/v1")
	b = binary.AppendVarint(b, c.Sequence)
	b = append(b, c.HeadHash...)
	return append(b, c.CreatedAt.UTC().Format(time.RFC3339Nano)...)
}

// Checkpoint signs the chains' current heads and records which positions
// they were, so that a later verification can check the chains still pass
// through them. Asking twice with no booking in between returns the same
// checkpoint.
func (s *Service) Checkpoint(ctx context.Context) (Checkpoint, error) {
	var cp models.LedgerCheckpoint
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var chains []models.LedgerChain
		if err := tx.Order("chain_key").Find(&chains).Error; err != nil {
			return err
		}
		heads := make([]Head, 0, len(chains))
		var seq int64
		for _, c := range chains {
			heads = append(heads, Head{ChainKey: c.ChainKey, Seq: c.Seq, Hash: c.HeadHash})
			seq += c.Seq
		}
		raw, err := json.Marshal(heads)
		if err != nil {
			return err
		}
		cp = models.LedgerCheckpoint{Sequence: seq, HeadHash: headsHash(heads), Heads: string(raw), CreatedAt: s.now()}
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&cp).Error; err != nil {
			return err
		}
		return tx.First(&cp, "head_hash = ?", cp.HeadHash).Error
	})
	if err != nil {
		return Checkpoint{}, err
	}
	out := Checkpoint{Sequence: cp.Sequence, HeadHash: cp.HeadHash, CreatedAt: cp.CreatedAt.UTC()}
	out.Signature = ed25519.Sign(s.opt.SigningKey, out.message())
	return out, nil
}

// CheckpointResult is whether the ledger still passes through one checkpoint.
type CheckpointResult struct {
	Checkpoint Checkpoint
	OK         bool
	Problem    string
}

// VerifyCheckpoints verifies the ledger (as Verify) and, for each
// checkpoint an auditor kept, whether its signature is the platform's and
// the recomputed chains still pass through every head it covers. The
// verification is OK only if every checkpoint is.
func (s *Service) VerifyCheckpoints(ctx context.Context, cps []Checkpoint) (Verification, []CheckpointResult, error) {
	if len(cps) == 0 || len(cps) > 100 {
		return Verification{}, nil, services.Invalid(map[string]string{"checkpoints": "must hold 1 to 100 checkpoints"})
	}
	results := make([]CheckpointResult, len(cps))
	recorded := make([][]Head, len(cps))
	want := map[string]map[int64]bool{}
	var hashes [][]byte
	for i, cp := range cps {
		results[i] = CheckpointResult{Checkpoint: cp}
		if !ed25519.Verify(s.PublicKey(), cp.message(), cp.Signature) {
			results[i].Problem = "its signature is not this platform's: it was altered or made elsewhere"
			continue
		}
		hashes = append(hashes, cp.HeadHash)
	}
	var rows []models.LedgerCheckpoint
	if len(hashes) > 0 {
		if err := s.db.WithContext(ctx).Where("head_hash IN ?", hashes).Find(&rows).Error; err != nil {
			return Verification{}, nil, err
		}
	}
	kept := map[string]string{} // head hash → the heads it covers
	for _, r := range rows {
		kept[string(r.HeadHash)] = r.Heads
	}
	for i, cp := range cps {
		if results[i].Problem != "" {
			continue
		}
		var heads []Head
		if raw := kept[string(cp.HeadHash)]; raw == "" || json.Unmarshal([]byte(raw), &heads) != nil || !bytes.Equal(headsHash(heads), cp.HeadHash) {
			results[i].Problem = "the ledger no longer holds the record of this checkpoint's chain heads"
			continue
		}
		recorded[i] = heads
		for _, h := range heads {
			if want[h.ChainKey] == nil {
				want[h.ChainKey] = map[int64]bool{}
			}
			want[h.ChainKey][h.Seq] = true
		}
	}
	v, err := s.verify(ctx, want)
	if err != nil {
		return v, nil, err
	}
	for i := range results {
		if results[i].Problem != "" {
			continue
		}
		results[i].OK = true
		for _, h := range recorded[i] {
			if h.Seq == 0 {
				continue
			}
			if got := v.at[h.ChainKey][h.Seq]; !bytes.Equal(got, h.Hash) {
				results[i].OK = false
				results[i].Problem = "the chain " + h.ChainKey + " no longer passes through this checkpoint: transactions before it were changed or removed"
				break
			}
		}
	}
	for _, r := range results {
		v.OK = v.OK && r.OK
	}
	return v, results, nil
}
