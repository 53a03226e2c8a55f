package models

import (
	"time"

	"github.com/google/uuid"
)

// Province is a region of Pakistan, as a slug: the key of the catalogue's
// province filter and of the wage benchmarks.
type Province string

// Provinces lists every province and territory with its name.
var Provinces = []struct {
	Slug Province
	Name string
}{
	{"punjab", "Punjab"},
	{"sindh", "Sindh"},
	{"khyber_pakhtunkhwa", "Khyber Pakhtunkhwa"},
	{"balochistan", "Balochistan"},
	{"gilgit_baltistan", "Gilgit-Baltistan"},
	{"azad_kashmir", "Azad Jammu and Kashmir"},
	{"islamabad", "Islamabad Capital Territory"},
}

// Valid reports whether p is one of Provinces.
func (p Province) Valid() bool {
	for _, q := range Provinces {
		if q.Slug == p {
			return true
		}
	}
	return false
}

// Group statuses: a group's products are public only once it is verified.
const (
	GroupPending  = "pending"
	GroupVerified = "verified"
)

// Profit-sharing methods a group may choose.
const (
	ShareByLaborHours = "labor_hours"
	ShareByUnitsMade  = "units_made"
	ShareEqually      = "equal"
)

// Group is a producer group (a collective), table producer_groups.
type Group struct {
	ID                 uuid.UUID `gorm:"primaryKey"`
	Name               string
	Description        string
	District           string
	DistrictKey        string
	Province           Province
	RegistrationNumber *string
	Currency           string
	ShippingFee        int64
	ProfitMethod       string
	CollectiveFundBPS  int
	Status             string
	VerifiedAt         *time.Time
	CreatedBy          uuid.UUID
	CreatedAt          time.Time
	UpdatedAt          time.Time
}

func (Group) TableName() string { return "producer_groups" }

// GroupManager makes a producer user a manager of a group.
type GroupManager struct {
	GroupID   uuid.UUID `gorm:"primaryKey"`
	UserID    uuid.UUID `gorm:"primaryKey"`
	CreatedAt time.Time
}

// GroupAuditor lets an auditor read a group's artisans and books; only
// while the row exists (services/groups.Readable is where it is read).
type GroupAuditor struct {
	GroupID    uuid.UUID `gorm:"primaryKey"`
	UserID     uuid.UUID `gorm:"primaryKey"`
	AssignedAt time.Time
}

// Genders an artisan may record; never shown publicly.
var Genders = []string{"woman", "man", "transgender", "undisclosed"}

// The languages an artisan may be sent SMS in: Urdu in its own script (the
// default), Roman Urdu, English.
const (
	LanguageUrdu      = "ur"
	LanguageRomanUrdu = "roman_ur"
	LanguageEnglish   = "en"
)

// Languages lists them.
var Languages = []string{LanguageUrdu, LanguageRomanUrdu, LanguageEnglish}

// Artisan is a member of a group. FullName, her phone number, CNIC, Gender
// and HBWRegistrationNumber are personal data: only the group's managers,
// auditors and admins may see them.
//
// The phone number and the CNIC are stored only sealed by services/pii:
// PhoneSealed and CNICSealed, each with a keyed hash beside it
// (PhoneLookup: pii.Box.Lookup, how a reply's sender is found; CNICLookup:
// pii.Box.LookupText, which keeps one CNIC to one artisan in a group).
// LegacyPhone and LegacyCNIC are the clear columns that binaries older than
// migration 0017 wrote: this one writes them only as NULL (services/groups
// seals what it finds there when it writes the row, and the data step
// services/piidata.SealClear seals the rest). Read neither for anything else.
type Artisan struct {
	ID                    uuid.UUID `gorm:"primaryKey"`
	GroupID               uuid.UUID
	DisplayName           string
	FullName              string
	District              string
	PhoneSealed           *string
	PhoneLookup           *string
	CNICSealed            *string `gorm:"column:cnic_sealed"`
	CNICLookup            *string `gorm:"column:cnic_lookup"`
	LegacyPhone           *string `gorm:"column:phone"`
	LegacyCNIC            *string `gorm:"column:cnic"`
	SMSConsent            bool    `gorm:"column:sms_consent"`
	Language              string  `gorm:"default:ur"` // "ur", "roman_ur" or "en": the language of her SMS
	Gender                *string
	HBWRegistrationNumber *string  `gorm:"column:hbw_registration_number"`
	Skills                []string `gorm:"serializer:json"`
	PublicProfile         bool
	Active                bool
	CreatedAt             time.Time
	UpdatedAt             time.Time
	// Inclusion is what she consents to for the inclusion statistics and
	// income statements (models/inclusion.go).
	Inclusion ArtisanInclusion `gorm:"embedded"`
}

// Category is a catalogue category; the set is fixed by migrations.
type Category struct {
	Slug     string `gorm:"primaryKey"`
	Name     string
	NameUr   string
	Position int
}

// WageBenchmark is a region's statutory minimum wage. Hourly is Monthly ÷
// HoursPerMonth, rounded down.
type WageBenchmark struct {
	Region        string `gorm:"primaryKey"`
	Name          string
	Currency      string
	Monthly       int64
	HoursPerMonth int
	Hourly        int64
	Source        string
	UpdatedAt     time.Time
}

// FederalRegion is the benchmark region that stands for any region without its own.
const FederalRegion = "federal"

// Product statuses: draft → published → archived; a published product
// whose price stops covering its costs and fees is needs_repricing until a
// covering price publishes it again.
const (
	ProductDraft          = "draft"
	ProductPublished      = "published"
	ProductNeedsRepricing = "needs_repricing"
	ProductArchived       = "archived"
)

// Product is a listing of a group. Amounts are minor units of Currency.
type Product struct {
	ID                  uuid.UUID `gorm:"primaryKey"`
	GroupID             uuid.UUID
	Title               string
	Description         string
	Category            string
	Materials           []string `gorm:"serializer:json"`
	Images              []string `gorm:"serializer:json"`
	Currency            string
	Price               int64
	Stock               int
	CostMaterials       int64
	CostPackaging       int64
	LaborMinutes        int
	HourlyWage          int64
	ArtisanShareBPS     int `gorm:"column:artisan_share_bps"`
	EffectiveHourlyWage int64
	MeetsWageBenchmark  bool
	Shortfall           int64 // how much more the price must be to cover its costs and fees; 0 when it does
	Status              string
	Province            Province
	DistrictKey         string
	SearchText          string
	PublishedAt         *time.Time
	CreatedAt           time.Time
	UpdatedAt           time.Time
	// What a buyer must know of home-made food (the food categories only;
	// all nil otherwise). FoodShelfLifeDays set is what makes a product food.
	FoodIngredients   *string
	FoodAllergens     []string `gorm:"serializer:json"`
	FoodShelfLifeDays *int
	FoodLicenceNumber *string
}

// ProductMaker records an artisan's labour on one unit of a product.
type ProductMaker struct {
	ProductID    uuid.UUID `gorm:"primaryKey"`
	ArtisanID    uuid.UUID `gorm:"primaryKey"`
	LaborMinutes int
}

// FigureBasis is the fees in force (one row): admin data, which the stored
// product figures were computed with and which checkouts freeze on lines.
type FigureBasis struct {
	ID             int `gorm:"primaryKey"`
	PlatformFeeBPS int `gorm:"column:platform_fee_bps"`
	ProcessingBPS  int `gorm:"column:processing_bps"`
	UpdatedAt      time.Time
}

func (FigureBasis) TableName() string { return "figure_basis" }
