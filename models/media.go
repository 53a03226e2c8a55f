package models

import (
	"time"

	"github.com/google/uuid"
)

// MaxProductImages is how many photos a product may have.
const MaxProductImages = 8

// ProductImage is a photo of a product, stored as three JPEG sizes by
// services/media. Width and Height are the upright original's; each size
// has its storage key, dimensions and length in bytes.
type ProductImage struct {
	ID           uuid.UUID `gorm:"primaryKey"`
	ProductID    uuid.UUID
	Position     int
	Alt          string
	AltUr        string `gorm:"column:alt_ur"`
	Width        int
	Height       int
	ThumbKey     string
	ThumbWidth   int
	ThumbHeight  int
	ThumbBytes   int
	MediumKey    string
	MediumWidth  int
	MediumHeight int
	MediumBytes  int
	LargeKey     string
	LargeWidth   int
	LargeHeight  int
	LargeBytes   int
	CreatedAt    time.Time
}

// Keys are the image's stored objects.
func (i ProductImage) Keys() []string { return []string{i.ThumbKey, i.MediumKey, i.LargeKey} }

// MediaOrphan is a stored object that no row references, or will not once
// the upload that wrote it gives up: deleted from storage once DueAt has
// passed (services/media sweeps them).
type MediaOrphan struct {
	Key       string `gorm:"primaryKey"`
	DueAt     time.Time
	CreatedAt time.Time
}
