package sms

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services"
	"github.com/karigar/karigar/services/pii"
)

// Gateway is how the sender reaches Kannel's sendsms interface and how hard
// it tries. URL, User and Password are required; zero values of the rest
// are the defaults named beside them.
type Gateway struct {
	URL      string // smsbox's sendsms interface, e.g. http://127.0.0.1:13013/cgi-bin/sendsms
	User     string
	Password string
	From     string // the sender shown on phones; empty: the sendsms-user's default-sender
	// DLRURL is Karigar's /api/v1/sms/dlr as Kannel reaches it; each
	// message gets it with its id and token. Empty: no delivery reports.
	DLRURL string

	Timeout     time.Duration // one request to Kannel; 10s
	Poll        time.Duration // how often an idle sender looks for due messages; 1s
	Backoff     time.Duration // delay before the first retry, doubled for each one after, with jitter; 5s
	MaxBackoff  time.Duration // the longest delay between attempts; 1h
	MaxAttempts int           // attempts before a message fails for good; 20 (about half a day with the defaults)
	Batch       int           // messages claimed at once; 32
	Concurrency int           // requests to Kannel at once; 4
	// Lease is how long a claimed message stays its sender's: a sender
	// that dies mid-way leaves its messages to others after it. 2m.
	Lease time.Duration
}

func (g *Gateway) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&g.Timeout, 10*time.Second)
	def(&g.Poll, time.Second)
	def(&g.Backoff, 5*time.Second)
	def(&g.MaxBackoff, time.Hour)
	def(&g.Lease, 2*time.Minute)
	if g.MaxAttempts <= 0 {
		g.MaxAttempts = 20
	}
	if g.Batch <= 0 {
		g.Batch = 32
	}
	if g.Concurrency <= 0 {
		g.Concurrency = 4
	}
	// A lease shorter than a batch's worst case would hand messages still
	// being sent to another sender.
	if worst := g.Timeout * time.Duration((g.Batch+g.Concurrency-1)/g.Concurrency+1); g.Lease < worst {
		g.Lease = worst
	}
}

// SenderOptions are what the sender needs besides the gateway. Box and
// DLRKey are required.
type SenderOptions struct {
	Box     *pii.Box // opens the sealed numbers
	DLRKey  []byte   // signs each message's delivery-report URL (the Service's DLRKey)
	Logger  *slog.Logger
	Metrics services.Metrics
	Client  *http.Client // nil: a client of its own
	Now     func() time.Time
}

// Sender hands the outbox to Kannel. Any number of senders may run on one
// database (one per replica): each claims due messages with FOR UPDATE SKIP
// LOCKED (on SQLite, whose writers take turns, a plain UPDATE) and sets them
// aside for a lease, so each message is handed to Kannel by one of them.
type Sender struct {
	db  *gorm.DB
	g   Gateway
	opt SenderOptions
	// skipLocked ends the claim's subquery on PostgreSQL.
	skipLocked string
}

// NewSender returns a sender of db's outbox through g.
func NewSender(db *gorm.DB, g Gateway, opt SenderOptions) (*Sender, error) {
	u, err := url.Parse(g.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("sms: the gateway URL must be an absolute http(s) URL")
	}
	if g.User == "" || g.Password == "" {
		return nil, errors.New("sms: Kannel's sendsms needs a user and a password")
	}
	if opt.Box == nil {
		return nil, errors.New("sms: the sender needs the PII box to open the numbers")
	}
	if len(opt.DLRKey) < 32 {
		return nil, errors.New("sms: a delivery-report key of at least 32 bytes is required")
	}
	g.defaults()
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Metrics == nil {
		opt.Metrics = services.NoMetrics{}
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Client == nil {
		opt.Client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: g.Concurrency, IdleConnTimeout: time.Minute}}
	}
	s := &Sender{db: db, g: g, opt: opt}
	if models.DialectOf(db) == models.Postgres {
		s.skipLocked = " FOR UPDATE SKIP LOCKED"
	}
	return s, nil
}

func (s *Sender) now() time.Time { return s.opt.Now().UTC().Truncate(time.Microsecond) }

// Run sends due messages until ctx ends, then finishes the requests in
// flight, records what became of them, and gives back the messages it had
// claimed but not yet tried, so that nothing waits for its lease.
func (s *Sender) Run(ctx context.Context) {
	s.opt.Logger.Info("sms: sending through Kannel", "url", redact(s.g.URL), "concurrency", s.g.Concurrency)
	for ctx.Err() == nil {
		n, err := s.pass(ctx)
		if err != nil && ctx.Err() == nil {
			s.opt.Logger.Error("sms: could not claim due messages", "error", err.Error())
		}
		if err == nil && n == s.g.Batch {
			continue // there may be more due
		}
		select {
		case <-ctx.Done():
		case <-time.After(s.g.Poll):
		}
	}
	s.opt.Logger.Info("sms: sender stopped")
}

// claimed is a message a sender has set aside for itself; attempts is
// its count after this claim, and fences what the sender writes later: a
// sender whose lease ran out and whose message another has claimed since
// changes nothing.
type claimed struct {
	ID       uuid.UUID
	ToSealed string
	Body     string
	Unicode  bool
	Attempts int
}

// pass claims one batch of due messages and hands them to Kannel, a few at
// a time. It returns how many it claimed.
func (s *Sender) pass(ctx context.Context) (int, error) {
	batch, err := s.claim(ctx)
	if err != nil || len(batch) == 0 {
		return 0, err
	}
	work := make(chan claimed)
	var wg sync.WaitGroup
	for range min(s.g.Concurrency, len(batch)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for m := range work {
				if ctx.Err() != nil {
					s.release(m)
					continue
				}
				s.deliver(ctx, m)
			}
		}()
	}
	for _, m := range batch {
		work <- m
	}
	close(work)
	wg.Wait()
	return len(batch), nil
}

// claim sets aside up to a batch of due messages for this sender: their
// attempt is counted and their next attempt put off by the lease, in one
// statement, so no other sender sees them as due meanwhile.
func (s *Sender) claim(ctx context.Context) ([]claimed, error) {
	now := s.now()
	var out []claimed
	err := s.db.WithContext(ctx).Raw(`UPDATE sms_messages SET attempts = attempts + 1, next_attempt_at = ?
		WHERE id IN (SELECT id FROM sms_messages WHERE status = ? AND next_attempt_at <= ?
			ORDER BY next_attempt_at LIMIT ?`+s.skipLocked+`)
		RETURNING id, to_sealed, body, unicode, attempts`,
		now.Add(s.g.Lease), models.SMSQueued, now, s.g.Batch).Scan(&out).Error
	// Oldest first (ids are UUIDv7): RETURNING keeps no order.
	sort.Slice(out, func(i, j int) bool { return out[i].ID.String() < out[j].ID.String() })
	return out, err
}

// deliver hands m to Kannel and records the outcome: sent, or tried again
// later, or failed for good after the last attempt.
func (s *Sender) deliver(ctx context.Context, m claimed) {
	err := s.submit(ctx, m)
	// What became of the request is recorded even while shutting down.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	db := s.db.WithContext(wctx)
	now := s.now()
	if err == nil {
		// A delivery report may have come first and made it delivered: then
		// this changes nothing (and the report has set sent_at).
		if err := db.Model(&models.SMSMessage{}).Where("id = ? AND status = ? AND attempts = ?", m.ID, models.SMSQueued, m.Attempts).
			Updates(map[string]any{"status": models.SMSSent, "sent_at": now, "last_error": nil}).Error; err != nil {
			s.opt.Logger.Error("sms: Kannel took a message but it could not be marked sent", "message_id", m.ID.String(), "error", err.Error())
		}
		s.opt.Metrics.SMS("sent")
		return
	}
	reason := err.Error()
	if m.Attempts >= s.g.MaxAttempts {
		res := db.Model(&models.SMSMessage{}).Where("id = ? AND status = ? AND attempts = ?", m.ID, models.SMSQueued, m.Attempts).
			Updates(map[string]any{"status": models.SMSFailed, "failed_at": now, "last_error": reason})
		if res.Error != nil {
			s.opt.Logger.Error("sms: a message could not be marked failed", "message_id", m.ID.String(), "error", res.Error.Error())
			return
		}
		s.opt.Logger.Warn("sms: a message failed for good", "message_id", m.ID.String(), "attempts", m.Attempts, "error", reason)
		s.opt.Metrics.SMS("failed")
		return
	}
	wait := s.backoff(m.Attempts)
	if err := db.Model(&models.SMSMessage{}).Where("id = ? AND status = ? AND attempts = ?", m.ID, models.SMSQueued, m.Attempts).
		Updates(map[string]any{"next_attempt_at": now.Add(wait), "last_error": reason}).Error; err != nil {
		s.opt.Logger.Error("sms: a message's retry could not be recorded; it is tried again after its lease", "message_id", m.ID.String(), "error", err.Error())
	}
	s.opt.Logger.Warn("sms: Kannel did not take a message; it will be tried again", "message_id", m.ID.String(),
		"attempt", m.Attempts, "retry_in", wait.Round(time.Millisecond).String(), "error", reason)
	s.opt.Metrics.SMS("retried")
}

// release gives back a message claimed but not tried: its attempt is not
// counted and it is due again at once.
func (s *Sender) release(m claimed) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.db.WithContext(ctx).Model(&models.SMSMessage{}).
		Where("id = ? AND status = ? AND attempts = ?", m.ID, models.SMSQueued, m.Attempts).
		Updates(map[string]any{"attempts": gorm.Expr("attempts - 1"), "next_attempt_at": s.now()}).Error; err != nil {
		s.opt.Logger.Error("sms: a claimed message could not be given back; it is due again after its lease", "message_id", m.ID.String(), "error", err.Error())
	}
}

// backoff is the delay before the attempt after attempt n (1, 2, ...):
// Backoff doubled n-1 times, at most MaxBackoff, of which a random half
// is taken off so that messages that failed together do not come back together.
func (s *Sender) backoff(n int) time.Duration {
	d := s.g.MaxBackoff
	if shift := n - 1; shift < 40 && s.g.Backoff<<shift > 0 && s.g.Backoff<<shift < d {
		d = s.g.Backoff << shift
	}
	half := d / 2
	return half + rand.N(half+1)
}

// submit makes one sendsms request for m. Urdu (and anything else outside
// the GSM alphabet) goes as UCS-2: coding=2 with the text in UTF-8;
// url.Values writes the "+" of the number as %2B, as Kannel needs.
func (s *Sender) submit(ctx context.Context, m claimed) error {
	to, err := s.opt.Box.Open(m.ToSealed)
	if err != nil {
		return fmt.Errorf("the number cannot be opened with the configured PII keys: %w", errors.Unwrap(err))
	}
	if n, ok := pii.NormalisePhone(to); ok {
		to = n
	}
	q := url.Values{}
	q.Set("username", s.g.User)
	q.Set("password", s.g.Password)
	q.Set("to", to)
	q.Set("text", m.Body)
	q.Set("charset", "UTF-8")
	if m.Unicode || !GSM7(m.Body) {
		q.Set("coding", "2")
	}
	if s.g.From != "" {
		q.Set("from", s.g.From)
	}
	if s.g.DLRURL != "" {
		q.Set("dlr-mask", "3")
		q.Set("dlr-url", DLRURL(s.g.DLRURL, s.opt.DLRKey, m.ID))
	}
	target := s.g.URL
	if strings.Contains(target, "?") {
		target += "&" + q.Encode()
	} else {
		target += "?" + q.Encode()
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.g.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, target, nil)
	if err != nil {
		return errors.New("the gateway URL is not usable")
	}
	res, err := s.opt.Client.Do(req)
	if err != nil {
		// A *url.Error names the URL, which holds the password and the number.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("Kannel cannot be reached: %v", err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 512))
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("Kannel answered %d: %s", res.StatusCode, brief(string(body)))
	}
	return nil
}

// DLRURL is the delivery-report URL of message id: base with the message's
// id and token, and Kannel's %d for the report's type.
func DLRURL(base string, key []byte, id uuid.UUID) string {
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "id=" + id.String() + "&token=" + DLRToken(key, id) + "&type=%d"
}

// brief is Kannel's answer on one line, at most 200 bytes of it.
func brief(s string) string {
	s = strings.Join(strings.Fields(strings.ToValidUTF8(s, "?")), " ")
	if len(s) > 200 {
		cut := 200
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	if s == "" {
		return "(no text)"
	}
	return s
}

// redact is a URL without its query and credentials, for logs.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable)"
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	return u.String()
}
