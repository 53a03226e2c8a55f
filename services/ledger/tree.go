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

// A chain's tree is read from stored subtree hashes (ledger_tree_nodes):
// every complete, aligned subtree whose height is a multiple of stride
// (16 leaves, 256, 4096, ...) once it has been needed. A proof then reads,
// at each stored level and at the leaves, the at most 16 entries of the
// group one stored level up that holds its leaf, and those of the last,
// incomplete group (the right edge the root needs), and the at most 15
// entries of the top level: O(log n) rows, of which at most 32 are
// transactions. docs/performance.md has the measurements that chose this.
const stride = 4

// entry is a node of a chain's tree at a level that is read: level 0 are
// the leaves (the transactions), the others stored subtree hashes.
type entry struct {
	level int
	idx   int64 // over leaves [idx << level, (idx+1) << level)
}

// chainTree is the tree of one chain's first size transactions, as far as
// it was read.
type chainTree struct {
	chain   string
	size    int64
	entries map[entry][]byte
}

// hash is the hash of the subtree over leaves [lo, hi). A subtree whose
// size is a power of two is complete and aligned on its size: one entry
// if its height is a stored level.
func (t *chainTree) hash(lo, hi int64) []byte {
	if n := hi - lo; n&(n-1) == 0 {
		if level := bits.TrailingZeros64(uint64(n)); level%stride == 0 {
			return t.entries[entry{level, lo >> level}]
		}
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

// span is a range [from, to) of entries of one level of a chain's tree.
type span struct {
	chain    string
	level    int
	from, to int64
}

// needed lists the entries of a tree of size leaves that its root, and
// the audit path of leaf m (none if m < 0), are made of: at each read
// level, the entries of the group of the next level up that holds leaf m
// and of the last group, and every entry of the top level.
func needed(chain string, size, m int64) []span {
	var out []span
	for a := 0; size>>a > 0; a += stride {
		count, b := size>>a, a+stride
		if size>>b == 0 {
			out = append(out, span{chain, a, 0, count})
			break
		}
		group := func(g int64) span { return span{chain, a, g << stride, min((g+1)<<stride, count)} }
		if m >= 0 && m>>b != size>>b {
			out = append(out, group(m>>b))
		}
		if last := group(size >> b); last.from < last.to {
			out = append(out, last)
		}
	}
	return out
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
