package ledger

import (
	"database/sql"
	"strings"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/karigar/karigar/models"
)

// On PostgreSQL a booking takes two statements instead of six, so four
// round trips with BEGIN and COMMIT: on two cores shared by the server and
// the database, the round trips, not the statements, were most of a
// booking's cost (docs/performance.md, "Ledger").
var postgresEngine = engine{lockAtOnce: lockAtOnce, write: writeAtOnce}

// lockAtOnce locks the chain's head and then the accounts of ps, in id
// order, in one statement. The head is read in a subquery of its own that
// the accounts' subquery refers to (LATERAL), so PostgreSQL must lock it
// first: the same order as everywhere else. It reports false, having
// locked what exists, when the chain or one of the accounts does not exist
// yet.
func lockAtOnce(tx *gorm.DB, chainKey string, ps []Posting) (models.LedgerChain, map[accountKey]models.LedgerAccount, bool, error) {
	var conds []string
	args := []any{chainKey}
	want := map[accountKey]bool{}
	for _, p := range ps {
		if !want[key(p)] {
			want[key(p)] = true
			conds = append(conds, "(owner_kind = ? AND owner_id = ? AND type = ? AND currency = ?)")
			args = append(args, p.Owner.Kind, p.Owner.ID, p.Type, p.Currency)
		}
	}
	rows, err := tx.Raw(`SELECT h.seq, h.head_hash, h.head_transaction_id,
       a.id, a.owner_kind, a.owner_id, a.group_id, a.type, a.currency, a.may_go_negative, a.balance, a.created_at
FROM (SELECT seq, head_hash, head_transaction_id FROM ledger_chains WHERE chain_key = ? FOR UPDATE) h
LEFT JOIN LATERAL (
    SELECT * FROM ledger_accounts WHERE h.seq >= 0 AND (`+strings.Join(conds, " OR ")+`)
    ORDER BY id FOR UPDATE
) a ON true`, args...).Rows()
	if err != nil {
		return models.LedgerChain{}, nil, false, err
	}
	defer rows.Close()
	head := models.LedgerChain{ChainKey: chainKey}
	accounts := map[accountKey]models.LedgerAccount{}
	found := false
	for rows.Next() {
		found = true
		var a models.LedgerAccount
		var id, ownerID uuid.NullUUID
		var ownerKind, typ, currency sql.NullString
		var mayGoNegative sql.NullBool
		var balance sql.NullInt64
		var createdAt sql.NullTime
		if err := rows.Scan(&head.Seq, &head.HeadHash, &head.HeadTransactionID,
			&id, &ownerKind, &ownerID, &a.GroupID, &typ, &currency, &mayGoNegative, &balance, &createdAt); err != nil {
			return head, nil, false, err
		}
		if !id.Valid {
			continue // the chain, but none of the accounts
		}
		a.ID, a.OwnerKind, a.OwnerID, a.Type, a.Currency = id.UUID, ownerKind.String, ownerID.UUID, typ.String, currency.String
		a.MayGoNegative, a.Balance, a.CreatedAt = mayGoNegative.Bool, balance.Int64, createdAt.Time.UTC()
		accounts[accountKey{a.OwnerKind, a.OwnerID, a.Type, a.Currency}] = a
	}
	if err := rows.Err(); err != nil {
		return head, nil, false, err
	}
	return head, accounts, found && len(accounts) == len(want), nil
}

// writeAtOnce writes a booking as writeEach does, in one statement: the
// transaction, unless its reference is taken, with its postings, the
// balances and the chain's head. Foreign keys are checked at the end of the
// statement, so the postings find their transaction.
func writeAtOnce(tx *gorm.DB, t models.LedgerTransaction, postings []models.LedgerPosting, cs []change) (bool, error) {
	args := []any{t.ID, t.ChainKey, t.ChainSeq, t.Reference, t.Kind, t.GroupID, t.Memo, t.OccurredAt, t.PrevID, t.PrevHash, t.Hash, t.HashVersion}
	var q strings.Builder
	q.WriteString(`WITH t AS (
    INSERT INTO ledger_transactions (id, chain_key, chain_seq, reference, kind, group_id, memo, occurred_at, prev_id, prev_hash, hash, hash_version)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (reference) DO NOTHING RETURNING id
), p AS (
    INSERT INTO ledger_postings (transaction_id, position, account_id, amount, currency)
    SELECT t.id, v.position, v.account_id, v.amount, v.currency FROM t CROSS JOIN (VALUES `)
	for i, p := range postings {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("(CAST(? AS integer), CAST(? AS uuid), CAST(? AS bigint), CAST(? AS text))")
		args = append(args, p.Position, p.AccountID, p.Amount, p.Currency)
	}
	q.WriteString(`) AS v (position, account_id, amount, currency)
)`)
	if len(cs) > 0 {
		q.WriteString(`, b AS (
    UPDATE ledger_accounts a SET balance = a.balance + d.amount FROM (VALUES `)
		for i, c := range cs {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(CAST(? AS uuid), CAST(? AS bigint))")
			args = append(args, c.account.ID, c.amount)
		}
		q.WriteString(`) AS d (id, amount)
    WHERE a.id = d.id AND EXISTS (SELECT FROM t) AND (a.may_go_negative OR a.balance + d.amount >= 0)
    RETURNING a.id
)`)
	} else {
		q.WriteString(`, b AS (SELECT WHERE false)`)
	}
	q.WriteString(`, h AS (
    UPDATE ledger_chains SET seq = ?, head_hash = ?, head_transaction_id = ?
    WHERE chain_key = ? AND EXISTS (SELECT FROM t)
)
SELECT (SELECT count(*) FROM t), (SELECT count(*) FROM b)`)
	args = append(args, t.ChainSeq, t.Hash, t.ID, t.ChainKey)
	var inserted, updated int64
	if err := tx.Raw(q.String(), args...).Row().Scan(&inserted, &updated); err != nil {
		return false, err
	}
	if inserted == 0 {
		return false, nil
	}
	if updated != int64(len(cs)) {
		return false, refusal(cs, updated)
	}
	return true, nil
}
