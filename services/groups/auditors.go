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
)

// Auditor is an auditor's assignment to a group.
type Auditor struct {
	GroupID    uuid.UUID
	UserID     uuid.UUID
	Name       string
	Email      string
	AssignedAt time.Time
}

// adminGroup returns the group for an admin's change to who audits it.
// Errors: forbidden for non-admins, not_found.
func adminGroup(db *gorm.DB, actor services.Actor, groupID uuid.UUID) error {
	if actor.Role != models.RoleAdmin {
		return services.Forbidden("only admins assign auditors")
	}
	_, err := Readable(db, actor, groupID)
	return err
}

// AssignAuditor lets the auditor with email read a group's artisans and
// books. Errors: forbidden (not an admin), not_found (group),
// validation_failed (no auditor has that email), conflict (assigned
// already; a retry that must not fail sends an Idempotency-Key).
func (s *Service) AssignAuditor(ctx context.Context, actor services.Actor, groupID uuid.UUID, email string) (Auditor, error) {
	var out Auditor
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := adminGroup(tx, actor, groupID); err != nil {
			return err
		}
		email = strings.ToLower(strings.TrimSpace(email))
		if email == "" {
			return services.Invalid(map[string]string{"email": "is required"})
		}
		var u models.User
		err := tx.Where("email = ? AND role = ?", email, models.RoleAuditor).First(&u).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return services.Invalid(map[string]string{"email": "no auditor account has this email"})
		} else if err != nil {
			return err
		}
		a := models.GroupAuditor{GroupID: groupID, UserID: u.ID, AssignedAt: s.now()}
		if err := tx.Create(&a).Error; errors.Is(err, gorm.ErrDuplicatedKey) {
			return services.Conflict(services.CodeConflict, "this auditor is assigned to the group already")
		} else if err != nil {
			return err
		}
		out = Auditor{GroupID: groupID, UserID: u.ID, Name: u.Name, Email: u.Email, AssignedAt: a.AssignedAt}
		return nil
	})
	return out, err
}

// UnassignAuditor ends an auditor's access to a group at once. Errors:
// forbidden (not an admin), not_found (group or assignment).
func (s *Service) UnassignAuditor(ctx context.Context, actor services.Actor, groupID, userID uuid.UUID) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := adminGroup(tx, actor, groupID); err != nil {
			return err
		}
		res := tx.Where("group_id = ? AND user_id = ?", groupID, userID).Delete(&models.GroupAuditor{})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return services.NotFound("auditor assignment")
		}
		return nil
	})
}

// ListAuditors lists a group's auditors in the order they were assigned.
// Errors: forbidden (not an admin), not_found (group), bad_request (cursor).
func (s *Service) ListAuditors(ctx context.Context, actor services.Actor, groupID uuid.UUID, limit int, cursor string) ([]Auditor, string, error) {
	db := s.db.WithContext(ctx)
	if err := adminGroup(db, actor, groupID); err != nil {
		return nil, "", err
	}
	scope := "auditors|" + groupID.String()
	q := db.Table("group_auditors ga").Select("ga.group_id, ga.user_id, ga.assigned_at, u.name, u.email").
		Joins("JOIN users u ON u.id = ga.user_id").Where("ga.group_id = ?", groupID)
	if cursor != "" {
		var at time.Time
		var id uuid.UUID
		if err := s.cursor.Decode(cursor, scope, &at, &id); err != nil {
			return nil, "", err
		}
		q = q.Where("(ga.assigned_at, ga.user_id) > (?, ?)", at.UTC(), id)
	}
	var rows []Auditor
	if err := q.Order("ga.assigned_at, ga.user_id").Limit(limit + 1).Scan(&rows).Error; err != nil {
		return nil, "", err
	}
	next := ""
	if len(rows) > limit {
		rows = rows[:limit]
		last := rows[len(rows)-1]
		next = s.cursor.Encode(scope, last.AssignedAt.UTC(), last.UserID)
	}
	return rows, next, nil
}
