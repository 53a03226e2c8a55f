package api

import (
	"encoding/hex"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/karigar/karigar/services/ledger"
)

// checkpointSigns is what a checkpoint's signature covers, as
// /audit/ledger/public-key tells whoever checks one.
const checkpointSigns = `version 2: "karigar/ledger/checkpoint/v2" ‖ sequence (8 bytes, big-endian) ‖ head_hash (32 bytes) ‖ ` +
	`chain_count (8 bytes, big-endian) ‖ root_hash (32 bytes) ‖ created_at (the string as given: RFC 3339, UTC); ` +
	`version 1 (no version field): "karigar/ledger/checkpoint/v1" ‖ sequence (zig-zag varint) ‖ head_hash (32 bytes) ‖ created_at (RFC 3339, UTC)`

// proofBody is an inclusion proof as the API shows it (schema
// LedgerInclusionProof): hashes in hex, the signature in base64. The
// receipts' answer carries the same object.
type proofBody struct {
	TransactionID   string         `json:"transaction_id"`
	TransactionHash string         `json:"transaction_hash"`
	Chain           string         `json:"chain"`
	Sequence        int64          `json:"sequence"`
	TreeSize        int64          `json:"tree_size"`
	ChainIndex      int64          `json:"chain_index"`
	Path            []string       `json:"path"`
	Checkpoint      checkpointBody `json:"checkpoint"`
}

// toProof is the answer's form of a proof from ledger.InclusionProof.
func toProof(p ledger.Proof) proofBody {
	out := proofBody{TransactionID: p.TransactionID.String(), TransactionHash: hex.EncodeToString(p.TransactionHash), Chain: p.Chain,
		Sequence: p.Sequence, TreeSize: p.TreeSize, ChainIndex: p.ChainIndex, Path: make([]string, len(p.Path)),
		Checkpoint: toCheckpointBody(p.Checkpoint)}
	for i, h := range p.Path {
		out.Path[i] = hex.EncodeToString(h)
	}
	return out
}

func (s *Server) ledgerProof(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		writeError(c, err)
		return
	}
	p, err := s.ledger.AuditProof(c.Request.Context(), actorOf(c), id)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, toProof(p))
}
