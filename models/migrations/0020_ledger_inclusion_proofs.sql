-- Inclusion proofs (contract section 12): each chain's transactions are the
-- leaves of an RFC 9162 Merkle tree, in sequence order, and a checkpoint of
-- version 2 also signs the root of a tree over every chain's tree
-- (services/ledger/tree.go, docs/architecture.md).
--
-- root_hash: that root, for checkpoints of version 2; NULL for those signed
-- before (version 1), which keep verifying as they were signed. The heads
-- JSON of a version 2 checkpoint gives each chain's tree root beside its head.
ALTER TABLE ledger_checkpoints ADD COLUMN root_hash {{bytes}};
-- A proof is built against the latest checkpoint.
CREATE INDEX ledger_checkpoints_sequence_idx ON ledger_checkpoints (sequence);

-- Hashes of complete subtrees of a chain's tree: the subtree over the leaves
-- [idx * 2^level, (idx + 1) * 2^level), that is over the transactions of
-- chain_seq idx * 2^level + 1 to (idx + 1) * 2^level, for levels 4, 8, 12,
-- ... Transactions are never changed, so such a hash never changes once all
-- its leaves exist. They are derived data, written when a proof or
-- checkpoint first needs them (by any replica, the same value, ON CONFLICT
-- DO NOTHING); deleting them loses nothing but time, and verification never
-- reads them.
CREATE TABLE ledger_tree_nodes (
    chain_key text NOT NULL,
    level     integer NOT NULL,
    idx       bigint NOT NULL,
    hash      {{bytes}} NOT NULL,
    PRIMARY KEY (chain_key, level, idx)
);
