package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services"
)

// Limits bound failed logins in a fixed window, per email and per client
// address. Counters live in the database so every replica sees them.
type Limits struct {
	Window      time.Duration // default 15 minutes
	PerEmail    int           // default 5
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

func (s *Service) checkLimits(ctx context.Context, keys []limitKey) error {
	now := s.now()
	for _, k := range keys {
		var f models.LoginFailure
		res := s.db.WithContext(ctx).Where("key = ?", k.key).Limit(1).Find(&f)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			continue
		}
		resets := f.WindowStart.Add(s.limits.Window)
		if f.Failures >= k.max && resets.After(now) {
			return services.RateLimited(resets.Sub(now))
		}
	}
	return nil
}

// recordFailure counts one failure for each key in a single statement per
// key, so concurrent failures on several replicas all count.
func (s *Service) recordFailure(ctx context.Context, keys []limitKey) error {
	now := s.now()
	expired := now.Add(-s.limits.Window)
	for _, k := range keys {
		err := s.db.WithContext(ctx).Exec(`INSERT INTO login_failures (key, failures, window_start) VALUES (?, 1, ?)
			ON CONFLICT (key) DO UPDATE SET
			  failures = CASE WHEN login_failures.window_start <= ? THEN 1 ELSE login_failures.failures + 1 END,
			  window_start = CASE WHEN login_failures.window_start <= ? THEN excluded.window_start ELSE login_failures.window_start END`,
			k.key, now, expired, expired).Error
		if err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) clearFailures(ctx context.Context, k limitKey) error {
	return s.db.WithContext(ctx).Where("key = ?", k.key).Delete(&models.LoginFailure{}).Error
}
