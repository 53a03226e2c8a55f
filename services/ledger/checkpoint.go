package ledger

import (
	"bytes"
	"cmp"
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"encoding/json"
	"slices"
	"strconv"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services"
)

// Checkpoint versions: what a checkpoint's signature covers.
const (
	// CheckpointV1: the sequence, the heads' hash and the time. Every
	// checkpoint signed before inclusion proofs; they keep verifying.
	CheckpointV1 = 1
	// CheckpointV2: as version 1, and the number of chains and the root
	// of the tree over the chains' trees (tree.go), which inclusion proofs
	// lead to. What Checkpoint signs now.
	CheckpointV2 = 2
)

// Checkpoint is a signed statement of the ledger's position: Sequence
// transactions in all, whose chains' heads hash to HeadHash, and (version
// 2) whose Chains chains' trees hash to RootHash. An auditor keeps it
// outside the platform; whoever holds the database can recompute the
// chains, but not sign a checkpoint for a rewritten one.
type Checkpoint struct {
	Version   int // CheckpointV1 (or 0) or CheckpointV2
	Sequence  int64
	HeadHash  []byte
	Chains    int64  // version 2
	RootHash  []byte // version 2
	CreatedAt time.Time
	Signature []byte
}

// Signed messages start with their version's tag.
const (
	checkpointV1Tag = "karigar/ledger/checkpoint/v1"
	checkpointV2Tag = "karigar/ledger/checkpoint/v2"
)

// message is what a checkpoint's signature covers. Version 1's bytes must
// never change: auditors hold checkpoints signed over them. A version
// other than 1 or 2 gets a message no signature of the platform covers.
func (c Checkpoint) message() []byte {
	created := c.CreatedAt.UTC().Format(time.RFC3339Nano)
	switch c.Version {
	case 0, CheckpointV1:
		b := []byte(checkpointV1Tag)
		b = binary.AppendVarint(b, c.Sequence)
		b = append(b, c.HeadHash...)
		return append(b, created...)
	case CheckpointV2:
		b := []byte(checkpointV2Tag)
		b = binary.BigEndian.AppendUint64(b, uint64(c.Sequence))
		b = append(b, c.HeadHash...)
		b = binary.BigEndian.AppendUint64(b, uint64(c.Chains))
		b = append(b, c.RootHash...)
		return append(b, created...)
	}
	return []byte("karigar/ledger/checkpoint/unknown/" + strconv.Itoa(c.Version))
}

// chainsRoot is the root of a checkpoint's tree: over each chain's leaf
// (its key, tree size and root), in the order of heads.
func chainsRoot(heads []Head) []byte { return mth(chainLeaves(heads)) }

func chainLeaves(heads []Head) leafList {
	out := make(leafList, len(heads))
	for i, h := range heads {
		out[i] = chainLeaf(h.ChainKey, h.Seq, h.Root)
	}
	return out
}

// Checkpoint signs the chains' current heads and trees (version 2) and
// records which positions and roots they were, so that a later
// verification can check the chains still pass through them, and proofs
// can lead to it. Asking twice with no booking in between returns the same
// checkpoint. Errors: only the database's.
func (s *Service) Checkpoint(ctx context.Context) (Checkpoint, error) {
	var heads []Head
	var fresh []models.LedgerTreeNode
	err := models.ReadSnapshot(ctx, s.db, func(tx *gorm.DB) error {
		var chains []models.LedgerChain
		if err := tx.Find(&chains).Error; err != nil {
			return err
		}
		// In byte order, whatever the database's collation: as verify
		// orders the heads it recomputes.
		slices.SortFunc(chains, func(a, b models.LedgerChain) int { return cmp.Compare(a.ChainKey, b.ChainKey) })
		// A chain that has not moved since the latest checkpoint keeps the
		// root recorded there; the others' are read.
		_, prev, err := latestCheckpoint(tx)
		if err != nil {
			return err
		}
		known := map[string]Head{}
		for _, h := range prev {
			known[h.ChainKey] = h
		}
		var wants []treeWant
		heads = make([]Head, 0, len(chains))
		for _, c := range chains {
			h := Head{ChainKey: c.ChainKey, Seq: c.Seq, Hash: c.HeadHash}
			if k, ok := known[c.ChainKey]; ok && k.Seq == c.Seq && bytes.Equal(k.Hash, c.HeadHash) && len(k.Root) == 32 {
				h.Root = k.Root
			} else {
				wants = append(wants, treeWant{chain: c.ChainKey, size: c.Seq, leaf: -1})
			}
			heads = append(heads, h)
		}
		trees, computed, err := s.readTrees(tx, wants)
		if err != nil {
			return err
		}
		fresh = computed
		for i := range heads {
			if heads[i].Root == nil {
				heads[i].Root = trees[heads[i].ChainKey].root()
			}
		}
		return nil
	})
	if err != nil {
		return Checkpoint{}, err
	}
	if err := s.storeNodes(ctx, fresh); err != nil {
		return Checkpoint{}, err
	}
	raw, err := json.Marshal(heads)
	if err != nil {
		return Checkpoint{}, err
	}
	var seq int64
	for _, h := range heads {
		seq += h.Seq
	}
	cp := models.LedgerCheckpoint{Sequence: seq, HeadHash: headsHash(heads), RootHash: chainsRoot(heads), Heads: string(raw),
		CreatedAt: s.now()}
	err = models.Transact(ctx, s.db, func(tx *gorm.DB) error {
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&cp).Error; err != nil {
			return err
		}
		// The same heads signed before as version 1: the record gains the
		// roots; its time, which version 1 signed, stays.
		if err := tx.Model(&models.LedgerCheckpoint{}).Where("head_hash = ? AND root_hash IS NULL", cp.HeadHash).
			Updates(map[string]any{"root_hash": cp.RootHash, "heads": cp.Heads}).Error; err != nil {
			return err
		}
		return tx.First(&cp, "head_hash = ?", cp.HeadHash).Error
	})
	if err != nil {
		return Checkpoint{}, err
	}
	out := Checkpoint{Version: CheckpointV2, Sequence: cp.Sequence, HeadHash: cp.HeadHash, Chains: int64(len(heads)),
		RootHash: cp.RootHash, CreatedAt: cp.CreatedAt.UTC()}
	out.Signature = ed25519.Sign(s.opt.SigningKey, out.message())
	return out, nil
}

// latestCheckpoint reads the latest checkpoint of version 2 and its heads;
// nil if there is none yet. Chains only grow, so the one with the highest
// sequence covers every transaction any other covers.
func latestCheckpoint(tx *gorm.DB) (*models.LedgerCheckpoint, []Head, error) {
	var rows []models.LedgerCheckpoint
	if err := tx.Where("root_hash IS NOT NULL").Order("sequence DESC, created_at DESC").Limit(1).Find(&rows).Error; err != nil {
		return nil, nil, err
	}
	if len(rows) == 0 {
		return nil, nil, nil
	}
	var heads []Head
	if err := json.Unmarshal([]byte(rows[0].Heads), &heads); err != nil {
		return nil, nil, err
	}
	return &rows[0], heads, nil
}

// CheckpointResult is whether the ledger still passes through one checkpoint.
type CheckpointResult struct {
	Checkpoint Checkpoint
	OK         bool
	Problem    string
}

// VerifyCheckpoints verifies the ledger (as Verify) and, for each
// checkpoint an auditor kept, whether its signature is the platform's and
// the recomputed chains still pass through every head it covers; for a
// checkpoint of version 2, also whether each chain's tree, rebuilt from the
// recomputed hashes, has the root it signed. The verification is OK only if
// every checkpoint is. Errors: invalid (no checkpoints, or more than 100).
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
		if cp.Version == CheckpointV2 && (int64(len(heads)) != cp.Chains || !bytes.Equal(chainsRoot(heads), cp.RootHash)) {
			results[i].Problem = "the ledger no longer holds the record of this checkpoint's chain trees"
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
		v2 := results[i].Checkpoint.Version == CheckpointV2
		for _, h := range recorded[i] {
			if h.Seq == 0 {
				if v2 && !bytes.Equal(h.Root, emptyRoot) {
					results[i].OK = false
					results[i].Problem = "the chain " + h.ChainKey + " has no transactions, and this checkpoint signed a tree of some"
					break
				}
				continue
			}
			if got := v.at[h.ChainKey][h.Seq]; !bytes.Equal(got, h.Hash) {
				results[i].OK = false
				results[i].Problem = "the chain " + h.ChainKey + " no longer passes through this checkpoint: transactions before it were changed or removed"
				break
			}
			if got := v.roots[h.ChainKey][h.Seq]; v2 && !bytes.Equal(got, h.Root) {
				results[i].OK = false
				results[i].Problem = "the chain " + h.ChainKey + "'s transactions no longer make the tree this checkpoint signed"
				break
			}
		}
	}
	for _, r := range results {
		v.OK = v.OK && r.OK
	}
	return v, results, nil
}
