package fairs

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services"
	"github.com/karigar/karigar/services/groups"
)

// EventInput is a new event.
type EventInput struct {
	Name, Venue, District string
	StartsAt, EndsAt      *time.Time
}

// Event is an event with its stalls.
type Event struct {
	models.FairEvent
	Stalls []StallSummary
}

// StallSummary is what anyone may know of a stall: whose it is and whether
// its register is closed.
type StallSummary struct {
	GroupID   uuid.UUID
	GroupName string
	ClosedAt  *time.Time
}

// Event statuses a list may ask for.
const (
	EventsUpcoming = "upcoming"
	EventsCurrent  = "current"
	EventsPast     = "past"
)

// CreateEvent records an event. Admins and the managers of a verified group
// may. Errors: forbidden, validation_failed (ends before it starts, lasts
// more than MaxEventDays, names out of range).
func (s *Service) CreateEvent(ctx context.Context, actor services.Actor, in EventInput) (Event, error) {
	db := s.db.WithContext(ctx)
	switch actor.Role {
	case models.RoleAdmin:
	case models.RoleProducer:
		var n int64
		if err := db.Model(&models.GroupManager{}).
			Where("user_id = ? AND group_id IN (SELECT id FROM producer_groups WHERE status = ?)", actor.UserID, models.GroupVerified).
			Count(&n).Error; err != nil {
			return Event{}, err
		}
		if n == 0 {
			return Event{}, services.Forbidden("only admins and the managers of a verified group can create events")
		}
	default:
		return Event{}, services.Forbidden("only admins and the managers of a verified group can create events")
	}
	in.Name, in.Venue, in.District = strings.TrimSpace(in.Name), strings.TrimSpace(in.Venue), strings.TrimSpace(in.District)
	var fe services.FieldErrors
	fe.Check(!services.TextWithin(in.Name, 1, 200), "name", "must be 1 to 200 characters")
	fe.Check(!services.TextWithin(in.Venue, 1, 200), "venue", "must be 1 to 200 characters")
	fe.Check(!services.TextWithin(in.District, 1, 100), "district", "must be 1 to 100 characters")
	fe.Check(in.StartsAt == nil, "starts_at", "is required")
	fe.Check(in.EndsAt == nil, "ends_at", "is required")
	if in.StartsAt != nil && in.EndsAt != nil {
		fe.Check(!in.EndsAt.After(*in.StartsAt), "ends_at", "must be after starts_at")
		fe.Check(in.EndsAt.Sub(*in.StartsAt) > MaxEventDays*24*time.Hour, "ends_at",
			fmt.Sprintf("must be at most %d days after starts_at", MaxEventDays))
	}
	if err := fe.Err(); err != nil {
		return Event{}, err
	}
	ev := models.FairEvent{ID: models.NewID(), Name: in.Name, Venue: in.Venue, District: in.District,
		StartsAt: in.StartsAt.UTC().Truncate(time.Microsecond), EndsAt: in.EndsAt.UTC().Truncate(time.Microsecond),
		CreatedBy: actor.UserID, CreatedAt: s.now()}
	if err := db.Create(&ev).Error; err != nil {
		return Event{}, err
	}
	return Event{FairEvent: ev, Stalls: []StallSummary{}}, nil
}

// GetEvent returns an event and its stalls, to anyone. Errors: not_found.
func (s *Service) GetEvent(ctx context.Context, id uuid.UUID) (Event, error) {
	db := s.db.WithContext(ctx)
	ev, err := loadEvent(db, id)
	if err != nil {
		return Event{}, err
	}
	out, err := withStalls(db, []models.FairEvent{ev})
	if err != nil {
		return Event{}, err
	}
	return out[0], nil
}

// ListEvents lists events, to anyone: upcoming ones (not started) and
// current ones (started, not ended) soonest first, past ones (ended) and
// all of them (status "") latest first. Errors: bad_request (status, cursor).
func (s *Service) ListEvents(ctx context.Context, status, cursor string, limit int) ([]Event, string, error) {
	db := s.db.WithContext(ctx)
	now := s.now()
	q := db.Model(&models.FairEvent{})
	asc := true
	switch status {
	case EventsUpcoming:
		q = q.Where("starts_at > ?", now)
	case EventsCurrent:
		q = q.Where("starts_at <= ? AND ends_at > ?", now, now)
	case EventsPast:
		q, asc = q.Where("ends_at <= ?", now), false
	case "":
		asc = false
	default:
		return nil, "", services.BadRequest("status must be upcoming, current or past")
	}
	scope := "events|" + status
	if cursor != "" {
		var t time.Time
		var id uuid.UUID
		if err := s.cursor.Decode(cursor, scope, &t, &id); err != nil {
			return nil, "", err
		}
		if asc {
			q = q.Where("(starts_at, id) > (?, ?)", t.UTC(), id)
		} else {
			q = q.Where("(starts_at, id) < (?, ?)", t.UTC(), id)
		}
	}
	order := "starts_at, id"
	if !asc {
		order = "starts_at DESC, id DESC"
	}
	var rows []models.FairEvent
	if err := q.Order(order).Limit(limit + 1).Find(&rows).Error; err != nil {
		return nil, "", err
	}
	next := ""
	if len(rows) > limit {
		rows = rows[:limit]
		last := rows[len(rows)-1]
		next = s.cursor.Encode(scope, last.StartsAt.UTC(), last.ID)
	}
	out, err := withStalls(db, rows)
	return out, next, err
}

func loadEvent(db *gorm.DB, id uuid.UUID) (models.FairEvent, error) {
	var ev models.FairEvent
	if err := db.Where("id = ?", id).Limit(1).Find(&ev).Error; err != nil {
		return ev, err
	}
	if ev.ID == uuid.Nil {
		return ev, services.NotFound("event")
	}
	return ev, nil
}

// withStalls adds each event's stalls, by group name, in one query.
func withStalls(db *gorm.DB, evs []models.FairEvent) ([]Event, error) {
	out := make([]Event, len(evs))
	if len(evs) == 0 {
		return out, nil
	}
	ids := make([]uuid.UUID, len(evs))
	index := map[uuid.UUID]int{}
	for i, ev := range evs {
		ids[i], index[ev.ID] = ev.ID, i
		out[i] = Event{FairEvent: ev, Stalls: []StallSummary{}}
	}
	var rows []struct {
		EventID   uuid.UUID
		GroupID   uuid.UUID
		GroupName string
		ClosedAt  *time.Time
	}
	if err := db.Table("fair_stalls s").Select("s.event_id, s.group_id, g.name AS group_name, s.closed_at").
		Joins("JOIN producer_groups g ON g.id = s.group_id").Where("s.event_id IN ?", ids).
		Order("s.event_id, g.name, s.group_id").Scan(&rows).Error; err != nil {
		return nil, err
	}
	for _, r := range rows {
		i := index[r.EventID]
		out[i].Stalls = append(out[i].Stalls, StallSummary{GroupID: r.GroupID, GroupName: r.GroupName, ClosedAt: r.ClosedAt})
	}
	return out, nil
}

// Stall is a stall with what its group's readers may see: the units of
// each product at it, its sales so far, and its register.
type Stall struct {
	models.FairStall
	GroupName string
	Stock     []StockLine
	Sales     int64 // sales recorded
	Units     int64
	Total     int64 // what they came to, by any payment
	Flagged   int64 // of them, those that need reconciliation
	// CashExpected is what the cash sales booked: at the close, as it was
	// then; before, as it is now.
	CashExpected int64
	Currency     string
}

// StockLine is one product at a stall, and its online stock now.
type StockLine struct {
	models.FairStallStock
	Title  string
	Online int
}

// AddStall gives a group the actor manages a stall at an event. Errors:
// forbidden (not a producer), not_found (the event, or a group the actor
// does not manage), invalid_state (the group is not verified, or the event
// has ended), conflict (the group has a stall there already).
func (s *Service) AddStall(ctx context.Context, actor services.Actor, eventID, groupID uuid.UUID) (Stall, error) {
	db := s.db.WithContext(ctx)
	ev, err := loadEvent(db, eventID)
	if err != nil {
		return Stall{}, err
	}
	g, err := groups.Managed(db, actor, groupID)
	if err != nil {
		return Stall{}, err
	}
	if g.Status != models.GroupVerified {
		return Stall{}, services.Conflict(services.CodeInvalidState,
			"%s is not verified yet: an admin verifies a group before it can take a stall", g.Name)
	}
	now := s.now()
	if !ev.EndsAt.After(now) {
		return Stall{}, services.Conflict(services.CodeInvalidState, "the event ended at %s", ev.EndsAt.In(Karachi).Format(time.RFC3339))
	}
	res := db.Clauses(clause.OnConflict{DoNothing: true}).Create(&models.FairStall{EventID: eventID, GroupID: groupID,
		CreatedBy: actor.UserID, CreatedAt: now})
	if res.Error != nil {
		return Stall{}, res.Error
	}
	if res.RowsAffected == 0 {
		return Stall{}, services.Conflict(services.CodeConflict, "%s has a stall at this event already", g.Name)
	}
	return s.stall(db, eventID, g)
}

// GetStall returns a stall to those who may read its group's books
// (groups.Readable). Errors: forbidden, not_found (the stall, or a group the
// actor may not read).
func (s *Service) GetStall(ctx context.Context, actor services.Actor, eventID, groupID uuid.UUID) (Stall, error) {
	db := s.db.WithContext(ctx)
	g, err := groups.Readable(db, actor, groupID)
	if err != nil {
		return Stall{}, err
	}
	return s.stall(db, eventID, g)
}

func (s *Service) stall(db *gorm.DB, eventID uuid.UUID, g models.Group) (Stall, error) {
	var st models.FairStall
	if err := db.Where("event_id = ? AND group_id = ?", eventID, g.ID).Limit(1).Find(&st).Error; err != nil {
		return Stall{}, err
	}
	if st.EventID == uuid.Nil {
		return Stall{}, services.NotFound("stall")
	}
	out := Stall{FairStall: st, GroupName: g.Name, Currency: s.opt.Currency, Stock: []StockLine{}}
	if err := db.Table("fair_stall_stock f").Select("f.*, p.title, p.stock AS online").
		Joins("JOIN products p ON p.id = f.product_id").Where("f.event_id = ? AND f.group_id = ?", eventID, g.ID).
		Order("p.title, f.product_id").Scan(&out.Stock).Error; err != nil {
		return Stall{}, err
	}
	var sums struct {
		Sales, Units, Total, Flagged, Cash int64
	}
	if err := db.Table("fair_sales").Select(`COUNT(*) AS sales, COALESCE(SUM(total), 0) AS total,
		COALESCE(SUM(CASE WHEN needs_reconciliation THEN 1 ELSE 0 END), 0) AS flagged,
		COALESCE(SUM(CASE WHEN payment = ? THEN total ELSE 0 END), 0) AS cash`, models.FairPayCash).
		Where("event_id = ? AND group_id = ?", eventID, g.ID).Scan(&sums).Error; err != nil {
		return Stall{}, err
	}
	if err := db.Table("fair_sale_items i").Select("COALESCE(SUM(i.quantity), 0)").
		Joins("JOIN fair_sales f ON f.id = i.sale_id").Where("f.event_id = ? AND f.group_id = ?", eventID, g.ID).
		Scan(&out.Units).Error; err != nil {
		return Stall{}, err
	}
	out.Sales, out.Total, out.Flagged, out.CashExpected = sums.Sales, sums.Total, sums.Flagged, sums.Cash
	if st.ExpectedCash != nil {
		out.CashExpected = *st.ExpectedCash
	}
	return out, nil
}
