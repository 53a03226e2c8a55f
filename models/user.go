package models

import (
	"time"

	"github.com/google/uuid"
)

// Role is what a user may do on the platform. Group rights come from
// membership, not from the role.
type Role string

const (
	RoleBuyer    Role = "buyer"
	RoleProducer Role = "producer"
	RoleAuditor  Role = "auditor"
	RoleAdmin    Role = "admin"
)

// Valid reports whether r is one of the four roles.
func (r Role) Valid() bool {
	switch r {
	case RoleBuyer, RoleProducer, RoleAuditor, RoleAdmin:
		return true
	}
	return false
}

// User is an account that can sign in. Email is stored lower-cased.
type User struct {
	ID           uuid.UUID `gorm:"primaryKey"`
	Email        string
	PasswordHash string
	Name         string
	Role         Role
	DisabledAt   *time.Time // a disabled account cannot sign in and its tokens are refused
	TokenVersion int        // access tokens of an older version are refused
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// PasswordReset is a one-use token an admin issues so that a user can set a
// new password; only its SHA-256 hash is stored.
type PasswordReset struct {
	ID        uuid.UUID `gorm:"primaryKey"`
	UserID    uuid.UUID
	TokenHash string
	CreatedBy *uuid.UUID
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    *time.Time
}

// RefreshToken is one opaque refresh token, stored only as its SHA-256 hash.
// Tokens issued by rotating one another share a FamilyID, so reuse of a
// rotated token can revoke the whole family.
type RefreshToken struct {
	ID        uuid.UUID `gorm:"primaryKey"`
	UserID    uuid.UUID
	FamilyID  uuid.UUID
	TokenHash string
	ExpiresAt time.Time
	RevokedAt *time.Time
	CreatedAt time.Time
}

// RefreshFamily is the chain of refresh tokens issued from one sign-in.
// Revoking it revokes every token in it, including ones not yet issued.
type RefreshFamily struct {
	ID         uuid.UUID `gorm:"primaryKey"`
	UserID     uuid.UUID
	CreatedAt  time.Time
	LastUsedAt time.Time
	RevokedAt  *time.Time
}

// LoginFailure counts sign-in attempts for one key (a hashed email and
// client address, or a client address) in a fixed window; successful ones are taken back. It lives in the database so that the
// limit holds across replicas.
type LoginFailure struct {
	Key         string `gorm:"primaryKey"`
	Failures    int
	WindowStart time.Time
}

// IdempotencyKey records the first response to a POST sent with an
// Idempotency-Key header, so that a retry gets the same answer.
type IdempotencyKey struct {
	UserID       uuid.UUID `gorm:"primaryKey"`
	Key          string    `gorm:"primaryKey"`
	RequestHash  string
	Status       int // 0 while the first request is still being handled
	ContentType  string
	Location     string // the Location header of a 201, "" otherwise
	ResponseBody []byte
	CreatedAt    time.Time
	ExpiresAt    time.Time
}
