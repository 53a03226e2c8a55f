package ledger

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
)

// ErrBadProof is what VerifyInclusion's errors wrap: the proof does not
// show that its transaction is in the books signed by the key.
var ErrBadProof = errors.New("ledger: the inclusion proof does not verify")

// VerifyInclusion checks an inclusion proof with nothing but the platform's
// public key (GET /audit/ledger/public-key), as anyone holding a receipt
// may: that the checkpoint's signature is the key's, and that the path
// leads from the transaction's id and hash, at its place in its chain, to
// the root of its chain's tree and on to the root the checkpoint signed.
// It reads no database; docs/architecture.md ("Inclusion proofs") gives the
// same algorithm for writing it in any language. The error wraps
// ErrBadProof and says which check failed.
func VerifyInclusion(publicKey ed25519.PublicKey, p Proof) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrBadProof}, args...)...)
	}
	cp := p.Checkpoint
	switch {
	case len(publicKey) != ed25519.PublicKeySize:
		return bad("the public key is not an Ed25519 public key")
	case cp.Version != CheckpointV2:
		return bad("its checkpoint is of version %d: only version 2 signs the trees that proofs lead to", cp.Version)
	case len(p.TransactionHash) != 32 || len(cp.HeadHash) != 32 || len(cp.RootHash) != 32:
		return bad("the transaction's, the heads' and the root hash must be 32 bytes each")
	case p.Sequence < 1 || p.Sequence > p.TreeSize:
		return bad("the sequence %d is not within the chain's %d transactions", p.Sequence, p.TreeSize)
	case p.ChainIndex < 0 || p.ChainIndex >= cp.Chains:
		return bad("the chain's index %d is not within the checkpoint's %d chains", p.ChainIndex, cp.Chains)
	case len(p.Path) > 128:
		return bad("the path holds %d hashes: no tree is that deep", len(p.Path))
	}
	for i, h := range p.Path {
		if len(h) != 32 {
			return bad("path[%d] is not 32 bytes", i)
		}
	}
	if !ed25519.Verify(publicKey, cp.message(), cp.Signature) {
		return bad("the checkpoint's signature is not the key's: the checkpoint was altered or signed elsewhere")
	}
	chainRoot, rest, ok := climb(txLeaf(p.TransactionID, p.TransactionHash), p.Sequence-1, p.TreeSize, p.Path)
	if !ok {
		return bad("the path ends before the root of the chain's tree")
	}
	root, rest, ok := climb(chainLeaf(p.Chain, p.TreeSize, chainRoot), p.ChainIndex, cp.Chains, rest)
	if !ok {
		return bad("the path ends before the root of the checkpoint's tree")
	}
	if len(rest) != 0 {
		return bad("the path has %d hashes more than the trees need", len(rest))
	}
	if !bytes.Equal(root, cp.RootHash) {
		return bad("the path does not lead to the root the checkpoint signed: the transaction, its place or the path was altered")
	}
	return nil
}

// climb is RFC 9162's verification of an inclusion proof (section
// 2.1.3.2) from the leaf hash r at index m of a tree of size n (m < n): it
// takes hashes from path while the tree has levels above, and returns the
// root it reaches and the hashes it did not take; false if path ran out.
func climb(r []byte, m, n int64, path [][]byte) ([]byte, [][]byte, bool) {
	fn, sn := uint64(m), uint64(n-1)
	for sn > 0 {
		if len(path) == 0 {
			return nil, nil, false
		}
		p := path[0]
		path = path[1:]
		if fn&1 == 1 || fn == sn {
			r = node(p, r)
			for fn&1 == 0 && fn != 0 {
				fn >>= 1
				sn >>= 1
			}
		} else {
			r = node(r, p)
		}
		fn >>= 1
		sn >>= 1
	}
	return r, path, true
}
