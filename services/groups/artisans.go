package groups

import (
	"context"
	"errors"
	"regexp"
	"strings"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services"
)

// ArtisanInput is what a manager sets on an artisan. In an update, nil
// fields are left as they are; for the optional personal fields a pointer
// to "" clears the value.
type ArtisanInput struct {
	DisplayName           *string
	FullName              *string
	District              *string
	Phone                 *string
	CNIC                  *string
	Gender                *string
	HBWRegistrationNumber *string
	Skills                *[]string
	PublicProfile         *bool
	Active                *bool
}

var (
	phonePattern = regexp.MustCompile(`^\+?[0-9][0-9 -]{5,18}[0-9]$`)
	cnicPattern  = regexp.MustCompile(`^([0-9]{5})-?([0-9]{7})-?([0-9])$`)
)

// CreateArtisan registers an artisan in a group the actor manages. A new
// artisan's profile is private unless PublicProfile says otherwise.
// Errors: forbidden, not_found, validation_failed, conflict (CNIC already
// registered in the group).
func (s *Service) CreateArtisan(ctx context.Context, actor services.Actor, groupID uuid.UUID, in ArtisanInput) (models.Artisan, error) {
	now := s.now()
	// Urdu until she says otherwise (contract section 12): the column refuses an empty language.
	a := models.Artisan{ID: models.NewID(), GroupID: groupID, Skills: []string{}, Language: "ur", Active: true, CreatedAt: now, UpdatedAt: now}
	var fe services.FieldErrors
	fe.Check(in.DisplayName == nil, "display_name", "is required")
	fe.Check(in.FullName == nil, "full_name", "is required")
	fe.Check(in.District == nil, "district", "is required")
	applyArtisan(&a, in, &fe)
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if _, err := Managed(tx, actor, groupID); err != nil {
			return err
		}
		if err := fe.Err(); err != nil {
			return err
		}
		return saveArtisan(tx.Create(&a))
	})
	return a, err
}

// UpdateArtisan changes an artisan of a group the actor manages.
// Errors: forbidden, not_found, validation_failed, conflict.
func (s *Service) UpdateArtisan(ctx context.Context, actor services.Actor, id uuid.UUID, in ArtisanInput) (models.Artisan, error) {
	var a models.Artisan
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.First(&a, "id = ?", id).Error; errors.Is(err, gorm.ErrRecordNotFound) {
			return services.NotFound("artisan")
		} else if err != nil {
			return err
		}
		if _, err := Managed(tx, actor, a.GroupID); services.IsCode(err, services.CodeNotFound) {
			return services.NotFound("artisan")
		} else if err != nil {
			return err
		}
		var fe services.FieldErrors
		applyArtisan(&a, in, &fe)
		if err := fe.Err(); err != nil {
			return err
		}
		a.UpdatedAt = s.now()
		return saveArtisan(tx.Save(&a))
	})
	return a, err
}

func saveArtisan(res *gorm.DB) error {
	if errors.Is(res.Error, gorm.ErrDuplicatedKey) {
		return services.Conflict(services.CodeConflict, "an artisan with this CNIC is registered in the group already")
	}
	return res.Error
}

// ListArtisans lists a group's artisans in the order they were registered,
// for those who may read the group (Readable). Errors: forbidden (buyers),
// not_found (a group the actor may not read), bad_request (cursor).
func (s *Service) ListArtisans(ctx context.Context, actor services.Actor, groupID uuid.UUID, limit int, cursor string) ([]models.Artisan, string, error) {
	db := s.db.WithContext(ctx)
	if _, err := Readable(db, actor, groupID); err != nil {
		return nil, "", err
	}
	scope := "artisans|" + groupID.String()
	q := db.Where("group_id = ?", groupID)
	if cursor != "" {
		var after uuid.UUID
		if err := s.cursor.Decode(cursor, scope, &after); err != nil {
			return nil, "", err
		}
		q = q.Where("id > ?", after)
	}
	var rows []models.Artisan
	if err := q.Order("id").Limit(limit + 1).Find(&rows).Error; err != nil {
		return nil, "", err
	}
	next := ""
	if len(rows) > limit {
		rows = rows[:limit]
		next = s.cursor.Encode(scope, rows[len(rows)-1].ID)
	}
	return rows, next, nil
}

func applyArtisan(a *models.Artisan, in ArtisanInput, fe *services.FieldErrors) {
	if in.DisplayName != nil {
		a.DisplayName = strings.TrimSpace(*in.DisplayName)
		fe.Check(!services.TextWithin(a.DisplayName, 1, 60), "display_name", "must be 1 to 60 characters")
	}
	if in.FullName != nil {
		a.FullName = strings.TrimSpace(*in.FullName)
		fe.Check(!services.TextWithin(a.FullName, 1, 120), "full_name", "must be 1 to 120 characters")
	}
	if in.District != nil {
		a.District = strings.TrimSpace(*in.District)
		fe.Check(!services.TextWithin(a.District, 1, 80), "district", "must be 1 to 80 characters")
	}
	if in.Phone != nil {
		a.Phone = optional(*in.Phone)
		fe.Check(a.Phone != nil && !phonePattern.MatchString(*a.Phone), "phone",
			"must be 7 to 20 digits, with an optional leading + and spaces or dashes")
	}
	if in.CNIC != nil {
		a.CNIC = optional(*in.CNIC)
		if a.CNIC != nil {
			if m := cnicPattern.FindStringSubmatch(*a.CNIC); m == nil {
				fe.Add("cnic", "must be 13 digits, such as 12345-1234567-1")
			} else {
				c := m[1] + "-" + m[2] + "-" + m[3]
				a.CNIC = &c
			}
		}
	}
	if in.Gender != nil {
		a.Gender = optional(*in.Gender)
		if a.Gender != nil {
			valid := false
			for _, g := range models.Genders {
				valid = valid || g == *a.Gender
			}
			fe.Check(!valid, "gender", "must be woman, man, transgender or undisclosed")
		}
	}
	if in.HBWRegistrationNumber != nil {
		a.HBWRegistrationNumber = optional(*in.HBWRegistrationNumber)
		fe.Check(a.HBWRegistrationNumber != nil && !services.TextWithin(*a.HBWRegistrationNumber, 1, 64),
			"hbw_registration_number", "must be at most 64 characters")
	}
	if in.Skills != nil {
		a.Skills = make([]string, 0, len(*in.Skills))
		fe.Check(len(*in.Skills) > 20, "skills", "must list at most 20 skills")
		for _, sk := range *in.Skills {
			sk = strings.TrimSpace(sk)
			fe.Check(!services.TextWithin(sk, 1, 50), "skills", "each skill must be 1 to 50 characters")
			a.Skills = append(a.Skills, sk)
		}
	}
	if in.PublicProfile != nil {
		a.PublicProfile = *in.PublicProfile
	}
	if in.Active != nil {
		a.Active = *in.Active
	}
}

func optional(s string) *string {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	return &s
}
