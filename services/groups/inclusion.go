package groups

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services"
)

// The consented fields (contract section 15) live here, with the rest of an
// artisan's personal data: a manager records them with the artisan's
// consent, only those who may read her group (Readable) see them, and the
// two services that use them (services/stats, services/statements) read
// them only through StatisticsPopulation and StatementSubject below, which
// apply the consents.

// Optional is a field of an update that may be left as it is (Set false),
// cleared (Set, Value nil) or given a value.
type Optional[T any] struct {
	Set   bool
	Value *T
}

// Disability is the Washington Group Short Set: the difficulty the artisan
// has seeing, hearing, walking, remembering, with self-care and
// communicating, each one of models.DifficultyAnswers.
type Disability struct {
	Seeing, Hearing, Walking, Remembering, SelfCare, Communicating string
}

// Has reports whether the answers count as a disability: the Washington
// Group's cut-off, any answer "a lot of difficulty" or "cannot do at all".
func (d Disability) Has() bool {
	for _, a := range d.answers() {
		if a == models.ALotOfDifficulty || a == models.CannotDo {
			return true
		}
	}
	return false
}

func (d Disability) answers() []string {
	return []string{d.Seeing, d.Hearing, d.Walking, d.Remembering, d.SelfCare, d.Communicating}
}

// disabilityFields are the answers' names, in the order of answers().
var disabilityFields = []string{"seeing", "hearing", "walking", "remembering", "self_care", "communicating"}

// DisabilityOf is the answers recorded on an artisan, or nil when none are.
func DisabilityOf(in models.ArtisanInclusion) *Disability {
	if in.DisabilitySeeing == nil {
		return nil // the six are recorded together or not at all
	}
	return &Disability{Seeing: deref(in.DisabilitySeeing), Hearing: deref(in.DisabilityHearing),
		Walking: deref(in.DisabilityWalking), Remembering: deref(in.DisabilityRemembering),
		SelfCare: deref(in.DisabilitySelfCare), Communicating: deref(in.DisabilityCommunicating)}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// InclusionInput is what a manager records with the artisan's consent. In
// an update, unset fields are left as they are. A birth year or disability
// answers need statistics consent (given before or in the same request);
// withdrawing it erases both.
type InclusionInput struct {
	StatisticsConsent *bool
	StatementConsent  *bool
	BirthYear         Optional[int]
	Disability        Optional[Disability]
}

// oldestBirthYear and youngestAge bound a birth year: older is a typing
// mistake, and no one under ten is an artisan of the network.
const (
	oldestBirthYear = 1900
	youngestAge     = 10
)

// applyInclusion validates in and copies it onto a, collecting problems in fe.
func (s *Service) applyInclusion(a *models.Artisan, in InclusionInput, fe *services.FieldErrors) {
	inc := &a.Inclusion
	if in.StatementConsent != nil {
		inc.StatementConsent = *in.StatementConsent
	}
	if in.StatisticsConsent != nil {
		inc.StatisticsConsent = *in.StatisticsConsent
	}
	if in.BirthYear.Set {
		inc.BirthYear = in.BirthYear.Value
		if y := inc.BirthYear; y != nil {
			latest := s.now().Year() - youngestAge
			fe.Check(*y < oldestBirthYear || *y > latest, "birth_year", fmt.Sprintf("must be a year from %d to %d", oldestBirthYear, latest))
		}
	}
	if in.Disability.Set {
		setDisability(inc, in.Disability.Value, fe)
	}
	if !inc.StatisticsConsent {
		// No consent, nothing kept: asking to record either without it is a
		// mistake to tell the manager about; withdrawing it erases both.
		fe.Check(in.BirthYear.Set && in.BirthYear.Value != nil, "birth_year",
			"can be recorded only with the artisan's consent: set statistics_consent to true")
		fe.Check(in.Disability.Set && in.Disability.Value != nil, "disability",
			"can be recorded only with the artisan's consent: set statistics_consent to true")
		inc.BirthYear = nil
		setDisability(inc, nil, fe)
	}
}

func setDisability(inc *models.ArtisanInclusion, d *Disability, fe *services.FieldErrors) {
	targets := []**string{&inc.DisabilitySeeing, &inc.DisabilityHearing, &inc.DisabilityWalking,
		&inc.DisabilityRemembering, &inc.DisabilitySelfCare, &inc.DisabilityCommunicating}
	if d == nil {
		for _, t := range targets {
			*t = nil
		}
		return
	}
	for i, answer := range d.answers() {
		answer = strings.TrimSpace(answer)
		fe.Check(!slices.Contains(models.DifficultyAnswers, answer), "disability."+disabilityFields[i],
			"must be no_difficulty, some_difficulty, a_lot_of_difficulty or cannot_do")
		*targets[i] = &answer
	}
}

// recordConsents adds a row to the consent history for each consent that
// differs between before and after, naming the actor and the time.
func (s *Service) recordConsents(tx *gorm.DB, actor services.Actor, a models.Artisan, before models.ArtisanInclusion) error {
	if actor.UserID == uuid.Nil {
		return errNoActor
	}
	now := s.now()
	for _, c := range []struct {
		kind    string
		was, is bool
	}{
		{models.ConsentStatistics, before.StatisticsConsent, a.Inclusion.StatisticsConsent},
		{models.ConsentStatement, before.StatementConsent, a.Inclusion.StatementConsent},
	} {
		if c.was == c.is {
			continue
		}
		row := models.ArtisanConsent{ID: models.NewID(), ArtisanID: a.ID, GroupID: a.GroupID, Kind: c.kind,
			Granted: c.is, RecordedBy: actor.UserID, RecordedAt: now}
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
	}
	return nil
}

// ConsentChange is one row of an artisan's consent history with the name of
// the user who recorded it.
type ConsentChange struct {
	models.ArtisanConsent
	RecordedByName string
}

// ConsentHistory lists the changes of an artisan's consents, oldest first,
// for those who may read her group (Readable). Errors: forbidden,
// not_found (an artisan the actor may not read), bad_request (cursor).
func (s *Service) ConsentHistory(ctx context.Context, actor services.Actor, artisanID uuid.UUID, limit int, cursor string) ([]ConsentChange, string, error) {
	db := s.db.WithContext(ctx)
	if _, err := readableArtisan(db, actor, artisanID); err != nil {
		return nil, "", err
	}
	scope := "consents|" + artisanID.String()
	q := db.Table("artisan_consents c").Select("c.*, u.name AS recorded_by_name").
		Joins("JOIN users u ON u.id = c.recorded_by").Where("c.artisan_id = ?", artisanID)
	if cursor != "" {
		var after uuid.UUID
		if err := s.cursor.Decode(cursor, scope, &after); err != nil {
			return nil, "", err
		}
		q = q.Where("c.id > ?", after)
	}
	var rows []ConsentChange
	if err := q.Order("c.id").Limit(limit + 1).Scan(&rows).Error; err != nil {
		return nil, "", err
	}
	next := ""
	if len(rows) > limit {
		rows = rows[:limit]
		next = s.cursor.Encode(scope, rows[len(rows)-1].ID)
	}
	return rows, next, nil
}

// readableArtisan returns the artisan if actor may read her group
// (Readable); an artisan of a group the actor may not read is not_found, as
// an unknown one is, and roles that read no group's people are forbidden.
func readableArtisan(db *gorm.DB, actor services.Actor, id uuid.UUID) (models.Artisan, error) {
	var a models.Artisan
	if actor.Role != models.RoleProducer && !actor.Staff() {
		return a, services.Forbidden("only the group's managers, auditors and admins see its people")
	}
	if err := db.Where("id = ?", id).Limit(1).Find(&a).Error; err != nil {
		return a, err
	}
	if a.ID == uuid.Nil {
		return a, services.NotFound("artisan")
	}
	if _, err := Readable(db, actor, a.GroupID); services.IsCode(err, services.CodeNotFound) {
		return a, services.NotFound("artisan")
	} else if err != nil {
		return a, err
	}
	return a, nil
}

// StatementSubject returns an artisan and her group for an income
// statement: to those who may read the group (Readable), and only when she
// has consented to statements. Errors: forbidden, not_found (an artisan
// the actor may not read), consent_required.
func StatementSubject(db *gorm.DB, actor services.Actor, artisanID uuid.UUID) (models.Artisan, models.Group, error) {
	a, err := readableArtisan(db, actor, artisanID)
	if err != nil {
		return a, models.Group{}, err
	}
	if !a.Inclusion.StatementConsent {
		return a, models.Group{}, services.Conflict(services.CodeConsentRequired,
			"the artisan has not consented to income statements: her manager records statement_consent with her agreement first")
	}
	var g models.Group
	err = db.First(&g, "id = ?", a.GroupID).Error
	return a, g, err
}

// Member is what the inclusion statistics may know of an artisan: where
// she works and her gender for everyone; her birth year and whether she has
// a disability only with her statistics consent. Never her name, phone or
// registration numbers.
type Member struct {
	ArtisanID uuid.UUID
	GroupID   uuid.UUID
	Province  models.Province
	District  string
	Gender    string // "undisclosed" when not recorded
	// Consenting: she counts in the age and disability statistics.
	Consenting bool
	BirthYear  *int  // nil without consent or when not recorded
	Disabled   *bool // nil without consent or when not recorded
}

// StatisticsPopulation is every artisan of the verified groups as the
// inclusion statistics may see her (Member), with the verified groups'
// ids. It is for aggregate statistics only: callers publish no row of it.
func StatisticsPopulation(db *gorm.DB) ([]Member, []uuid.UUID, error) {
	var gs []models.Group
	if err := db.Select("id, province").Where("status = ?", models.GroupVerified).Order("id").Find(&gs).Error; err != nil {
		return nil, nil, err
	}
	ids := make([]uuid.UUID, len(gs))
	province := map[uuid.UUID]models.Province{}
	for i, g := range gs {
		ids[i], province[g.ID] = g.ID, g.Province
	}
	if len(ids) == 0 {
		return nil, ids, nil
	}
	var rows []models.Artisan
	if err := db.Select("id, group_id, district, gender, statistics_consent, birth_year, disability_seeing, disability_hearing, "+
		"disability_walking, disability_remembering, disability_self_care, disability_communicating").
		Where("group_id IN ?", ids).Order("id").Find(&rows).Error; err != nil {
		return nil, nil, err
	}
	out := make([]Member, len(rows))
	for i, a := range rows {
		m := Member{ArtisanID: a.ID, GroupID: a.GroupID, Province: province[a.GroupID], District: a.District, Gender: "undisclosed"}
		if a.Gender != nil && *a.Gender != "" {
			m.Gender = *a.Gender
		}
		if a.Inclusion.StatisticsConsent {
			m.Consenting, m.BirthYear = true, a.Inclusion.BirthYear
			if d := DisabilityOf(a.Inclusion); d != nil {
				has := d.Has()
				m.Disabled = &has
			}
		}
		out[i] = m
	}
	return out, ids, nil
}

// errNoActor guards the consent history against a change with no one to name.
var errNoActor = errors.New("groups: a consent change needs the user who records it")
