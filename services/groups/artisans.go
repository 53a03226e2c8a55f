package groups

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services"
	"github.com/karigar/karigar/services/pii"
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
	SMSConsent            *bool
	Language              *string
	// Inclusion is what she consents to (inclusion.go).
	Inclusion InclusionInput
}

// Artisan is an artisan as her group's managers, auditors and admins see
// her: the row, with her phone number (E.164, "+923001234567") and CNIC
// ("12345-1234567-1") opened from their sealed columns. Nothing else is
// given them.
type Artisan struct {
	models.Artisan
	Phone *string
	CNIC  *string
}

var cnicPattern = regexp.MustCompile(`^([0-9]{5})-?([0-9]{7})-?([0-9])$`)

// CreateArtisan registers an artisan in a group the actor manages. A new
// artisan's profile is private unless PublicProfile says otherwise; she is
// sent no SMS unless SMSConsent says so, and those she is sent are in
// Language (Urdu unless said otherwise).
// Errors: forbidden, not_found, validation_failed, conflict (CNIC already
// registered in the group).
func (s *Service) CreateArtisan(ctx context.Context, actor services.Actor, groupID uuid.UUID, in ArtisanInput) (Artisan, error) {
	now := s.now()
	a := Artisan{Artisan: models.Artisan{ID: models.NewID(), GroupID: groupID, Skills: []string{}, Active: true,
		Language: models.LanguageUrdu, CreatedAt: now, UpdatedAt: now}}
	var fe services.FieldErrors
	fe.Check(in.DisplayName == nil, "display_name", "is required")
	fe.Check(in.FullName == nil, "full_name", "is required")
	fe.Check(in.District == nil, "district", "is required")
	applyArtisan(&a, in, &fe)
	s.applyInclusion(&a.Artisan, in.Inclusion, &fe)
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if _, err := Managed(tx, actor, groupID); err != nil {
			return err
		}
		if err := fe.Err(); err != nil {
			return err
		}
		if err := s.seal(tx, &a); err != nil {
			return err
		}
		if err := saveArtisan(tx.Create(&a.Artisan)); err != nil {
			return err
		}
		return s.recordConsents(tx, actor, a.Artisan, models.ArtisanInclusion{})
	})
	return a, err
}

// UpdateArtisan changes an artisan of a group the actor manages.
// Errors: forbidden, not_found, validation_failed, conflict.
func (s *Service) UpdateArtisan(ctx context.Context, actor services.Actor, id uuid.UUID, in ArtisanInput) (Artisan, error) {
	var a Artisan
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// Locked: the consent history records each change against the state
		// it changes (inclusion.go), which a concurrent update must not move.
		var row models.Artisan
		if err := models.ForNoKeyUpdate(tx).First(&row, "id = ?", id).Error; errors.Is(err, gorm.ErrRecordNotFound) {
			return services.NotFound("artisan")
		} else if err != nil {
			return err
		}
		if _, err := Managed(tx, actor, row.GroupID); services.IsCode(err, services.CodeNotFound) {
			return services.NotFound("artisan")
		} else if err != nil {
			return err
		}
		var err error
		if a, err = s.open(row); err != nil {
			return err
		}
		var fe services.FieldErrors
		applyArtisan(&a, in, &fe)
		before := a.Inclusion
		s.applyInclusion(&a.Artisan, in.Inclusion, &fe)
		if err := fe.Err(); err != nil {
			return err
		}
		a.UpdatedAt = s.now()
		if err := s.seal(tx, &a); err != nil {
			return err
		}
		if err := saveArtisan(tx.Save(&a.Artisan)); err != nil {
			return err
		}
		return s.recordConsents(tx, actor, a.Artisan, before)
	})
	return a, err
}

func saveArtisan(res *gorm.DB) error {
	if errors.Is(res.Error, gorm.ErrDuplicatedKey) {
		return services.Conflict(services.CodeConflict, "an artisan with this CNIC is registered in the group already")
	}
	return res.Error
}

// seal writes a's phone number and CNIC into the row only sealed, each with
// its keyed hash, and empties the clear columns an older binary may have
// written. A CNIC registered to another artisan of the group is a conflict,
// whichever key its hash was made under (during a rotation some rows hold
// the previous key's) or, from an older binary, in clear; the unique index
// on (group_id, cnic_lookup) holds it against a concurrent registration.
func (s *Service) seal(tx *gorm.DB, a *Artisan) error {
	box := s.opt.PII
	a.LegacyPhone, a.LegacyCNIC = nil, nil
	a.PhoneSealed, a.PhoneLookup, a.CNICSealed, a.CNICLookup = nil, nil, nil, nil
	if a.Phone != nil {
		sealed, err := box.Seal(*a.Phone)
		if err != nil {
			return err
		}
		lookup := box.Lookup(*a.Phone)
		a.PhoneSealed, a.PhoneLookup = &sealed, &lookup
	}
	if a.CNIC != nil {
		var taken int64
		if err := tx.Model(&models.Artisan{}).Where("group_id = ? AND id <> ? AND (cnic_lookup IN ? OR cnic = ?)",
			a.GroupID, a.ID, box.LookupTexts(*a.CNIC), *a.CNIC).Count(&taken).Error; err != nil {
			return err
		}
		if taken > 0 {
			return services.Conflict(services.CodeConflict, "an artisan with this CNIC is registered in the group already")
		}
		sealed, err := box.Seal(*a.CNIC)
		if err != nil {
			return err
		}
		lookup := box.LookupText(*a.CNIC)
		a.CNICSealed, a.CNICLookup = &sealed, &lookup
	}
	return nil
}

// open reads a row's phone number and CNIC: from the sealed columns, or
// from the clear ones when an older binary wrote the row and the data step
// has not yet sealed it.
func (s *Service) open(row models.Artisan) (Artisan, error) {
	a := Artisan{Artisan: row, Phone: row.LegacyPhone, CNIC: row.LegacyCNIC}
	if a.Phone != nil {
		if e164, ok := pii.NormalisePhone(*a.Phone); ok {
			a.Phone = &e164 // as the data step will seal it
		}
	}
	for _, f := range []struct {
		sealed *string
		into   **string
	}{{row.PhoneSealed, &a.Phone}, {row.CNICSealed, &a.CNIC}} {
		if f.sealed == nil {
			continue
		}
		plain, err := s.opt.PII.Open(*f.sealed)
		if err != nil {
			return Artisan{}, fmt.Errorf("artisan %s: %w", row.ID, err)
		}
		*f.into = &plain
	}
	return a, nil
}

// ListArtisans lists a group's artisans in the order they were registered,
// for those who may read the group (Readable). Errors: forbidden (buyers),
// not_found (a group the actor may not read), bad_request (cursor).
func (s *Service) ListArtisans(ctx context.Context, actor services.Actor, groupID uuid.UUID, limit int, cursor string) ([]Artisan, string, error) {
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
	out := make([]Artisan, len(rows))
	for i, r := range rows {
		a, err := s.open(r)
		if err != nil {
			return nil, "", err
		}
		out[i] = a
	}
	return out, next, nil
}

func applyArtisan(a *Artisan, in ArtisanInput, fe *services.FieldErrors) {
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
		if a.Phone != nil {
			if e164, ok := pii.NormalisePhone(*a.Phone); ok && len(*a.Phone) <= 32 {
				a.Phone = &e164
			} else {
				fe.Add("phone", "must be a phone number such as +92 300 1234567 or 0300 1234567 (digits, spaces, dashes and brackets; + or 00 before a country code)")
			}
		}
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
	if in.Language != nil {
		a.Language = strings.TrimSpace(*in.Language)
		fe.Check(!slices.Contains(models.Languages, a.Language), "language", "must be ur, roman_ur or en")
	}
	if in.SMSConsent != nil {
		a.SMSConsent = *in.SMSConsent
	}
	// No SMS without a number to send it to: judged on the artisan as she
	// will be, so that clearing the phone of an artisan who consented is
	// refused as well.
	fe.Check(a.SMSConsent && a.Phone == nil, "sms_consent", "needs a phone number: set phone, or set sms_consent to false")
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
