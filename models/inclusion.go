package models

import (
	"time"

	"github.com/google/uuid"
)

// Washington Group Short Set answers, from the least difficulty to the most.
const (
	NoDifficulty     = "no_difficulty"
	SomeDifficulty   = "some_difficulty"
	ALotOfDifficulty = "a_lot_of_difficulty"
	CannotDo         = "cannot_do"
)

// DifficultyAnswers lists the answers the Washington Group Short Set allows.
var DifficultyAnswers = []string{NoDifficulty, SomeDifficulty, ALotOfDifficulty, CannotDo}

// ArtisanInclusion is what an artisan consents to have recorded, embedded in
// Artisan: her consent to count in the inclusion statistics (and then her
// birth year and the Washington Group Short Set's six answers) and her
// consent to income statements. Never public; services/groups is where it
// is set and read.
type ArtisanInclusion struct {
	StatisticsConsent       bool
	StatementConsent        bool
	BirthYear               *int
	DisabilitySeeing        *string
	DisabilityHearing       *string
	DisabilityWalking       *string
	DisabilityRemembering   *string
	DisabilitySelfCare      *string
	DisabilityCommunicating *string
}

// ArtisanConsent is one change of an artisan's consent: who recorded it and
// when. Kind is "statistics" or "statement".
type ArtisanConsent struct {
	ID         uuid.UUID `gorm:"primaryKey"`
	ArtisanID  uuid.UUID
	GroupID    uuid.UUID
	Kind       string
	Granted    bool
	RecordedBy uuid.UUID
	RecordedAt time.Time
}

// Consent kinds.
const (
	ConsentStatistics = "statistics"
	ConsentStatement  = "statement"
)
