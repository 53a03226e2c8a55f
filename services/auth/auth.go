// Package auth manages accounts and sign-in: registration, passwords,
// access tokens (JWT, HS256), refresh tokens with rotation and reuse
// detection, and the limit on failed logins.
package auth

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"
	"gorm.io/gorm"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services"
)

// Options configure a Service. Secret is required; the rest have defaults.
type Options struct {
	Secret     []byte        // HMAC key for access tokens, at least 32 bytes
	Issuer     string        // "iss" claim; default "karigar"
	AccessTTL  time.Duration // default 15 minutes
	RefreshTTL time.Duration // default 30 days
	BcryptCost int           // default 12, what production runs; tests set bcrypt.MinCost to stay fast
	Limits     Limits
	Now        func() time.Time
}

// Service is the accounts and sign-in service.
type Service struct {
	db     *gorm.DB
	opt    Options
	dummy  []byte // a hash compared against for unknown emails, so timing does not tell
	limits Limits
}

// MinSecretBytes is the shortest JWT secret accepted.
const MinSecretBytes = 32

// New returns a Service on db.
func New(db *gorm.DB, opt Options) (*Service, error) {
	if len(opt.Secret) < MinSecretBytes {
		return nil, errors.New("auth: the JWT secret must be at least 32 bytes")
	}
	if opt.Issuer == "" {
		opt.Issuer = "karigar"
	}
	if opt.AccessTTL == 0 {
		opt.AccessTTL = 15 * time.Minute
	}
	if opt.RefreshTTL == 0 {
		opt.RefreshTTL = 30 * 24 * time.Hour
	}
	if opt.BcryptCost == 0 {
		opt.BcryptCost = 12
	}
	if opt.BcryptCost < bcrypt.MinCost || opt.BcryptCost > bcrypt.MaxCost {
		return nil, fmt.Errorf("auth: bcrypt cost must be %d to %d", bcrypt.MinCost, bcrypt.MaxCost)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	dummy, err := bcrypt.GenerateFromPassword([]byte("not a real password"), opt.BcryptCost)
	if err != nil {
		return nil, err
	}
	return &Service{db: db, opt: opt, dummy: dummy, limits: opt.Limits.withDefaults()}, nil
}

func (s *Service) now() time.Time { return s.opt.Now().UTC().Truncate(time.Microsecond) }

// User is an account as the rest of the system sees it: no password hash.
type User struct {
	ID         uuid.UUID
	Email      string
	Name       string
	Role       models.Role
	DisabledAt *time.Time // nil while the account may sign in
	CreatedAt  time.Time
}

func userFrom(m models.User) User {
	return User{ID: m.ID, Email: m.Email, Name: m.Name, Role: m.Role, DisabledAt: m.DisabledAt, CreatedAt: m.CreatedAt}
}

// Session is what a successful sign-in returns.
type Session struct {
	User         User
	AccessToken  string
	RefreshToken string
	ExpiresIn    time.Duration
}

// NewUser is the input of Register and CreateUser.
type NewUser struct {
	Email    string
	Password string
	Name     string
	Role     models.Role
}

// MinPasswordLength is counted in characters; bcrypt reads at most 72 bytes.
const (
	MinPasswordLength = 10
	maxPasswordBytes  = 72
)

func (in *NewUser) validate(allowed ...models.Role) error {
	var f services.FieldErrors
	in.Email = strings.ToLower(strings.TrimSpace(in.Email))
	in.Name = strings.TrimSpace(in.Name)
	if in.Email == "" {
		f.Add("email", "is required")
	} else if !printable(in.Email) {
		f.Add("email", "must not contain control characters")
	} else if a, err := mail.ParseAddress(in.Email); err != nil || a.Address != in.Email || len(in.Email) > 254 {
		f.Add("email", "must be a valid email address")
	}
	checkPassword(&f, "password", in.Password)
	switch n := utf8.RuneCountInString(in.Name); {
	case !printable(in.Name) || !utf8.ValidString(in.Name):
		f.Add("name", "must be text without control characters")
	case n == 0:
		f.Add("name", "is required")
	case n > 100:
		f.Add("name", "must be at most 100 characters")
	}
	ok := false
	for _, r := range allowed {
		ok = ok || in.Role == r
	}
	if !ok {
		names := make([]string, len(allowed))
		for i, r := range allowed {
			names[i] = string(r)
		}
		f.Add("role", "must be one of: "+strings.Join(names, ", "))
	}
	return f.Err()
}

// checkPassword holds every new password to the same rules: registration,
// staff accounts and password resets.
func checkPassword(f *services.FieldErrors, field, password string) {
	switch n := utf8.RuneCountInString(password); {
	case n < MinPasswordLength:
		f.Add(field, "must be at least 10 characters")
	case len(password) > maxPasswordBytes:
		f.Add(field, "must be at most 72 bytes")
	}
}

// printable reports whether s has no control characters (NUL among them,
// which PostgreSQL's text type cannot hold).
func printable(s string) bool {
	return !strings.ContainsFunc(s, unicode.IsControl)
}

// Register creates a buyer or producer account and signs it in. Errors:
// validation_failed, conflict (email taken).
func (s *Service) Register(ctx context.Context, in NewUser) (Session, error) {
	if in.Role == "" {
		in.Role = models.RoleBuyer
	}
	u, err := s.createUser(ctx, in, models.RoleBuyer, models.RoleProducer)
	if err != nil {
		return Session{}, err
	}
	return s.startSession(ctx, u)
}

// CreateUser creates an auditor or admin account; only admins (through the
// API) and operators (through the CLI) may call it. Errors:
// validation_failed, conflict.
func (s *Service) CreateUser(ctx context.Context, in NewUser) (User, error) {
	u, err := s.createUser(ctx, in, models.RoleAuditor, models.RoleAdmin)
	if err != nil {
		return User{}, err
	}
	return userFrom(u), nil
}

func (s *Service) createUser(ctx context.Context, in NewUser, allowed ...models.Role) (models.User, error) {
	if err := in.validate(allowed...); err != nil {
		return models.User{}, err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(in.Password), s.opt.BcryptCost)
	if err != nil {
		return models.User{}, err
	}
	now := s.now()
	u := models.User{ID: models.NewID(), Email: in.Email, PasswordHash: string(hash), Name: in.Name,
		Role: in.Role, CreatedAt: now, UpdatedAt: now}
	if err := s.db.WithContext(ctx).Create(&u).Error; err != nil {
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			return models.User{}, services.Conflict(services.CodeConflict, "an account with this email already exists")
		}
		return models.User{}, err
	}
	return u, nil
}

// Credentials is the input of Login. ClientIP keys the per-address limit.
type Credentials struct {
	Email    string
	Password string
	ClientIP string
}

var errBadCredentials = services.Unauthorized("email or password is incorrect")

// Login checks credentials and starts a session. Errors: unauthorized (the
// same whether or not the email exists; "disabled" only with the right
// password), rate_limited, validation_failed.
func (s *Service) Login(ctx context.Context, in Credentials) (Session, error) {
	email := strings.ToLower(strings.TrimSpace(in.Email))
	var f services.FieldErrors
	f.Check(email == "", "email", "is required")
	f.Check(in.Password == "", "password", "is required")
	if err := f.Err(); err != nil {
		return Session{}, err
	}
	if !printable(email) {
		return Session{}, errBadCredentials // no account can have such an email
	}
	keys := s.limitKeys(email, in.ClientIP)
	if err := s.countAttempt(ctx, keys); err != nil {
		return Session{}, err
	}
	var u models.User
	err := s.db.WithContext(ctx).Where("email = ?", email).Take(&u).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		_ = bcrypt.CompareHashAndPassword(s.dummy, []byte(in.Password))
		return Session{}, errBadCredentials
	case err != nil:
		return Session{}, err
	}
	if bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(in.Password)) != nil {
		return Session{}, errBadCredentials
	}
	// The right password was no guess, so it is taken back even when the
	// account is disabled.
	if err := s.forgiveAttempt(ctx, keys); err != nil {
		return Session{}, err
	}
	// Only someone who knows the password learns that the account is
	// disabled: a wrong one gets the same answer as ever. Telling the owner
	// why saves them guessing at their password until the limit stops them.
	if u.DisabledAt != nil {
		return Session{}, errDisabled
	}
	return s.startSession(ctx, u)
}

// Me returns the caller's own account. A valid token whose account is gone
// is no identity at all. Errors: unauthorized.
func (s *Service) Me(ctx context.Context, who Identity) (User, error) {
	u, err := s.User(ctx, who.UserID)
	if services.IsCode(err, services.CodeNotFound) {
		return User{}, services.Unauthorized("this account no longer exists")
	}
	return u, err
}

// User returns the account with id. Errors: not_found.
func (s *Service) User(ctx context.Context, id uuid.UUID) (User, error) {
	var u models.User
	err := s.db.WithContext(ctx).Where("id = ?", id).Take(&u).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return User{}, services.NotFound("user")
	}
	if err != nil {
		return User{}, err
	}
	return userFrom(u), nil
}
