// Package statements issues income statements a lender can verify
// (contract section 15): month by month, what an artisan's work sold for,
// what she earned and was paid, and her hours of work; or the same for a
// whole group. The figures come from the ledger through services/audit (the
// reports' one reading of it); the statement is signed with the ledger's
// checkpoint key over a canonical encoding (encoding.go), so that anyone
// can check, without an account, that the platform issued it unchanged.
package statements

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services"
	"github.com/karigar/karigar/services/audit"
	"github.com/karigar/karigar/services/groups"
	"github.com/karigar/karigar/services/ledger"
)

// Version is the statement format this package issues and verifies.
const Version = 1

// Subject kinds.
const (
	SubjectArtisan = "artisan"
	SubjectGroup   = "group"
)

// MaxSpan is the longest period a statement may cover.
const MaxSpan = 3 // years

// Options configure a Service.
type Options struct {
	Currency string
	Audit    *audit.Service
	Ledger   *ledger.Service // signs with the checkpoint key
	Now      func() time.Time
	// Location is where months begin and end; nil: Asia/Karachi.
	Location *time.Location
}

// Service issues and verifies income statements.
type Service struct {
	db  *gorm.DB
	opt Options
}

// New returns a Service on db.
func New(db *gorm.DB, opt Options) (*Service, error) {
	if !models.ValidCurrency(opt.Currency) || opt.Audit == nil || opt.Ledger == nil {
		return nil, errors.New("statements: a currency, the audit service and the ledger are required")
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Location == nil {
		opt.Location = Karachi
	}
	return &Service{db: db, opt: opt}, nil
}

// Karachi is Pakistan's time (models.Karachi).
var Karachi = models.Karachi

// Subject is whom a statement is about. For a group, Name and GroupName are
// both the group's name and ID and GroupID its id.
type Subject struct {
	Kind      string
	ID        uuid.UUID
	Name      string // an artisan's full name, or the group's name
	GroupID   uuid.UUID
	GroupName string
	District  string
	Province  string
}

// Figures are one month's, or the period's, figures. Hours are hundredths
// of an hour, rounded towards zero from the minutes.
type Figures struct {
	Sales, Earned, Paid models.Money
	Hours               int64
}

// Month is one calendar month's figures; Month is "2026-01".
type Month struct {
	Month string
	Figures
}

// Statement is what is signed.
type Statement struct {
	Version  int
	Subject  Subject
	From, To time.Time // To exclusive
	Months   []Month
	Totals   Figures
	IssuedAt time.Time
}

// Signature is a statement's signature.
type Signature struct {
	Alg   string
	KeyID string
	Value []byte
}

// Signed is a statement with its signature: the document a lender is given.
type Signed struct {
	Statement Statement
	Signature Signature
}

// ForArtisan issues an artisan's statement: to her group's managers, its
// assigned auditors and admins (groups.Readable), only with her consent to
// statements. Errors: forbidden, not_found, consent_required, bad_request
// and validation_failed (the period).
func (s *Service) ForArtisan(ctx context.Context, actor services.Actor, id uuid.UUID, rawFrom, rawTo string) (Signed, error) {
	db := s.db.WithContext(ctx)
	a, g, err := groups.StatementSubject(db, actor, id)
	if err != nil {
		return Signed{}, err
	}
	sub := Subject{Kind: SubjectArtisan, ID: a.ID, Name: a.FullName, GroupID: g.ID, GroupName: g.Name,
		District: a.District, Province: string(g.Province)}
	return s.issue(ctx, sub, rawFrom, rawTo, func(f audit.Figures) (int64, int64, int64, int64) {
		af := f.Artisans[a.ID]
		return af.Sales, af.Earned, af.Paid, af.Minutes
	})
}

// ForGroup issues a group's statement: its goods sold (less refunds), what
// its artisans earned and were paid, and their hours; to its managers, its
// assigned auditors and admins (groups.Readable). Errors: forbidden,
// not_found, bad_request and validation_failed (the period).
func (s *Service) ForGroup(ctx context.Context, actor services.Actor, id uuid.UUID, rawFrom, rawTo string) (Signed, error) {
	g, err := groups.Readable(s.db.WithContext(ctx), actor, id)
	if err != nil {
		return Signed{}, err
	}
	sub := Subject{Kind: SubjectGroup, ID: g.ID, Name: g.Name, GroupID: g.ID, GroupName: g.Name,
		District: g.District, Province: string(g.Province)}
	return s.issue(ctx, sub, rawFrom, rawTo, func(f audit.Figures) (int64, int64, int64, int64) {
		var earned, paid, minutes int64
		for _, a := range f.Artisans {
			earned, paid, minutes = earned+a.Earned, paid+a.Paid, minutes+a.Minutes
		}
		return f.Sales, earned, paid, minutes
	})
}

// issue reads the months' figures of the subject's group, takes the
// subject's out of them with pick, and signs the statement.
func (s *Service) issue(ctx context.Context, sub Subject, rawFrom, rawTo string,
	pick func(audit.Figures) (sales, earned, paid, minutes int64)) (Signed, error) {
	issued := s.opt.Now().UTC().Truncate(time.Microsecond)
	from, to, err := s.period(rawFrom, rawTo, issued)
	if err != nil {
		return Signed{}, err
	}
	months, err := s.opt.Audit.MonthlyFigures(ctx, []uuid.UUID{sub.GroupID}, from, to, s.opt.Location)
	if err != nil {
		return Signed{}, err
	}
	st := Statement{Version: Version, Subject: sub, From: from, To: to, IssuedAt: issued, Months: []Month{}}
	var sales, earned, paid, minutes int64
	for _, m := range months {
		ms, me, mp, mm := pick(m.Figures)
		st.Months = append(st.Months, Month{Month: m.Start.In(s.opt.Location).Format("2006-01"), Figures: s.figures(ms, me, mp, mm)})
		sales, earned, paid, minutes = sales+ms, earned+me, paid+mp, minutes+mm
	}
	st.Totals = s.figures(sales, earned, paid, minutes)
	sig, err := s.opt.Ledger.SignDocument(Encode(st))
	if err != nil {
		return Signed{}, err
	}
	return Signed{Statement: st, Signature: Signature{Alg: ledger.SignatureAlgorithm, KeyID: s.opt.Ledger.KeyID(), Value: sig}}, nil
}

func (s *Service) figures(sales, earned, paid, minutes int64) Figures {
	m := func(a int64) models.Money { return models.NewMoney(a, s.opt.Currency) }
	return Figures{Sales: m(sales), Earned: m(earned), Paid: m(paid), Hours: minutes * 100 / 60}
}

// period reads from and to. Without either, the statement covers the 12
// whole months (in Pakistan) before the current one; with from alone, it
// ends at the moment of issue; with to alone, it begins 12 months before.
// A to later than the moment of issue is the moment of issue (a statement
// vouches for nothing yet to come). Errors: bad_request
// (not RFC 3339), validation_failed (from not before to, or a span over
// MaxSpan years).
func (s *Service) period(rawFrom, rawTo string, issued time.Time) (time.Time, time.Time, error) {
	f, t, err := ledger.Period(rawFrom, rawTo)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	var from, to time.Time
	switch {
	case t != nil:
		to = *t
	case f != nil:
		to = issued
	default:
		l := issued.In(s.opt.Location)
		to = time.Date(l.Year(), l.Month(), 1, 0, 0, 0, 0, s.opt.Location).UTC()
	}
	if to.After(issued) {
		to = issued
	}
	if f != nil {
		from = *f
	} else {
		from = to.In(s.opt.Location).AddDate(0, -12, 0).UTC()
	}
	switch {
	case !from.Before(to):
		return from, to, services.Invalid(map[string]string{"from": "must be before to (and before now)"})
	case from.AddDate(MaxSpan, 0, 0).Before(to):
		return from, to, services.Invalid(map[string]string{"from": "must be at most 3 years before to"})
	}
	return from, to, nil
}

// Verify reports whether a document is a statement this platform signed,
// unchanged; when it is not, reason says why in words for people.
func (s *Service) Verify(doc Signed) (bool, string) {
	switch {
	case doc.Signature.Alg != ledger.SignatureAlgorithm:
		return false, "the signature's algorithm is not Ed25519"
	case doc.Signature.KeyID != s.opt.Ledger.KeyID():
		return false, "the statement was signed with a key this platform does not use (key " + s.opt.Ledger.KeyID() + ")"
	case doc.Statement.Version != Version:
		return false, "the statement's version is not one this platform issues"
	case !s.opt.Ledger.VerifyDocument(Encode(doc.Statement), doc.Signature.Value):
		return false, "the signature does not match the statement: a figure or a name was changed after it was issued, or it was not issued by this platform"
	}
	return true, ""
}
