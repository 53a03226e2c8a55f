package auth

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"
	"gorm.io/gorm"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services"
)

// ResetTTL is how long an admin-issued password reset token may be used.
const ResetTTL = 24 * time.Hour

// Disable stops the user id from signing in and ends every session at once:
// their refresh families are revoked and their token version moves on, so
// access tokens already issued are refused on the next request (Authenticate).
// Disabling a disabled account changes nothing. by is the admin asking, who
// may not disable themself: that would leave an admin locked out with
// nobody to undo it. Errors: not_found, conflict (by == id), unauthorized
// (by was itself disabled meanwhile).
func (s *Service) Disable(ctx context.Context, by, id uuid.UUID) (User, error) {
	if by == id {
		return User{}, services.Conflict(services.CodeConflict, "you cannot disable your own account; another admin can")
	}
	var u models.User
	err := models.Transact(ctx, s.db, func(tx *gorm.DB) error {
		if err := lockActorAndUser(tx, by, id); err != nil {
			return err
		}
		now := s.now()
		// Only an enabled account moves on: disabling again keeps the
		// first time and the version, which no token has anyway.
		if err := tx.Model(&models.User{}).Where("id = ? AND disabled_at IS NULL", id).
			Updates(map[string]any{"disabled_at": now, "token_version": gorm.Expr("token_version + 1"), "updated_at": now}).Error; err != nil {
			return err
		}
		if err := s.revokeSessions(tx, id, now); err != nil {
			return err
		}
		return tx.Where("id = ?", id).Take(&u).Error
	})
	if err != nil {
		return User{}, err
	}
	return userFrom(u), nil
}

// Enable lets the user id sign in again. Tokens from before the disabling
// stay refused: the user signs in afresh. Errors: not_found, unauthorized
// (by was disabled meanwhile).
func (s *Service) Enable(ctx context.Context, by, id uuid.UUID) (User, error) {
	var u models.User
	err := models.Transact(ctx, s.db, func(tx *gorm.DB) error {
		if err := lockActorAndUser(tx, by, id); err != nil {
			return err
		}
		now := s.now()
		if err := tx.Model(&models.User{}).Where("id = ? AND disabled_at IS NOT NULL", id).
			Updates(map[string]any{"disabled_at": nil, "updated_at": now}).Error; err != nil {
			return err
		}
		return tx.Where("id = ?", id).Take(&u).Error
	})
	if err != nil {
		return User{}, err
	}
	return userFrom(u), nil
}

// lockActorAndUser locks the acting admin's row and the target's, in id
// order, and checks that the target exists and the admin is still enabled.
// Two admins disabling each other at once then run one after the other, and
// the second finds itself disabled: they cannot both be locked out. (SQLite
// runs one writer at a time and needs no locks.)
func lockActorAndUser(tx *gorm.DB, by, id uuid.UUID) error {
	var rows []models.User
	// NO KEY UPDATE, not UPDATE: a refresh racing the disabling inserts a
	// token naming the user (a foreign-key check, FOR KEY SHARE) while it
	// holds the family row that the disabling revokes next; under FOR UPDATE
	// the two wait for each other.
	if err := models.ForNoKeyUpdate(tx).Select("id", "disabled_at").Where("id IN ?", []uuid.UUID{by, id}).
		Order("id").Find(&rows).Error; err != nil {
		return err
	}
	found, actorOK := false, false
	for _, r := range rows {
		found = found || r.ID == id
		actorOK = actorOK || (r.ID == by && r.DisabledAt == nil)
	}
	if !actorOK {
		return errDisabled
	}
	if !found {
		return services.NotFound("user")
	}
	return nil
}

// revokeSessions revokes every refresh family of the user. Updating the
// family rows waits for a rotation in progress (Refresh updates its family
// row first), so no refresh token minted meanwhile survives.
func (s *Service) revokeSessions(tx *gorm.DB, userID uuid.UUID, now time.Time) error {
	return tx.Model(&models.RefreshFamily{}).Where("user_id = ? AND revoked_at IS NULL", userID).
		Update("revoked_at", now).Error
}

// PasswordReset is a reset token as handed out, once.
type PasswordReset struct {
	Token     string
	ExpiresAt time.Time
}

// IssuePasswordReset makes a one-use token with which the user id can set a
// new password within ResetTTL, replacing any earlier unused one. It changes
// nothing else: until it is used, the user's password and sessions stand.
// Only the token's hash is stored. by is the admin asking. Errors:
// not_found.
func (s *Service) IssuePasswordReset(ctx context.Context, by, id uuid.UUID) (PasswordReset, error) {
	raw, hash := newRefreshToken()
	var out PasswordReset
	err := models.Transact(ctx, s.db, func(tx *gorm.DB) error {
		if err := tx.Select("id").Where("id = ?", id).Take(&models.User{}).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return services.NotFound("user")
			}
			return err
		}
		now := s.now()
		// A token that was handed out but not used yet may have gone
		// astray: only the newest one works.
		if err := tx.Model(&models.PasswordReset{}).Where("user_id = ? AND used_at IS NULL", id).
			Update("used_at", now).Error; err != nil {
			return err
		}
		r := models.PasswordReset{ID: models.NewID(), UserID: id, TokenHash: hash, CreatedBy: &by,
			CreatedAt: now, ExpiresAt: now.Add(ResetTTL)}
		if err := tx.Create(&r).Error; err != nil {
			return err
		}
		out = PasswordReset{Token: raw, ExpiresAt: r.ExpiresAt}
		return nil
	})
	return out, err
}

var errBadReset = services.Unauthorized("invalid or expired reset token")

// ResetPassword sets a new password with a reset token, uses the token up,
// and ends every session of the user: refresh families are revoked and
// access tokens issued before are refused. It does not sign the user in,
// nor enable a disabled account. An unknown, used or expired token gets one
// answer, so that it tells nothing about which. Errors: validation_failed
// (checked first, so a mistyped password does not use the token up),
// unauthorized.
func (s *Service) ResetPassword(ctx context.Context, raw, newPassword string) error {
	var f services.FieldErrors
	f.Check(raw == "", "reset_token", "is required")
	checkPassword(&f, "new_password", newPassword)
	if err := f.Err(); err != nil {
		return err
	}
	// Hashed before the transaction, so that bcrypt's quarter second holds
	// no locks.
	hash, err := bcrypt.GenerateFromPassword([]byte(newPassword), s.opt.BcryptCost)
	if err != nil {
		return err
	}
	return models.Transact(ctx, s.db, func(tx *gorm.DB) error {
		now := s.now()
		// The conditional update is the one-use guarantee: of two uses at
		// once, the second waits for the first's row lock and then matches
		// nothing.
		var used struct{ UserID uuid.UUID }
		res := tx.Raw(`UPDATE password_resets SET used_at = ?
			WHERE token_hash = ? AND used_at IS NULL AND expires_at > ? RETURNING user_id`,
			now, hashToken(raw), now).Scan(&used)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return errBadReset
		}
		if err := tx.Model(&models.User{}).Where("id = ?", used.UserID).Updates(map[string]any{
			"password_hash": string(hash), "token_version": gorm.Expr("token_version + 1"), "updated_at": now}).Error; err != nil {
			return err
		}
		return s.revokeSessions(tx, used.UserID, now)
	})
}
