package models

import (
	"time"

	"github.com/google/uuid"
)

// OrderCycle is a window in which buyers order from the offers of several
// groups, for collection at a pickup point or delivery in a zone, in slots.
// It has no stored status: it is open from OpensAt until ClosesAt.
type OrderCycle struct {
	ID                 uuid.UUID `gorm:"primaryKey"`
	Name               string
	CoordinatorGroupID uuid.UUID
	Currency           string
	OpensAt            time.Time
	ClosesAt           time.Time
	CreatedBy          uuid.UUID
	CreatedAt          time.Time
}

// PickupPoint is where a cycle's buyers collect their orders.
type PickupPoint struct {
	ID       uuid.UUID `gorm:"primaryKey"`
	CycleID  uuid.UUID
	Position int
	Name     string
	Address  string
	District string
}

func (PickupPoint) TableName() string { return "cycle_pickup_points" }

// DeliveryZone is the districts a cycle delivers to, for a fee per order.
type DeliveryZone struct {
	ID        uuid.UUID `gorm:"primaryKey"`
	CycleID   uuid.UUID
	Position  int
	Name      string
	Districts []string `gorm:"serializer:json"`
	Fee       int64
}

func (DeliveryZone) TableName() string { return "cycle_delivery_zones" }

// CycleSlot is a pickup point's or a delivery zone's time for handing
// orders over; Taken counts the orders in it, never over MaxOrders.
type CycleSlot struct {
	ID             uuid.UUID `gorm:"primaryKey"`
	CycleID        uuid.UUID
	PickupPointID  *uuid.UUID
	DeliveryZoneID *uuid.UUID
	StartsAt       time.Time
	EndsAt         time.Time
	MaxOrders      int
	Taken          int
}

// CycleOffer is a group's product on sale in a cycle; Sold never goes
// over MaxQuantity when there is one.
type CycleOffer struct {
	CycleID     uuid.UUID `gorm:"primaryKey"`
	ProductID   uuid.UUID `gorm:"primaryKey"`
	GroupID     uuid.UUID
	MaxQuantity *int
	Sold        int
	CreatedBy   uuid.UUID
	CreatedAt   time.Time
}
