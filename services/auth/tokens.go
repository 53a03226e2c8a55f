package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services"
)

// Identity is who an access token says the caller is.
type Identity struct {
	UserID uuid.UUID
	Role   models.Role
}

type claims struct {
	Role models.Role `json:"role"`
	// Version is the user's token_version when the token was issued; tokens
	// issued before versions existed have none, which reads as 0.
	Version int `json:"ver,omitempty"`
	jwt.RegisteredClaims
}

// Authenticate verifies an access token: HS256 only (alg=none and every other
// algorithm are refused), signed with our secret, issued by us, not expired;
// and then that its account still exists, is not disabled and has not ended
// its sessions since (a password reset, a disabling), with one read by
// primary key. That read is what makes taking access away immediate on
// every replica: a signature alone stays valid for 15 minutes. Errors:
// unauthorized.
func (s *Service) Authenticate(ctx context.Context, token string) (Identity, error) {
	id, version, err := s.verifyToken(token)
	if err != nil {
		return Identity{}, err
	}
	// Read by position: gorm's Scan would render the SQL with its values for
	// its logger and match columns by reflection, on every request.
	var tokenVersion int64
	var disabledAt any // only whether it is set matters
	err = s.db.WithContext(ctx).Raw(`SELECT token_version, disabled_at FROM users WHERE id = ?`, id.UserID).Row().
		Scan(&tokenVersion, &disabledAt)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return Identity{}, services.Unauthorized("this account no longer exists")
	case err != nil:
		return Identity{}, err
	case disabledAt != nil:
		return Identity{}, errDisabled
	case tokenVersion != int64(version):
		return Identity{}, services.Unauthorized("this session has ended; sign in again")
	}
	return id, nil
}

var errDisabled = services.Unauthorized("this account is disabled; ask an administrator")

// verifyToken checks the token itself, without the database.
func (s *Service) verifyToken(token string) (Identity, int, error) {
	var c claims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return s.opt.Secret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(s.opt.Issuer),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(s.opt.Now),
	)
	if err != nil {
		if errors.Is(err, jwt.ErrTokenExpired) {
			return Identity{}, 0, services.Unauthorized("access token expired")
		}
		return Identity{}, 0, services.Unauthorized("invalid access token")
	}
	id, err := uuid.Parse(c.Subject)
	if err != nil || !c.Role.Valid() {
		return Identity{}, 0, services.Unauthorized("invalid access token")
	}
	return Identity{UserID: id, Role: c.Role}, c.Version, nil
}

func (s *Service) accessToken(u models.User, now time.Time) (string, error) {
	c := claims{
		Role:    u.Role,
		Version: u.TokenVersion,
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   u.ID.String(),
			Issuer:    s.opt.Issuer,
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(s.opt.AccessTTL)),
		},
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(s.opt.Secret)
}

// startSession signs u in: a new refresh family with its first token.
func (s *Service) startSession(ctx context.Context, u models.User) (Session, error) {
	var sess Session
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		now := s.now()
		fam := models.RefreshFamily{ID: models.NewID(), UserID: u.ID, CreatedAt: now, LastUsedAt: now}
		if err := tx.Create(&fam).Error; err != nil {
			return err
		}
		var err error
		sess, err = s.issue(tx, u, fam.ID)
		return err
	})
	return sess, err
}

// issue mints an access token and a refresh token in family.
func (s *Service) issue(tx *gorm.DB, u models.User, family uuid.UUID) (Session, error) {
	now := s.now()
	raw, hash := newRefreshToken()
	rt := models.RefreshToken{ID: models.NewID(), UserID: u.ID, FamilyID: family, TokenHash: hash,
		ExpiresAt: now.Add(s.opt.RefreshTTL), CreatedAt: now}
	if err := tx.Create(&rt).Error; err != nil {
		return Session{}, err
	}
	access, err := s.accessToken(u, now)
	if err != nil {
		return Session{}, err
	}
	return Session{User: userFrom(u), AccessToken: access, RefreshToken: raw, ExpiresIn: s.opt.AccessTTL}, nil
}

func newRefreshToken() (raw, hash string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	raw = base64.RawURLEncoding.EncodeToString(b)
	return raw, hashToken(raw)
}

func hashToken(raw string) string {
	sum := sha256.Sum256([]byte(raw))
	return hex.EncodeToString(sum[:])
}

var errBadRefresh = services.Unauthorized("invalid refresh token")

// Refresh rotates a refresh token: the presented one is revoked and a new
// pair issued in the same family. Presenting a token that was already
// rotated is taken as theft: the whole family is revoked, including any
// token a concurrent refresh is minting. Errors: unauthorized,
// validation_failed.
func (s *Service) Refresh(ctx context.Context, raw string) (Session, error) {
	if raw == "" {
		return Session{}, services.Invalid(map[string]string{"refresh_token": "is required"})
	}
	now := s.now()
	var (
		sess   Session
		reused bool
	)
	err := models.Transact(ctx, s.db, func(tx *gorm.DB) error {
		reused = false
		var rt models.RefreshToken
		if err := tx.Where("token_hash = ?", hashToken(raw)).Take(&rt).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return errBadRefresh
			}
			return err
		}
		// Updating the family row first locks it until commit: a revocation
		// and a rotation in the same family cannot interleave.
		fam := tx.Model(&models.RefreshFamily{}).Where("id = ? AND revoked_at IS NULL", rt.FamilyID).Update("last_used_at", now)
		if fam.Error != nil {
			return fam.Error
		}
		if fam.RowsAffected == 0 {
			return errBadRefresh
		}
		res := tx.Model(&models.RefreshToken{}).Where("id = ? AND revoked_at IS NULL", rt.ID).Update("revoked_at", now)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			reused = true
			return tx.Model(&models.RefreshFamily{}).Where("id = ?", rt.FamilyID).Update("revoked_at", now).Error
		}
		if !rt.ExpiresAt.After(now) {
			return services.Unauthorized("refresh token expired")
		}
		var u models.User
		if err := tx.Where("id = ?", rt.UserID).Take(&u).Error; err != nil {
			return err
		}
		// Disabling revokes the user's families, so this is only a second
		// guard; a rotation racing the disabling mints an access token of
		// the old version, which is refused.
		if u.DisabledAt != nil {
			return errBadRefresh
		}
		var err error
		sess, err = s.issue(tx, u, rt.FamilyID)
		return err
	})
	if err != nil {
		return Session{}, err
	}
	if reused {
		return Session{}, services.Unauthorized("refresh token was already used; sign in again")
	}
	return sess, nil
}

// Logout revokes the family of the given refresh token when it belongs to
// the caller, or every family of the caller when raw is empty. Access
// tokens already issued stay valid until they expire (15 minutes).
func (s *Service) Logout(ctx context.Context, who Identity, raw string) error {
	q := s.db.WithContext(ctx).Model(&models.RefreshFamily{}).Where("revoked_at IS NULL AND user_id = ?", who.UserID)
	if raw != "" {
		var rt models.RefreshToken
		err := s.db.WithContext(ctx).Where("token_hash = ? AND user_id = ?", hashToken(raw), who.UserID).Take(&rt).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		q = q.Where("id = ?", rt.FamilyID)
	}
	return q.Update("revoked_at", s.now()).Error
}

// Purge deletes refresh tokens, families and password reset tokens that
// expired over a day ago and login counters whose window has passed. Any replica may run it.
func (s *Service) Purge(ctx context.Context) error {
	cutoff := s.now().Add(-24 * time.Hour)
	db := s.db.WithContext(ctx)
	if err := db.Where("expires_at < ?", cutoff).Delete(&models.RefreshToken{}).Error; err != nil {
		return err
	}
	// A family with no token left can never be used again.
	if err := db.Exec(`DELETE FROM refresh_families WHERE last_used_at < ?
		AND NOT EXISTS (SELECT 1 FROM refresh_tokens t WHERE t.family_id = refresh_families.id)`, cutoff).Error; err != nil {
		return err
	}
	// A used or expired reset token only ever answers 401.
	if err := db.Where("expires_at < ?", cutoff).Delete(&models.PasswordReset{}).Error; err != nil {
		return err
	}
	return s.purgeLoginFailures(ctx)
}
