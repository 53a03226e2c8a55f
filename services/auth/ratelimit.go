package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
	"time"

	"github.com/karigar/karigar/services"
)

// Limits bound failed login attempts in a fixed window. Counters live in
// the database so every replica sees them.
//
// Failures are counted per (email, client address) and per client address,
// never per email alone: a per-email count lets anyone lock the owner out by
// guessing wrong five times from anywhere. With these keys the guesser's
// address is throttled for that email, and the owner, from an address that
// has not been failing, still signs in. An attacker spreading guesses for one
// email over many addresses gets PerEmail guesses per address, at bcrypt's
// cost each; the per-address limit bounds spraying many emails from one.
type Limits struct {
	Window      time.Duration // default 15 minutes
	PerEmail    int           // failed attempts allowed per email from one client address; default 5
	PerClientIP int           // failed attempts allowed from one client address, whatever the emails; default 50
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
	key    string
	max    int
	policy string // the quota's name for clients (the RateLimit headers)
}

// limitKeys puts the (email, address) key first. It is a hash, so the table
// holds no email addresses.
func (s *Service) limitKeys(email, ip string) []limitKey {
	client := ClientKey(ip)
	sum := sha256.Sum256([]byte(email + "\n" + client))
	keys := []limitKey{{"email-client:" + hex.EncodeToString(sum[:16]), s.limits.PerEmail, "login-email"}}
	if client != "" {
		keys = append(keys, limitKey{"ip:" + client, s.limits.PerClientIP, "login-address"})
	}
	return keys
}

// ClientKey is the client an address stands for: an IPv4 address as it is
// (an IPv4-mapped IPv6 one too), an IPv6 address as its /64, since a host is
// usually given a whole /64 and could otherwise take a fresh address for
// every guess.
func ClientKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	p, err := a.WithZone("").Prefix(64)
	if err != nil {
		return a.String()
	}
	return p.String()
}

// countAttempt counts a login attempt against every key before the password
// is checked, in one upsert per key that returns the new count. Counting
// first is what makes the limit hold when guesses arrive in parallel, on any
// number of replicas: each attempt sees the count including itself. A
// successful login takes its attempt back (forgiveAttempt).
func (s *Service) countAttempt(ctx context.Context, keys []limitKey) error {
	now := s.now()
	expired := now.Add(-s.limits.Window)
	var (
		wait    time.Duration
		tripped limitKey
	)
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
		if w := row.WindowStart.Add(s.limits.Window).Sub(now); row.Failures > k.max && w > wait {
			wait, tripped = w, k
		}
	}
	if wait > 0 {
		return services.QuotaExceeded(services.Quota{Policy: tripped.policy, Limit: tripped.max, Window: s.limits.Window},
			max(wait, time.Second))
	}
	return nil
}

// forgiveAttempt forgets the failures for the email from this address and takes this attempt back
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
