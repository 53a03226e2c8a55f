// Package groups manages producer groups, their managers and their artisans.
// Rights within a group come from being one of its managers; admins may
// read every group, auditors the groups assigned to them (Readable). Artisans' personal data (full name, phone,
// CNIC, gender, registration numbers) leaves this package only in the
// Artisan type, which only managers and staff receive.
package groups

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services"
	"github.com/karigar/karigar/services/page"
	"github.com/karigar/karigar/services/pii"
)

// Options configure a Service.
type Options struct {
	Currency  string // the deployment's currency
	CursorKey []byte
	Now       func() time.Time
	// TermsChanged runs inside the transaction that changes a group's
	// province or collective fund rate, so that figures derived from them
	// (the catalogue's fair-trade figures) change in the same commit.
	TermsChanged func(tx *gorm.DB, groupID uuid.UUID) error
	// PII seals artisans' phone numbers and CNICs (required).
	PII *pii.Box
}

// Service is the producer-group service.
type Service struct {
	db     *gorm.DB
	opt    Options
	cursor page.Codec
}

// New returns a Service on db.
func New(db *gorm.DB, opt Options) (*Service, error) {
	if !models.ValidCurrency(opt.Currency) || len(opt.CursorKey) == 0 || opt.PII == nil {
		return nil, errors.New("groups: a currency, a cursor key and a PII box are required")
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Service{db: db, opt: opt, cursor: page.NewCodec(opt.CursorKey)}, nil
}

func (s *Service) now() time.Time { return s.opt.Now().UTC().Truncate(time.Microsecond) }

// Group is a producer group as callers see it. RegistrationNumber is set
// only for the group's managers and staff.
type Group struct {
	models.Group
	ProductCount     int64
	ShowRegistration bool
}

// GroupInput is what a manager sets on a group. In an update, nil fields
// are left as they are.
type GroupInput struct {
	Name               *string
	Description        *string
	District           *string
	Province           *string
	RegistrationNumber *string
	ShippingFee        *models.Money
	ProfitMethod       *string
	CollectiveFundBPS  *int
}

// Create makes a pending group managed by actor (a producer).
// Errors: forbidden for other roles, validation_failed.
func (s *Service) Create(ctx context.Context, actor services.Actor, in GroupInput) (Group, error) {
	if actor.Role != models.RoleProducer {
		return Group{}, services.Forbidden("only producers can create groups")
	}
	now := s.now()
	g := models.Group{ID: models.NewID(), Currency: s.opt.Currency, Status: models.GroupPending,
		CreatedBy: actor.UserID, CreatedAt: now, UpdatedAt: now}
	var fe services.FieldErrors
	fe.Check(in.Name == nil, "name", "is required")
	fe.Check(in.District == nil, "district", "is required")
	fe.Check(in.Province == nil, "province", "is required")
	fe.Check(in.ProfitMethod == nil, "profit_sharing.method", "is required")
	fe.Check(in.CollectiveFundBPS == nil, "profit_sharing.collective_fund_bps", "is required")
	s.apply(&g, in, &fe)
	if err := fe.Err(); err != nil {
		return Group{}, err
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&g).Error; err != nil {
			return err
		}
		return tx.Create(&models.GroupManager{GroupID: g.ID, UserID: actor.UserID, CreatedAt: now}).Error
	})
	if err != nil {
		return Group{}, err
	}
	return Group{Group: g, ShowRegistration: true}, nil
}

// apply validates in and copies it onto g, collecting problems in fe.
func (s *Service) apply(g *models.Group, in GroupInput, fe *services.FieldErrors) {
	if in.Name != nil {
		g.Name = strings.TrimSpace(*in.Name)
		fe.Check(!services.TextWithin(g.Name, 1, 120), "name", "must be 1 to 120 characters")
	}
	if in.Description != nil {
		g.Description = strings.TrimSpace(*in.Description)
		fe.Check(!services.TextWithin(g.Description, 0, 2000), "description", "must be at most 2000 characters")
	}
	if in.District != nil {
		g.District = strings.TrimSpace(*in.District)
		g.DistrictKey = strings.ToLower(g.District)
		fe.Check(!services.TextWithin(g.District, 1, 80), "district", "must be 1 to 80 characters")
	}
	if in.Province != nil {
		g.Province = models.Province(*in.Province)
		fe.Check(!g.Province.Valid(), "province", "must be one of punjab, sindh, khyber_pakhtunkhwa, balochistan, gilgit_baltistan, azad_kashmir, islamabad")
	}
	if in.RegistrationNumber != nil {
		r := strings.TrimSpace(*in.RegistrationNumber)
		fe.Check(!services.TextWithin(r, 0, 64), "registration_number", "must be at most 64 characters")
		g.RegistrationNumber = nil
		if r != "" {
			g.RegistrationNumber = &r
		}
	}
	if in.ShippingFee != nil {
		fe.Check(in.ShippingFee.Currency != s.opt.Currency, "shipping_fee.currency", "must be "+s.opt.Currency)
		fe.Check(in.ShippingFee.Amount < 0 || in.ShippingFee.Amount > 100_000_000, "shipping_fee.amount", "must be from 0 to 100000000")
		g.ShippingFee = in.ShippingFee.Amount
	}
	if in.ProfitMethod != nil {
		g.ProfitMethod = *in.ProfitMethod
		switch g.ProfitMethod {
		case models.ShareByLaborHours, models.ShareByUnitsMade, models.ShareEqually:
		default:
			fe.Add("profit_sharing.method", "must be labor_hours, units_made or equal")
		}
	}
	if in.CollectiveFundBPS != nil {
		g.CollectiveFundBPS = *in.CollectiveFundBPS
		fe.Check(g.CollectiveFundBPS < 0 || g.CollectiveFundBPS > 10000, "profit_sharing.collective_fund_bps", "must be from 0 to 10000")
	}
}

// Update changes a group the actor manages. Errors: not_found when the
// actor does not manage it, validation_failed.
func (s *Service) Update(ctx context.Context, actor services.Actor, id uuid.UUID, in GroupInput) (Group, error) {
	var out Group
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// Locked: a change of terms refigures the group's products, which
		// product writes (holding the group FOR SHARE) must not interleave with.
		g, err := Managed(models.ForNoKeyUpdate(tx), actor, id)
		if err != nil {
			return err
		}
		before := g
		var fe services.FieldErrors
		s.apply(&g, in, &fe)
		if err := fe.Err(); err != nil {
			return err
		}
		g.UpdatedAt = s.now()
		if err := tx.Save(&g).Error; err != nil {
			return err
		}
		if g.Province != before.Province || g.DistrictKey != before.DistrictKey {
			if err := tx.Model(&models.Product{}).Where("group_id = ?", g.ID).
				Updates(map[string]any{"province": g.Province, "district_key": g.DistrictKey}).Error; err != nil {
				return err
			}
		}
		if (g.Province != before.Province || g.CollectiveFundBPS != before.CollectiveFundBPS) && s.opt.TermsChanged != nil {
			if err := s.opt.TermsChanged(tx, g.ID); err != nil {
				return err
			}
		}
		out, err = withCount(tx, g)
		return err
	})
	out.ShowRegistration = true
	return out, err
}

// Verify marks a pending group verified (admins only). Errors: forbidden,
// not_found, invalid_state when it is verified already.
func (s *Service) Verify(ctx context.Context, actor services.Actor, id uuid.UUID) (Group, error) {
	if actor.Role != models.RoleAdmin {
		return Group{}, services.Forbidden("only admins verify groups")
	}
	var out Group
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		now := s.now()
		res := tx.Model(&models.Group{}).Where("id = ? AND status = ?", id, models.GroupPending).
			Updates(map[string]any{"status": models.GroupVerified, "verified_at": now, "updated_at": now})
		if res.Error != nil {
			return res.Error
		}
		var g models.Group
		if err := tx.First(&g, "id = ?", id).Error; errors.Is(err, gorm.ErrRecordNotFound) {
			return services.NotFound("group")
		} else if err != nil {
			return err
		}
		if res.RowsAffected == 0 {
			return services.Conflict(services.CodeInvalidState, "the group is verified already")
		}
		var err error
		out, err = withCount(tx, g)
		return err
	})
	out.ShowRegistration = true
	return out, err
}

// Get returns a group: any verified group to anyone; a pending one, and the
// registration number, only to those who may read it (Insider). Errors: not_found.
func (s *Service) Get(ctx context.Context, actor services.Actor, id uuid.UUID) (Group, error) {
	db := s.db.WithContext(ctx)
	var g models.Group
	if err := db.First(&g, "id = ?", id).Error; errors.Is(err, gorm.ErrRecordNotFound) {
		return Group{}, services.NotFound("group")
	} else if err != nil {
		return Group{}, err
	}
	privileged, err := Insider(db, actor, g.ID)
	if err != nil {
		return Group{}, err
	}
	if g.Status != models.GroupVerified && !privileged {
		return Group{}, services.NotFound("group")
	}
	out, err := withCount(db, g)
	out.ShowRegistration = privileged
	return out, err
}

// GroupFilter narrows List.
type GroupFilter struct {
	Province string
	District string
	Limit    int
	Cursor   string
}

// List returns verified groups ordered by name, then id. Errors:
// bad_request for an unknown province or a bad cursor.
func (s *Service) List(ctx context.Context, f GroupFilter) ([]Group, string, error) {
	if f.Province != "" && !models.Province(f.Province).Valid() {
		return nil, "", services.BadRequest("province %q is not one of punjab, sindh, khyber_pakhtunkhwa, balochistan, gilgit_baltistan, azad_kashmir, islamabad", f.Province)
	}
	district := strings.ToLower(strings.TrimSpace(f.District))
	scope := "groups|" + f.Province + "|" + district
	q := s.db.WithContext(ctx).Model(&models.Group{}).Where("status = ?", models.GroupVerified)
	if f.Province != "" {
		q = q.Where("province = ?", f.Province)
	}
	if district != "" {
		q = q.Where("district_key = ?", district)
	}
	if f.Cursor != "" {
		var name string
		var id uuid.UUID
		if err := s.cursor.Decode(f.Cursor, scope, &name, &id); err != nil {
			return nil, "", err
		}
		q = q.Where("(name, id) > (?, ?)", name, id)
	}
	var rows []models.Group
	if err := q.Order("name, id").Limit(f.Limit + 1).Find(&rows).Error; err != nil {
		return nil, "", err
	}
	next := ""
	if len(rows) > f.Limit {
		rows = rows[:f.Limit]
		last := rows[len(rows)-1]
		next = s.cursor.Encode(scope, last.Name, last.ID)
	}
	counts, err := productCounts(s.db.WithContext(ctx), rows)
	if err != nil {
		return nil, "", err
	}
	out := make([]Group, len(rows))
	for i, g := range rows {
		out[i] = Group{Group: g, ProductCount: counts[g.ID]}
	}
	return out, next, nil
}

// withCount adds the group's published product count.
func withCount(db *gorm.DB, g models.Group) (Group, error) {
	counts, err := productCounts(db, []models.Group{g})
	return Group{Group: g, ProductCount: counts[g.ID]}, err
}

// productCounts counts published products of several groups in one query.
func productCounts(db *gorm.DB, gs []models.Group) (map[uuid.UUID]int64, error) {
	out := map[uuid.UUID]int64{}
	if len(gs) == 0 {
		return out, nil
	}
	ids := make([]uuid.UUID, len(gs))
	for i, g := range gs {
		ids[i] = g.ID
	}
	var rows []struct {
		GroupID uuid.UUID
		N       int64
	}
	err := db.Model(&models.Product{}).Select("group_id, count(*) AS n").
		Where("group_id IN ? AND status = '"+models.ProductPublished+"'", ids).Group("group_id").Scan(&rows).Error
	for _, r := range rows {
		out[r.GroupID] = r.N
	}
	return out, err
}

// IsManager reports whether userID manages groupID.
func IsManager(db *gorm.DB, groupID, userID uuid.UUID) (bool, error) {
	var n int64
	err := db.Model(&models.GroupManager{}).Where("group_id = ? AND user_id = ?", groupID, userID).Count(&n).Error
	return n > 0, err
}

// Managed returns the group if actor manages it: forbidden for roles other
// than producer, not_found for producers who do not manage it (a group's
// existence is not revealed to them). It reads through db, so callers can
// use it inside their own transaction.
func Managed(db *gorm.DB, actor services.Actor, id uuid.UUID) (models.Group, error) {
	var g models.Group
	if actor.Role != models.RoleProducer {
		return g, services.Forbidden("only the group's managers can do this")
	}
	err := db.Where("id = ? AND id IN (SELECT group_id FROM group_managers WHERE user_id = ?)", id, actor.UserID).First(&g).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return g, services.NotFound("group")
	}
	return g, err
}

// SeesBuyers reports whether actor may see the names, phones and addresses
// of the buyers whose orders a group hands over as an order cycle's
// coordinator (the cycle's packing list, its handovers): the group's
// managers and admins. Nobody else sees them, the group's auditors
// included: buyers are neither the group's people nor its books.
func SeesBuyers(db *gorm.DB, actor services.Actor, groupID uuid.UUID) (bool, error) {
	switch actor.Role {
	case models.RoleAdmin:
		return true, nil
	case models.RoleProducer:
		return IsManager(db, groupID, actor.UserID)
	}
	return false, nil
}

// Readable returns the group if actor may read its artisans' personal data
// and its books, statements and reports. It is the one place that decides
// this: admins read every group, auditors the groups assigned to them,
// producers the groups they manage. A group the actor may not read is
// not_found, exactly as an unknown one, so that its existence is not
// revealed; other roles are forbidden. It reads through db, so callers can
// use it inside their own transaction.
func Readable(db *gorm.DB, actor services.Actor, id uuid.UUID) (models.Group, error) {
	var g models.Group
	q := db.Where("id = ?", id)
	switch actor.Role {
	case models.RoleProducer:
		return Managed(db, actor, id)
	case models.RoleAuditor:
		q = q.Where("id IN (SELECT group_id FROM group_auditors WHERE user_id = ?)", actor.UserID)
	case models.RoleAdmin:
	default:
		return g, services.Forbidden("only the group's managers, auditors and admins see its people and books")
	}
	if err := q.Limit(1).Find(&g).Error; err != nil {
		return g, err
	}
	if g.ID == uuid.Nil {
		return g, services.NotFound("group")
	}
	return g, nil
}

// Insider reports whether actor may read the group as Readable decides, for
// readers that show everyone something and insiders more (a group's
// registration number, a product's drafts and private makers).
func Insider(db *gorm.DB, actor services.Actor, groupID uuid.UUID) (bool, error) {
	if actor.Anonymous() {
		return false, nil
	}
	_, err := Readable(db, actor, groupID)
	if services.IsCode(err, services.CodeNotFound) || services.IsCode(err, services.CodeForbidden) {
		return false, nil
	}
	return err == nil, err
}

// ReadableIDs is the ids of the groups actor may read (as Readable decides),
// as a subquery for "group_id IN ?", for readers that span groups. all is
// true for admins, who read every group, and the subquery is then nil.
// Errors: forbidden for roles that read no group's books.
func ReadableIDs(db *gorm.DB, actor services.Actor) (ids *gorm.DB, all bool, err error) {
	switch actor.Role {
	case models.RoleAdmin:
		return nil, true, nil
	case models.RoleAuditor:
		return db.Model(&models.GroupAuditor{}).Select("group_id").Where("user_id = ?", actor.UserID), false, nil
	case models.RoleProducer:
		return db.Model(&models.GroupManager{}).Select("group_id").Where("user_id = ?", actor.UserID), false, nil
	}
	return nil, false, services.Forbidden("only the group's managers, auditors and admins see its people and books")
}

// Manager is a user who manages a group.
type Manager struct {
	UserID  uuid.UUID
	Name    string
	Email   string
	AddedAt time.Time
}

// AddManager makes the producer with email a manager of a group the actor
// manages. Errors: not_found, validation_failed (no producer with that
// email), conflict (a manager already).
func (s *Service) AddManager(ctx context.Context, actor services.Actor, groupID uuid.UUID, email string) (Manager, error) {
	var out Manager
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if _, err := Managed(tx, actor, groupID); err != nil {
			return err
		}
		var u models.User
		err := tx.Where("email = ? AND role = ?", strings.ToLower(strings.TrimSpace(email)), models.RoleProducer).First(&u).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return services.Invalid(map[string]string{"email": "no producer account has this email"})
		} else if err != nil {
			return err
		}
		m := models.GroupManager{GroupID: groupID, UserID: u.ID, CreatedAt: s.now()}
		if err := tx.Create(&m).Error; errors.Is(err, gorm.ErrDuplicatedKey) {
			return services.Conflict(services.CodeConflict, "this user manages the group already")
		} else if err != nil {
			return err
		}
		out = Manager{UserID: u.ID, Name: u.Name, Email: u.Email, AddedAt: m.CreatedAt}
		return nil
	})
	return out, err
}
