package ledger

import (
	"crypto/sha256"
	"encoding/binary"
	"math/bits"

	"github.com/google/uuid"
)

// The Merkle trees that inclusion proofs walk, as RFC 9162 (Certificate
// Transparency 2.0, section 2.1) defines them: a leaf's hash is SHA-256 of
// 0x00 and its data, a node's SHA-256 of 0x01 and its two children's, and
// the tree over n > 1 leaves splits them at the largest power of two
// smaller than n. The empty tree's hash is SHA-256 of nothing.
//
// Each chain's transactions, in sequence order, are the leaves of the
// chain's tree; the chains' trees, in chain key order, are the leaves of
// the checkpoint's tree, whose root a checkpoint of version 2 signs. A
// proof is the audit path from a transaction's leaf to its chain's root and
// on from the chain's leaf to the checkpoint's root: O(log n) hashes, none
// of which tells anything about another transaction.

// Tags that begin each kind of leaf's data, so that one kind of leaf can
// never be taken for the other.
const (
	txLeafTag    = "karigar/ledger/tx-leaf/v1"
	chainLeafTag = "karigar/ledger/chain-leaf/v1"
)

// emptyRoot is the hash of a tree without leaves.
var emptyRoot = func() []byte { h := sha256.Sum256(nil); return h[:] }()

// txLeaf is the leaf hash of a transaction: over its id (16 bytes) and
// hash, so that a proof names the transaction it is for.
func txLeaf(id uuid.UUID, hash []byte) []byte {
	h := sha256.New()
	h.Write([]byte{0})
	h.Write([]byte(txLeafTag))
	h.Write(id[:])
	h.Write(hash)
	return h.Sum(nil)
}

// chainLeaf is the leaf hash of a chain in a checkpoint's tree: over its
// tree's size (8 bytes, big-endian) and root, then its key.
func chainLeaf(chain string, size int64, root []byte) []byte {
	h := sha256.New()
	h.Write([]byte{0})
	h.Write([]byte(chainLeafTag))
	h.Write(binary.BigEndian.AppendUint64(nil, uint64(size)))
	h.Write(root)
	h.Write([]byte(chain))
	return h.Sum(nil)
}

// node is an interior node's hash.
func node(left, right []byte) []byte {
	h := sha256.New()
	h.Write([]byte{1})
	h.Write(left)
	h.Write(right)
	return h.Sum(nil)
}

// split is the largest power of two smaller than n, for n > 1.
func split(n int64) int64 { return 1 << (bits.Len64(uint64(n-1)) - 1) }

// mth is the hash of the tree over the leaf hashes.
func mth(leaves [][]byte) []byte {
	switch len(leaves) {
	case 0:
		return emptyRoot
	case 1:
		return leaves[0]
	}
	k := split(int64(len(leaves)))
	return node(mth(leaves[:k]), mth(leaves[k:]))
}

// auditPath is RFC 9162's PATH(m, D[lo:hi]): the hashes, from the leaf up,
// that lead from leaf m to the root of the tree over leaves [lo, hi), given
// the hash of any of its subtrees.
func auditPath(hash func(lo, hi int64) []byte, m, lo, hi int64) [][]byte {
	if hi-lo <= 1 {
		return nil
	}
	k := split(hi - lo)
	if m < lo+k {
		return append(auditPath(hash, m, lo, lo+k), hash(lo+k, hi))
	}
	return append(auditPath(hash, m, lo+k, hi), hash(lo, lo+k))
}

// leafList is a tree whose leaf hashes are all at hand.
type leafList [][]byte

func (l leafList) hash(lo, hi int64) []byte { return mth(l[lo:hi]) }

// Chain trees are read in blocks of blockSize leaves, a complete subtree
// each: a stored block hash (ledger_tree_nodes, level blockLevel) stands for
// its leaves, so a proof on a chain of n transactions reads n/blockSize
// block hashes and the leaves of at most two blocks (the transaction's and
// the last, incomplete one), not n leaves. docs/performance.md has the
// measurements that chose the size.
const (
	blockLevel = 8
	blockSize  = 1 << blockLevel
)

// chainTree is the tree of one chain's first size transactions, as far as
// it was read: every complete block's hash, and the leaves of some blocks.
type chainTree struct {
	chain  string
	size   int64
	blocks [][]byte           // the hash of each complete block: size/blockSize of them
	leaves map[int64][][]byte // leaf hashes of the blocks read, by block
}

// hash is the hash of the subtree over leaves [lo, hi). Every subtree of
// blockSize leaves or fewer lies within one block: a complete subtree is
// aligned on its size, and the others end at the last leaf, in the last block.
func (t *chainTree) hash(lo, hi int64) []byte {
	if hi-lo <= blockSize {
		b := lo / blockSize
		if hi-lo == blockSize {
			return t.blocks[b]
		}
		return mth(t.leaves[b][lo-b*blockSize : hi-b*blockSize])
	}
	k := split(hi - lo)
	return node(t.hash(lo, lo+k), t.hash(lo+k, hi))
}

// root is the hash of the whole tree.
func (t *chainTree) root() []byte {
	if t.size == 0 {
		return emptyRoot
	}
	return t.hash(0, t.size)
}

// frontier is a tree being built leaf by leaf in O(log n) memory: the
// hashes of its complete subtrees, largest first. Verification builds each
// chain's tree this way from the hashes it recomputes.
type frontier struct {
	sizes  []int64
	hashes [][]byte
}

func (f *frontier) add(leaf []byte) {
	f.sizes, f.hashes = append(f.sizes, 1), append(f.hashes, leaf)
	for n := len(f.sizes); n > 1 && f.sizes[n-1] == f.sizes[n-2]; n-- {
		f.hashes[n-2] = node(f.hashes[n-2], f.hashes[n-1])
		f.sizes[n-2] *= 2
		f.sizes, f.hashes = f.sizes[:n-1], f.hashes[:n-1]
	}
}

// root is the hash of the tree over the leaves added so far: the complete
// subtrees folded from the right, as RFC 9162 splits the tree.
func (f *frontier) root() []byte {
	if len(f.hashes) == 0 {
		return emptyRoot
	}
	r := f.hashes[len(f.hashes)-1]
	for i := len(f.hashes) - 2; i >= 0; i-- {
		r = node(f.hashes[i], r)
	}
	return r
}
