package receipts

import (
	"context"

	"github.com/google/uuid"

	"github.com/karigar/karigar/services/ledger"
)

// inclusionProof is the evidence that a payment is in the books: the path
// from its transaction's hash to the root of a signed checkpoint, which
// anyone with the ledger's public key can check (GET
// /audit/ledger/public-key). The ledger signs a checkpoint first if none
// covers the transaction yet, so a paid receipt always has one.
func (s *Service) inclusionProof(ctx context.Context, transactionID uuid.UUID) (*ledger.Proof, error) {
	p, err := s.opt.Ledger.InclusionProof(ctx, transactionID)
	if err != nil {
		return nil, err
	}
	return &p, nil
}
