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

// Artisan is a member of a group. FullName, Phone, CNIC, Gender and
// HBWRegistrationNumber are personal data: only the group's managers,
// auditors and admins may see them.
type Artisan struct {
	ID          uuid.UUID `gorm:"primaryKey"`
	GroupID     uuid.UUID
	DisplayName string
	FullName    string
	District    string
	Phone       *string
	// PhoneSealed is Phone sealed by services/pii, PhoneLookup its keyed
	// hash (pii.Box.Lookup): how a reply's sender is found.
	PhoneSealed           *string
	PhoneLookup           *string
	SMSConsent            bool    `gorm:"column:sms_consent"`
	Language              string  // "ur", "roman_ur" or "en": the language of her SMS
	CNIC                  *string `gorm:"column:cnic"`
	Gender                *string
	HBWRegistrationNumber *string  `gorm:"column:hbw_registration_number"`
	Skills                []string `gorm:"serializer:json"`
	PublicProfile         bool
	Active                bool
	CreatedAt             time.Time
	UpdatedAt             time.Time
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
