package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/karigar/karigar/services"
)

// Limits bound login attempts in a fixed window, per email and per client
// address. Counters live in the database so every replica sees them.
type Limits struct {
	Window      time.Duration // default 15 minutes
	PerEmail    int           // failed attempts allowed per window; default 5
	PerClientIP int           // default 50
}

func (l Limits) withDefaults() Limits {
	if l.Window == 0 {
		l.Window = 15 * time.Minute
	}
	if l.PerEmail == 0 {
		l.PerEmail = 5
	}
	if l.PerClientIP == 0 {
		l.PerClientIP = 50
	}
	return l
}

type limitKey struct {
	key string
	max int
}

// limitKeys puts the email key first. Emails are hashed so the table holds no
// addresses.
func (s *Service) limitKeys(email, ip string) []limitKey {
	sum := sha256.Sum256([]byte(email))
	keys := []limitKey{{"email:" + hex.EncodeToString(sum[:16]), s.limits.PerEmail}}
	if ip != "" {
		keys = append(keys, limitKey{"ip:" + ip, s.limits.PerClientIP})
	}
	return keys
}

// countAttempt counts a login attempt against every key before the password
// is checked, in one upsert per key that returns the new count. Counting
// first is what makes the limit hold when guesses arrive in parallel, on any
// number of replicas: each attempt sees the count including itself. A
// successful login takes its attempt back (forgiveAttempt).
func (s *Service) countAttempt(ctx context.Context, keys []limitKey) error {
	now := s.now()
	expired := now.Add(-s.limits.Window)
	var wait time.Duration
	for _, k := range keys {
		var row struct {
			Failures    int
			WindowStart time.Time
		}
		err := s.db.WithContext(ctx).Raw(`INSERT INTO login_failures (key, failures, window_start) VALUES (?, 1, ?)
			ON CONFLICT (key) DO UPDATE SET
			  failures = CASE WHEN login_failures.window_start <= ? THEN 1 ELSE login_failures.failures + 1 END,
			  window_start = CASE WHEN login_failures.window_start <= ? THEN excluded.window_start ELSE login_failures.window_start END
			RETURNING failures, window_start`, k.key, now, expired, expired).Scan(&row).Error
		if err != nil {
			return err
		}
		if row.Failures > k.max {
			wait = max(wait, row.WindowStart.Add(s.limits.Window).Sub(now))
		}
	}
	if wait > 0 {
		return services.RateLimited(max(wait, time.Second))
	}
	return nil
}

// forgiveAttempt forgets the email's failures and takes this attempt back
// from the address's count, so that people signing in successfully from a
// shared address (an office, a carrier's NAT) do not lock each other out.
func (s *Service) forgiveAttempt(ctx context.Context, keys []limitKey) error {
	db := s.db.WithContext(ctx)
	if err := db.Exec(`DELETE FROM login_failures WHERE key = ?`, keys[0].key).Error; err != nil {
		return err
	}
	for _, k := range keys[1:] {
		if err := db.Exec(`UPDATE login_failures SET failures = failures - 1 WHERE key = ? AND failures > 0`, k.key).Error; err != nil {
			return err
		}
	}
	return nil
}

// purgeLoginFailures deletes counters whose window has passed.
func (s *Service) purgeLoginFailures(ctx context.Context) error {
	return s.db.WithContext(ctx).Exec(`DELETE FROM login_failures WHERE window_start <= ?`, s.now().Add(-s.limits.Window)).Error
}
