package receipts

import (
	"context"

	"github.com/google/uuid"

	"github.com/karigar/karigar/services/ledger"
)

// Proof is the evidence that a payment is in the books: the path from its
// transaction's hash to the head of a signed checkpoint, which anyone with
// the ledger's public key can check (GET /audit/ledger/public-key).
type Proof struct {
	TransactionID   uuid.UUID
	TransactionHash []byte
	Chain           string
	Sequence        int64
	Path            [][]byte // the hashes from the transaction's to the checkpoint's head, in order
	Checkpoint      ledger.Checkpoint
}

// inclusionProof is the payment transaction's inclusion proof, nil while no
// signed checkpoint covers it yet.
//
// TODO(proof): the ledger's inclusion proof is being written on branch
// `proof` (services/ledger: from a transaction's hash to a signed
// checkpoint). Until it is merged this answers nil, and GET /receipts/{code}
// and /r/{code} show proof: null. At the merge, call it here and map its
// result onto Proof; nothing else in this package changes.
func (s *Service) inclusionProof(ctx context.Context, transactionID uuid.UUID) (*Proof, error) {
	_, _, _ = ctx, transactionID, s.opt.Ledger
	return nil, nil
}
