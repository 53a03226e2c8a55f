package ledger

import (
	"bytes"
	"cmp"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"maps"
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
// and stores the subtree hashes it had to compute; errUncovered if that
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
		trees, computed, err := s.readTrees(tx, []treeWant{{chain: t.ChainKey, size: head.Seq, leaf: leaf}})
		if err != nil {
			return err
		}
		fresh = computed
		tree := trees[t.ChainKey]
		top := chainLeaves(heads)
		// What the checkpoint recorded must be what the tree is now: the
		// stored subtree hashes and the transactions agree with it.
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

// treeWant asks for the tree of a chain's first size transactions, and
// the audit path of its leaf (none if leaf < 0).
type treeWant struct {
	chain string
	size  int64
	leaf  int64
}

// treeReadChunk is how many ranges of entries one query reads.
const treeReadChunk = 100

// readTrees reads through tx the entries of the trees wants ask for
// (needed): stored subtree hashes and transactions, a query for each and
// a round for each stored level whose entries are not all stored yet, in
// which the entries they are made of are read instead. Those are then
// computed, and returned for storeNodes (tx is a read-only snapshot). The
// first time a chain's tree is read, that is every transaction of it.
func (s *Service) readTrees(tx *gorm.DB, wants []treeWant) (map[string]*chainTree, []models.LedgerTreeNode, error) {
	trees := make(map[string]*chainTree, len(wants))
	var pending []span
	for _, w := range wants {
		trees[w.chain] = &chainTree{chain: w.chain, size: w.size, entries: map[entry][]byte{}}
		pending = append(pending, needed(w.chain, w.size, w.leaf)...)
	}
	type key struct {
		chain string
		e     entry
	}
	compute := map[key]bool{}
	for len(pending) > 0 {
		pending = mergeSpans(pending)
		var leaves, stored []span
		for _, sp := range pending {
			if sp.level == 0 {
				leaves = append(leaves, sp)
			} else if !s.noStoredTrees {
				stored = append(stored, sp)
			}
		}
		if err := readLeaves(tx, leaves, trees); err != nil {
			return nil, nil, err
		}
		if err := readNodes(tx, stored, trees); err != nil {
			return nil, nil, err
		}
		var next []span
		for _, sp := range pending {
			t := trees[sp.chain]
			for i := sp.from; i < sp.to; i++ {
				e := entry{sp.level, i}
				if t.entries[e] != nil {
					continue
				}
				if sp.level == 0 {
					return nil, nil, fmt.Errorf("ledger: chain %s has no transaction %d, below its head at %d: verify the ledger", sp.chain, i+1, t.size)
				}
				compute[key{sp.chain, e}] = true
				next = append(next, span{sp.chain, sp.level - stride, i << stride, (i + 1) << stride})
			}
		}
		pending = next
	}
	keys := slices.SortedFunc(maps.Keys(compute), func(a, b key) int { return cmp.Compare(a.e.level, b.e.level) })
	fresh := make([]models.LedgerTreeNode, 0, len(keys))
	for _, k := range keys {
		t := trees[k.chain]
		children := make(leafList, 1<<stride)
		for j := range children {
			children[j] = t.entries[entry{k.e.level - stride, k.e.idx<<stride + int64(j)}]
		}
		h := mth(children)
		t.entries[k.e] = h
		fresh = append(fresh, models.LedgerTreeNode{ChainKey: k.chain, Level: k.e.level, Idx: k.e.idx, Hash: h})
	}
	return trees, fresh, nil
}

// mergeSpans sorts spans and joins those that overlap or touch.
func mergeSpans(spans []span) []span {
	slices.SortFunc(spans, func(a, b span) int {
		return cmp.Or(cmp.Compare(a.chain, b.chain), cmp.Compare(a.level, b.level), cmp.Compare(a.from, b.from))
	})
	var out []span
	for _, sp := range spans {
		if n := len(out); n > 0 && out[n-1].chain == sp.chain && out[n-1].level == sp.level && sp.from <= out[n-1].to {
			out[n-1].to = max(out[n-1].to, sp.to)
			continue
		}
		out = append(out, sp)
	}
	return out
}

// readLeaves reads the transactions of spans of leaves into their trees.
func readLeaves(tx *gorm.DB, spans []span, trees map[string]*chainTree) error {
	for chunk := range slices.Chunk(spans, treeReadChunk) {
		conds := make([]string, len(chunk))
		args := make([]any, 0, 3*len(chunk))
		for i, sp := range chunk {
			conds[i] = "(chain_key = ? AND chain_seq BETWEEN ? AND ?)"
			args = append(args, sp.chain, sp.from+1, sp.to)
		}
		rows, err := tx.Raw("SELECT chain_key, chain_seq, id, hash FROM ledger_transactions WHERE "+strings.Join(conds, " OR "), args...).Rows()
		if err != nil {
			return err
		}
		for rows.Next() {
			var chain string
			var seq int64
			var id uuid.UUID
			var hash []byte
			if err := rows.Scan(&chain, &seq, &id, &hash); err != nil {
				rows.Close()
				return err
			}
			trees[chain].entries[entry{0, seq - 1}] = txLeaf(id, hash)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// readNodes reads the stored subtree hashes of spans into their trees.
func readNodes(tx *gorm.DB, spans []span, trees map[string]*chainTree) error {
	for chunk := range slices.Chunk(spans, treeReadChunk) {
		conds := make([]string, len(chunk))
		args := make([]any, 0, 4*len(chunk))
		for i, sp := range chunk {
			conds[i] = "(chain_key = ? AND level = ? AND idx >= ? AND idx < ?)"
			args = append(args, sp.chain, sp.level, sp.from, sp.to)
		}
		var nodes []models.LedgerTreeNode
		if err := tx.Where(strings.Join(conds, " OR "), args...).Find(&nodes).Error; err != nil {
			return err
		}
		for _, n := range nodes {
			if len(n.Hash) == 32 {
				trees[n.ChainKey].entries[entry{n.Level, n.Idx}] = n.Hash
			}
		}
	}
	return nil
}

// storeNodes stores subtree hashes computed from their transactions, for
// the next proof or checkpoint. Replicas that compute the same subtree store
// the same hash: the first one stays.
func (s *Service) storeNodes(ctx context.Context, nodes []models.LedgerTreeNode) error {
	if len(nodes) == 0 || s.noStoredTrees {
		return nil
	}
	return s.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(nodes, 500).Error
}
