package api

import (
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services"
	"github.com/karigar/karigar/services/idempotency"
	"github.com/karigar/karigar/services/ledger"
	"github.com/karigar/karigar/services/page"
	"github.com/karigar/karigar/services/receipts"
)

type payoutRequest struct {
	ArtisanID string       `json:"artisan_id"`
	Amount    models.Money `json:"amount"`
	Method    string       `json:"method"`
	Reference string       `json:"reference"`
}

type payoutResponse struct {
	ID              string           `json:"id"`
	GroupID         string           `json:"group_id"`
	ArtisanID       string           `json:"artisan_id"`
	Amount          models.Money     `json:"amount"`
	Method          string           `json:"method"`
	Reference       string           `json:"reference"`
	TransactionID   string           `json:"transaction_id"`
	CreatedAt       time.Time        `json:"created_at"`
	AcknowledgedAt  *time.Time       `json:"acknowledged_at"`
	AcknowledgedBy  *string          `json:"acknowledged_by"`
	AcknowledgeNote *string          `json:"acknowledgement_note"`
	Receipt         *receiptResponse `json:"receipt"`
}

func toPayout(p models.Payout, r *receipts.State) payoutResponse {
	out := payoutResponse{ID: p.ID.String(), GroupID: p.GroupID.String(), ArtisanID: p.ArtisanID.String(),
		Amount: models.NewMoney(p.Amount, p.Currency), Method: p.Method, Reference: p.Reference,
		TransactionID: p.TransactionID.String(), CreatedAt: p.CreatedAt.UTC(), AcknowledgedAt: utc(p.AcknowledgedAt),
		AcknowledgedBy: p.AcknowledgedAs, AcknowledgeNote: p.AcknowledgementNote}
	if r != nil {
		out.Receipt = toReceipt(*r)
	}
	return out
}

// payouts renders payouts with their receipts, the one shape every route
// that returns a payout answers with.
func (s *Server) payouts(c *gin.Context, ps ...models.Payout) ([]payoutResponse, error) {
	ids := make([]uuid.UUID, len(ps))
	for i, p := range ps {
		ids[i] = p.ID
	}
	states, err := s.rcpt.States(c.Request.Context(), ids)
	if err != nil {
		return nil, err
	}
	out := make([]payoutResponse, len(ps))
	for i, p := range ps {
		var r *receipts.State
		if st, ok := states[p.ID]; ok {
			r = &st
		}
		out[i] = toPayout(p, r)
	}
	return out, nil
}

func (s *Server) createPayout(c *gin.Context) {
	groupID, err := pathID(c)
	if err != nil {
		writeError(c, err)
		return
	}
	var req payoutRequest
	if err := bindJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	// A malformed id is no artisan of the group: the service says so with the other problems.
	artisanID, _ := uuid.Parse(req.ArtisanID)
	in := ledger.PayoutInput{ArtisanID: artisanID, Amount: req.Amount, Method: req.Method, Reference: req.Reference,
		Key: c.GetHeader(headerIdempotencyKey), Claim: claimOf(c)}
	if in.Claim != nil {
		// A new payout's receipt is as its receipt hook wrote it: queued.
		in.Answer = func(p models.Payout, code string) (idempotency.Response, error) {
			var r *receipts.State
			if code != "" {
				st := receipts.Queued(code)
				r = &st
			}
			return answerFor(http.StatusCreated, toPayout(p, r), "payouts", p.ID.String())
		}
	}
	p, answer, err := s.ledger.CreatePayout(c.Request.Context(), actorOf(c), groupID, in)
	if err != nil {
		writeError(c, err)
		return
	}
	if answer != nil {
		writeAnswer(c, *answer)
		return
	}
	out, err := s.payouts(c, p)
	if err != nil {
		writeError(c, err)
		return
	}
	created(c, out[0], "payouts", p.ID.String())
}

type acknowledgeRequest struct {
	Note string `json:"note"`
}

func (s *Server) acknowledgePayout(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		writeError(c, err)
		return
	}
	var req acknowledgeRequest
	if err := bindJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	p, err := s.ledger.Acknowledge(c.Request.Context(), actorOf(c), id, req.Note)
	if err != nil {
		writeError(c, err)
		return
	}
	out, err := s.payouts(c, p)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, out[0])
}

func (s *Server) listPayouts(c *gin.Context) {
	groupID, err := pathID(c)
	if err != nil {
		writeError(c, err)
		return
	}
	limit, err := page.Limit(c.Query("limit"))
	if err != nil {
		writeError(c, err)
		return
	}
	ps, next, err := s.ledger.Payouts(c.Request.Context(), actorOf(c), groupID, ledger.PayoutQuery{
		ArtisanID: c.Query("artisan_id"), Cursor: c.Query("cursor"), Limit: limit})
	if err != nil {
		writeError(c, err)
		return
	}
	out, err := s.payouts(c, ps...)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, newList(out, next, func(p payoutResponse) payoutResponse { return p }))
}

type distributionRequest struct {
	Until *time.Time `json:"until"`
}

type distributionPart struct {
	ArtisanID   string       `json:"artisan_id"`
	DisplayName string       `json:"display_name"`
	Weight      int64        `json:"weight"`
	Amount      models.Money `json:"amount"`
}

type distributionResponse struct {
	ID            string             `json:"id"`
	GroupID       string             `json:"group_id"`
	Method        string             `json:"method"`
	From          *time.Time         `json:"from"`
	Until         time.Time          `json:"until"`
	Amount        models.Money       `json:"amount"`
	Parts         []distributionPart `json:"parts"`
	TransactionID string             `json:"transaction_id"`
	CreatedAt     time.Time          `json:"created_at"`
}

func (s *Server) distribute(c *gin.Context) {
	groupID, err := pathID(c)
	if err != nil {
		writeError(c, err)
		return
	}
	var req distributionRequest
	if err := bindOptionalJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	d, err := s.ledger.Distribute(c.Request.Context(), actorOf(c), groupID, req.Until)
	if err != nil {
		writeError(c, err)
		return
	}
	out := distributionResponse{ID: d.ID.String(), GroupID: d.GroupID.String(), Method: d.Method, Until: d.Until.UTC(),
		Amount: models.NewMoney(d.Amount, d.Currency), TransactionID: d.TransactionID.String(), CreatedAt: d.CreatedAt.UTC(),
		Parts: make([]distributionPart, len(d.Parts))}
	if !d.From.IsZero() {
		from := d.From.UTC()
		out.From = &from
	}
	for i, p := range d.Parts {
		out.Parts[i] = distributionPart{ArtisanID: p.ArtisanID.String(), DisplayName: p.DisplayName, Weight: p.Weight,
			Amount: models.NewMoney(p.Amount, d.Currency)}
	}
	created(c, out, "groups", out.GroupID, "distributions", out.ID)
}

type accountResponse struct {
	ID          string       `json:"id"`
	OwnerKind   string       `json:"owner_kind"`
	OwnerID     *string      `json:"owner_id"`
	ArtisanName *string      `json:"artisan_name,omitempty"`
	Type        string       `json:"type"`
	Balance     models.Money `json:"balance"`
}

func toAccount(a ledger.AccountView) accountResponse {
	out := accountResponse{ID: a.ID.String(), OwnerKind: a.OwnerKind, Type: a.Type, Balance: models.NewMoney(a.Balance, a.Currency)}
	if a.OwnerID != uuid.Nil {
		id := a.OwnerID.String()
		out.OwnerID = &id
	}
	if a.OwnerKind == models.OwnerArtisan {
		out.ArtisanName = &a.ArtisanName
	}
	return out
}

func (s *Server) groupAccounts(c *gin.Context) {
	groupID, err := pathID(c)
	if err != nil {
		writeError(c, err)
		return
	}
	as, err := s.ledger.GroupAccounts(c.Request.Context(), actorOf(c), groupID)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, newList(as, "", toAccount))
}

type postingResponse struct {
	AccountID string       `json:"account_id"`
	OwnerKind string       `json:"owner_kind"`
	OwnerID   *string      `json:"owner_id"`
	Type      string       `json:"type"`
	Amount    models.Money `json:"amount"`
}

type transactionResponse struct {
	ID         string            `json:"id"`
	Reference  string            `json:"reference"`
	Kind       string            `json:"kind"`
	GroupID    *string           `json:"group_id"`
	OccurredAt time.Time         `json:"occurred_at"`
	Chain      string            `json:"chain"`
	Sequence   int64             `json:"sequence"`
	Hash       string            `json:"hash"`
	Postings   []postingResponse `json:"postings"`
}

func toTransaction(t ledger.TransactionView) transactionResponse {
	out := transactionResponse{ID: t.ID.String(), Reference: t.Reference, Kind: t.Kind, OccurredAt: t.OccurredAt.UTC(),
		Chain: t.ChainKey, Sequence: t.ChainSeq, Hash: hex.EncodeToString(t.Hash), Postings: make([]postingResponse, len(t.Postings))}
	if t.GroupID != nil {
		id := t.GroupID.String()
		out.GroupID = &id
	}
	for i, p := range t.Postings {
		pr := postingResponse{AccountID: p.AccountID.String(), OwnerKind: p.OwnerKind, Type: p.Type,
			Amount: models.NewMoney(p.Amount, p.Currency)}
		if p.OwnerID != uuid.Nil {
			id := p.OwnerID.String()
			pr.OwnerID = &id
		}
		out.Postings[i] = pr
	}
	return out
}

func (s *Server) listTransactions(c *gin.Context) {
	limit, err := page.Limit(c.Query("limit"))
	if err != nil {
		writeError(c, err)
		return
	}
	ts, next, err := s.ledger.Transactions(c.Request.Context(), actorOf(c), ledger.TransactionQuery{GroupID: c.Query("group_id"),
		AccountID: c.Query("account"), From: c.Query("from"), To: c.Query("to"), Cursor: c.Query("cursor"), Limit: limit})
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, newList(ts, next, toTransaction))
}

type statementResponse struct {
	ArtisanID    string                  `json:"artisan_id"`
	GroupID      string                  `json:"group_id"`
	DisplayName  string                  `json:"display_name"`
	From         *time.Time              `json:"from"`
	To           *time.Time              `json:"to"`
	Earned       map[string]models.Money `json:"earned"`
	Distributed  models.Money            `json:"distributed"`
	PaidOut      models.Money            `json:"paid_out"`
	Acknowledged models.Money            `json:"acknowledged"`
	Balance      models.Money            `json:"balance"`
	MinutesWork  int64                   `json:"minutes_worked"`
	Payouts      []payoutResponse        `json:"payouts"`
}

func (s *Server) artisanStatement(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		writeError(c, err)
		return
	}
	st, err := s.ledger.Statement(c.Request.Context(), actorOf(c), id, c.Query("from"), c.Query("to"))
	if err != nil {
		writeError(c, err)
		return
	}
	m := func(a int64) models.Money { return models.NewMoney(a, st.Currency) }
	out := statementResponse{ArtisanID: st.ArtisanID.String(), GroupID: st.GroupID.String(), DisplayName: st.DisplayName,
		From: st.From, To: st.To, Earned: map[string]models.Money{}, Distributed: m(st.Distributed), PaidOut: m(st.PaidOut),
		Acknowledged: m(st.Acknowledged), Balance: m(st.Balance), MinutesWork: st.Minutes}
	for k, v := range st.Earned {
		out.Earned[k] = m(v)
	}
	if out.Payouts, err = s.payouts(c, st.Payouts...); err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

type badTransaction struct {
	ID       string `json:"id"`
	Chain    string `json:"chain"`
	Sequence int64  `json:"sequence"`
	Problem  string `json:"problem"`
}

// badAccount is an account as its row now reads, and why verify names it.
type badAccount struct {
	ID        string  `json:"id"`
	OwnerKind string  `json:"owner_kind"`
	OwnerID   string  `json:"owner_id"`
	GroupID   *string `json:"group_id,omitempty"`
	Type      string  `json:"type"`
	Currency  string  `json:"currency"`
	Problem   string  `json:"problem"`
}

type verifyResponse struct {
	OK                  bool                 `json:"ok"`
	TransactionsChecked int64                `json:"transactions_checked"`
	HeadHash            string               `json:"head_hash"`
	TrialBalanceOK      bool                 `json:"trial_balance_ok"`
	FirstBadTransaction *badTransaction      `json:"first_bad_transaction,omitempty"`
	FirstBadAccount     *badAccount          `json:"first_bad_account,omitempty"`
	Checkpoints         []checkpointVerified `json:"checkpoints,omitempty"`
}

// checkpointBody is a signed checkpoint. Version 2 (what the platform
// signs now) adds chain_count and root_hash; a checkpoint without version
// is of version 1, as every one signed before inclusion proofs.
type checkpointBody struct {
	Version    int       `json:"version,omitempty"`
	Sequence   int64     `json:"sequence"`
	HeadHash   string    `json:"head_hash"`
	ChainCount *int64    `json:"chain_count,omitempty"`
	RootHash   string    `json:"root_hash,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	Signature  string    `json:"signature"`
}

type checkpointVerified struct {
	checkpointBody
	OK      bool    `json:"ok"`
	Problem *string `json:"problem,omitempty"`
}

// VerificationBody is a verification as the API answers it; the CLI prints
// the same.
func VerificationBody(v ledger.Verification) any { return toVerify(v) }

func toVerify(v ledger.Verification) verifyResponse {
	out := verifyResponse{OK: v.OK, TransactionsChecked: v.TransactionsChecked, HeadHash: hex.EncodeToString(v.HeadHash),
		TrialBalanceOK: v.TrialBalanceOK}
	if b := v.FirstBad; b != nil {
		out.FirstBadTransaction = &badTransaction{ID: b.ID.String(), Chain: b.ChainKey, Sequence: b.ChainSeq, Problem: b.Problem}
	}
	if a := v.FirstBadAccount; a != nil {
		out.FirstBadAccount = &badAccount{ID: a.ID.String(), OwnerKind: a.OwnerKind, OwnerID: a.OwnerID.String(), Type: a.Type,
			Currency: a.Currency, Problem: a.Problem}
		if a.GroupID != nil {
			g := a.GroupID.String()
			out.FirstBadAccount.GroupID = &g
		}
	}
	return out
}

func toCheckpointBody(cp ledger.Checkpoint) checkpointBody {
	out := checkpointBody{Version: max(cp.Version, ledger.CheckpointV1), Sequence: cp.Sequence, HeadHash: hex.EncodeToString(cp.HeadHash),
		CreatedAt: cp.CreatedAt.UTC(), Signature: base64.StdEncoding.EncodeToString(cp.Signature)}
	if cp.Version == ledger.CheckpointV2 {
		n := cp.Chains
		out.ChainCount, out.RootHash = &n, hex.EncodeToString(cp.RootHash)
	}
	return out
}

// fromCheckpointBody reads a checkpoint an auditor sends back, collecting
// what is malformed in fe under the field names of checkpoints[i].
func fromCheckpointBody(b checkpointBody, i int, fe *services.FieldErrors) ledger.Checkpoint {
	at := func(f string) string { return "checkpoints[" + strconv.Itoa(i) + "]." + f }
	hash, err1 := hex.DecodeString(b.HeadHash)
	sig, err2 := base64.StdEncoding.DecodeString(b.Signature)
	fe.Check(err1 != nil || len(hash) != 32, at("head_hash"), "must be 64 hexadecimal digits")
	fe.Check(err2 != nil, at("signature"), "must be base64")
	cp := ledger.Checkpoint{Version: max(b.Version, ledger.CheckpointV1), Sequence: b.Sequence, HeadHash: hash, CreatedAt: b.CreatedAt,
		Signature: sig}
	switch cp.Version {
	case ledger.CheckpointV1:
		fe.Check(b.ChainCount != nil, at("chain_count"), "belongs to checkpoints of version 2")
		fe.Check(b.RootHash != "", at("root_hash"), "belongs to checkpoints of version 2")
	case ledger.CheckpointV2:
		root, err := hex.DecodeString(b.RootHash)
		fe.Check(err != nil || len(root) != 32, at("root_hash"), "must be 64 hexadecimal digits")
		fe.Check(b.ChainCount == nil || *b.ChainCount < 1, at("chain_count"), "must be 1 or more")
		cp.RootHash = root
		if b.ChainCount != nil {
			cp.Chains = *b.ChainCount
		}
	default:
		fe.Add(at("version"), "must be 1 or 2")
	}
	return cp
}

func (s *Server) verifyLedger(c *gin.Context) {
	v, err := s.ledger.Verify(c.Request.Context())
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, toVerify(v))
}

type verifyCheckpointsRequest struct {
	Checkpoints []checkpointBody `json:"checkpoints"`
}

func (s *Server) verifyLedgerCheckpoints(c *gin.Context) {
	var req verifyCheckpointsRequest
	if err := bindJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	cps := make([]ledger.Checkpoint, len(req.Checkpoints))
	fe := services.FieldErrors{}
	for i, b := range req.Checkpoints {
		cps[i] = fromCheckpointBody(b, i, &fe)
	}
	if err := fe.Err(); err != nil {
		writeError(c, err)
		return
	}
	v, results, err := s.ledger.VerifyCheckpoints(c.Request.Context(), cps)
	if err != nil {
		writeError(c, err)
		return
	}
	out := toVerify(v)
	for _, r := range results {
		cv := checkpointVerified{checkpointBody: toCheckpointBody(r.Checkpoint), OK: r.OK}
		if r.Problem != "" {
			p := r.Problem
			cv.Problem = &p
		}
		out.Checkpoints = append(out.Checkpoints, cv)
	}
	c.JSON(http.StatusOK, out)
}

func (s *Server) ledgerCheckpoint(c *gin.Context) {
	cp, err := s.ledger.Checkpoint(c.Request.Context())
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, toCheckpointBody(cp))
}

type publicKeyResponse struct {
	Algorithm string `json:"algorithm"`
	PublicKey string `json:"public_key"`
	Signs     string `json:"signs"`
}

func (s *Server) ledgerPublicKey(c *gin.Context) {
	c.JSON(http.StatusOK, publicKeyResponse{Algorithm: "Ed25519", PublicKey: base64.StdEncoding.EncodeToString(s.ledger.PublicKey()),
		Signs: checkpointSigns})
}
