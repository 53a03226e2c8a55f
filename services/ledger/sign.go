package ledger

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
)

// The checkpoint key also signs documents the platform vouches for from its
// books (income statements, services/statements). A document's signed
// message is its canonical encoding, which begins with its own tag (length
// first), while a checkpoint's message begins with the bare checkpoint tag:
// no document's signature can pass for a checkpoint's, or the other way round.

// SignatureAlgorithm is the algorithm of checkpoints' and documents' signatures.
const SignatureAlgorithm = "Ed25519"

// checkpointTag begins every checkpoint's signed message (Checkpoint.message).
const checkpointTag = "karigar/ledger/checkpoint/"

// KeyID names the signing key: "ed25519:" and the first 16 hex digits of the
// SHA-256 of the public key (as GET /audit/ledger/public-key gives it).
func (s *Service) KeyID() string {
	sum := sha256.Sum256(s.PublicKey())
	return "ed25519:" + hex.EncodeToString(sum[:8])
}

// SignDocument signs the canonical encoding of a document. Errors: a
// message that begins as a checkpoint's does (a bug of the caller).
func (s *Service) SignDocument(msg []byte) ([]byte, error) {
	if bytes.HasPrefix(msg, []byte(checkpointTag)) {
		return nil, errors.New("ledger: a document's encoding must not begin with the checkpoint tag")
	}
	return ed25519.Sign(s.opt.SigningKey, msg), nil
}

// VerifyDocument reports whether sig is this platform's signature of msg.
func (s *Service) VerifyDocument(msg, sig []byte) bool {
	return !bytes.HasPrefix(msg, []byte(checkpointTag)) && len(sig) == ed25519.SignatureSize &&
		ed25519.Verify(s.PublicKey(), msg, sig)
}
