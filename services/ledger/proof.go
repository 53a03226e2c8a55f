package ledger

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services"
	"github.com/karigar/karigar/services/groups"
)

// Proof shows that a transaction is in the books as of a signed checkpoint,
// to anyone who has the platform's public key (VerifyInclusion;
// docs/architecture.md gives the algorithm step by step). It holds the
// transaction's id, hash, chain and place in it, and hashes: nothing of
// what the transaction moved or whose accounts it touched, and nothing of
// any other transaction but hashes of hashes.
type Proof struct {
	TransactionID   uuid.UUID
	TransactionHash []byte
	Chain           string // the chain's key: its group's id, or PlatformChain
	Sequence        int64  // the transaction's place in its chain, from 1; its leaf index is Sequence-1
	TreeSize        int64  // the chain's transactions as of the checkpoint: the size of its tree
	ChainIndex      int64  // the chain's place among the checkpoint's Chains chains, in key order, from 0
	// Path leads from the transaction's leaf to the root of its chain's
	// tree (RFC 9162's audit path for leaf Sequence-1 of TreeSize), and on
	// from the chain's leaf to the checkpoint's RootHash (for leaf
	// ChainIndex of Checkpoint.Chains): 32 bytes each, leaf end first.
	Path       [][]byte
	Checkpoint Checkpoint // of version 2
}

// errUncovered: the latest checkpoint was signed before the transaction
// was booked (or there is none yet).
var errUncovered = errors.New("ledger: no checkpoint covers the transaction yet")

// InclusionProof proves that the transaction is in the books: the path
// from its hash to the latest signed checkpoint, after signing a new one if
// the latest was signed before it was booked. The proof is read in one
// snapshot of the ledger, so bookings going on (on this replica or any
// other) do not disturb it, and it is checked with the public key before
// it is returned. Errors: not_found (no such transaction); any other means
// the database failed or the ledger was damaged (verify it).
func (s *Service) InclusionProof(ctx context.Context, transactionID uuid.UUID) (Proof, error) {
	p, err := s.prove(ctx, transactionID)
	if errors.Is(err, errUncovered) {
		if _, err := s.Checkpoint(ctx); err != nil {
			return Proof{}, err
		}
		// Whatever checkpoint is now the latest, by this replica or
		// another, was made after the transaction was booked.
		p, err = s.prove(ctx, transactionID)
	}
	if err != nil {
		return Proof{}, err
	}
	if err := VerifyInclusion(s.PublicKey(), p); err != nil {
		return Proof{}, fmt.Errorf("ledger: the proof of transaction %s does not verify: %w", transactionID, err)
	}
	return p, nil
}

// AuditProof is InclusionProof for an auditor or admin: admins get any
// transaction's proof; auditors those of the groups assigned to them (the
// platform's own transactions are the admins'), as they see transactions.
// Errors: not_found (no such transaction, or one the actor may not see),
// forbidden (a role that reads no books).
func (s *Service) AuditProof(ctx context.Context, actor services.Actor, transactionID uuid.UUID) (Proof, error) {
	db := s.db.WithContext(ctx)
	var ts []models.LedgerTransaction
	if err := db.Select("id", "group_id").Where("id = ?", transactionID).Limit(1).Find(&ts).Error; err != nil {
		return Proof{}, err
	}
	if len(ts) == 0 {
		return Proof{}, services.NotFound("transaction")
	}
	if g := ts[0].GroupID; g == nil {
		if actor.Role != models.RoleAdmin {
			return Proof{}, services.NotFound("transaction")
		}
	} else if _, err := groups.Readable(db, actor, *g); services.IsCode(err, services.CodeNotFound) {
		return Proof{}, services.NotFound("transaction")
	} else if err != nil {
		return Proof{}, err
	}
	return s.InclusionProof(ctx, transactionID)
}

// prove builds the proof against the latest checkpoint, in one snapshot,
// and stores the block hashes it had to compute; errUncovered if that
// checkpoint does not cover the transaction.
func (s *Service) prove(ctx context.Context, id uuid.UUID) (Proof, error) {
	var p Proof
	var fresh []models.LedgerTreeNode
	err := models.ReadSnapshot(ctx, s.db, func(tx *gorm.DB) error {
		var ts []models.LedgerTransaction
		if err := tx.Select("id", "chain_key", "chain_seq", "hash").Where("id = ?", id).Limit(1).Find(&ts).Error; err != nil {
			return err
		}
		if len(ts) == 0 {
			return services.NotFound("transaction")
		}
		t := ts[0]
		cp, heads, err := latestCheckpoint(tx)
		if err != nil {
			return err
		}
		if cp == nil {
			return errUncovered
		}
		i := slices.IndexFunc(heads, func(h Head) bool { return h.ChainKey == t.ChainKey })
		if i < 0 || heads[i].Seq < t.ChainSeq {
			return errUncovered
		}
		head := heads[i]
		leaf := t.ChainSeq - 1
		trees, computed, err := readTrees(tx, []treeWant{{chain: t.ChainKey, size: head.Seq, blocks: []int64{leaf / blockSize}}})
		if err != nil {
			return err
		}
		fresh = computed
		tree := trees[t.ChainKey]
		top := chainLeaves(heads)
		// What the checkpoint recorded must be what the tree is now: the
		// stored block hashes and the transactions agree with it.
		if !bytes.Equal(tree.root(), head.Root) || !bytes.Equal(mth(top), cp.RootHash) {
			return fmt.Errorf("ledger: chain %s no longer makes the tree checkpoint %x recorded: verify the ledger", t.ChainKey, cp.HeadHash)
		}
		path := auditPath(tree.hash, leaf, 0, tree.size)
		path = append(path, auditPath(top.hash, int64(i), 0, int64(len(top)))...)
		p = Proof{TransactionID: t.ID, TransactionHash: t.Hash, Chain: t.ChainKey, Sequence: t.ChainSeq, TreeSize: head.Seq,
			ChainIndex: int64(i), Path: path,
			Checkpoint: Checkpoint{Version: CheckpointV2, Sequence: cp.Sequence, HeadHash: cp.HeadHash, Chains: int64(len(heads)),
				RootHash: cp.RootHash, CreatedAt: cp.CreatedAt.UTC()}}
		return nil
	})
	if err != nil {
		return Proof{}, err
	}
	if err := s.storeNodes(ctx, fresh); err != nil {
		return Proof{}, err
	}
	p.Checkpoint.Signature = ed25519.Sign(s.opt.SigningKey, p.Checkpoint.message())
	return p, nil
}

// treeWant asks for the tree of a chain's first size transactions, with
// the leaves of the blocks listed (the last, incomplete block's leaves are
// always read: the root needs them).
type treeWant struct {
	chain  string
	size   int64
	blocks []int64
}

// treeReadChunk is how many ranges of transactions one query reads.
const treeReadChunk = 100

// readTrees reads, through tx, the trees wants ask for, in three queries
// or so whatever their number: the stored block hashes of their chains,
// then the leaves of the blocks asked for and of every complete block whose
// hash is not stored yet, which are then computed and returned for
// storeNodes (tx is a read-only snapshot).
func readTrees(tx *gorm.DB, wants []treeWant) (map[string]*chainTree, []models.LedgerTreeNode, error) {
	trees := make(map[string]*chainTree, len(wants))
	keys := make([]string, 0, len(wants))
	for _, w := range wants {
		trees[w.chain] = &chainTree{chain: w.chain, size: w.size, blocks: make([][]byte, w.size/blockSize), leaves: map[int64][][]byte{}}
		if w.size >= blockSize {
			keys = append(keys, w.chain)
		}
	}
	for chunk := range slices.Chunk(keys, 500) {
		var nodes []models.LedgerTreeNode
		if err := tx.Where("level = ? AND chain_key IN ?", blockLevel, chunk).Find(&nodes).Error; err != nil {
			return nil, nil, err
		}
		for _, n := range nodes {
			if t := trees[n.ChainKey]; n.Idx >= 0 && n.Idx < int64(len(t.blocks)) && len(n.Hash) == 32 {
				t.blocks[n.Idx] = n.Hash
			}
		}
	}

	// The blocks whose leaves are read, as ranges of sequence numbers.
	type span struct {
		chain    string
		from, to int64 // chain_seq, inclusive
	}
	var spans []span
	for _, w := range wants {
		t := trees[w.chain]
		need := slices.Clone(w.blocks)
		if t.size%blockSize != 0 {
			need = append(need, t.size/blockSize)
		}
		for b, h := range t.blocks {
			if h == nil {
				need = append(need, int64(b))
			}
		}
		slices.Sort(need)
		for _, b := range slices.Compact(need) {
			if b < 0 || b*blockSize >= t.size {
				continue
			}
			from, to := b*blockSize+1, min((b+1)*blockSize, t.size)
			t.leaves[b] = make([][]byte, to-from+1)
			if n := len(spans); n > 0 && spans[n-1].chain == t.chain && spans[n-1].to+1 == from {
				spans[n-1].to = to
			} else {
				spans = append(spans, span{t.chain, from, to})
			}
		}
	}
	for chunk := range slices.Chunk(spans, treeReadChunk) {
		conds := make([]string, len(chunk))
		args := make([]any, 0, 3*len(chunk))
		for i, sp := range chunk {
			conds[i] = "(chain_key = ? AND chain_seq BETWEEN ? AND ?)"
			args = append(args, sp.chain, sp.from, sp.to)
		}
		rows, err := tx.Raw("SELECT chain_key, chain_seq, id, hash FROM ledger_transactions WHERE "+strings.Join(conds, " OR "), args...).Rows()
		if err != nil {
			return nil, nil, err
		}
		for rows.Next() {
			var key string
			var seq int64
			var id uuid.UUID
			var hash []byte
			if err := rows.Scan(&key, &seq, &id, &hash); err != nil {
				rows.Close()
				return nil, nil, err
			}
			i := seq - 1
			b := i / blockSize
			trees[key].leaves[b][i-b*blockSize] = txLeaf(id, hash)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, nil, err
		}
	}

	var fresh []models.LedgerTreeNode
	for _, w := range wants {
		t := trees[w.chain]
		for b, ls := range t.leaves {
			if i := slices.IndexFunc(ls, func(l []byte) bool { return l == nil }); i >= 0 {
				return nil, nil, fmt.Errorf("ledger: chain %s has no transaction %d, below its head at %d: verify the ledger",
					t.chain, b*blockSize+int64(i)+1, t.size)
			}
		}
		for b, h := range t.blocks {
			if h == nil {
				t.blocks[b] = mth(t.leaves[int64(b)])
				fresh = append(fresh, models.LedgerTreeNode{ChainKey: t.chain, Level: blockLevel, Idx: int64(b), Hash: t.blocks[b]})
			}
		}
	}
	return trees, fresh, nil
}

// storeNodes stores block hashes computed from their transactions, for
// the next proof or checkpoint. Replicas that compute the same block store
// the same hash: the first one stays.
func (s *Service) storeNodes(ctx context.Context, nodes []models.LedgerTreeNode) error {
	if len(nodes) == 0 {
		return nil
	}
	return s.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(nodes, 500).Error
}
