package models

import "github.com/google/uuid"

// NewID returns a new UUIDv7: time-ordered, so primary keys stay index
// friendly and keyset pagination by id follows creation order.
func NewID() uuid.UUID { return uuid.Must(uuid.NewV7()) }
