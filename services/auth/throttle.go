package auth

import (
	"context"
	"errors"
	"time"

	"github.com/karigar/karigar/services"
)

// Throttle counts a request to a public route (one that needs no login)
// against a quota per client address: q.Limit requests in a fixed window of
// q.Window, named q.Policy. The counters are rows of login_failures keyed by
// the policy and the client (an IPv6 address as its /64, as for sign-ins),
// counted with one upsert that returns the new count, so the quota holds
// across replicas; the hourly purge removes them once the login window (15
// minutes, longer than any quota's window) has passed. Errors: rate_limited,
// with the quota and when to try again.
func (s *Service) Throttle(ctx context.Context, q services.Quota, ip string) error {
	if q.Limit <= 0 || q.Window <= 0 || q.Window > s.limits.Window {
		return errors.New("auth: a quota needs a limit and a window no longer than the login window")
	}
	now := s.now()
	expired := now.Add(-q.Window)
	var row struct {
		Failures    int
		WindowStart time.Time
	}
	err := s.db.WithContext(ctx).Raw(`INSERT INTO login_failures (key, failures, window_start) VALUES (?, 1, ?)
		ON CONFLICT (key) DO UPDATE SET
		  failures = CASE WHEN login_failures.window_start <= ? THEN 1 ELSE login_failures.failures + 1 END,
		  window_start = CASE WHEN login_failures.window_start <= ? THEN excluded.window_start ELSE login_failures.window_start END
		RETURNING failures, window_start`, "route:"+q.Policy+":"+ClientKey(ip), now, expired, expired).Scan(&row).Error
	if err != nil {
		return err
	}
	if row.Failures > q.Limit {
		return services.QuotaExceeded(q, max(row.WindowStart.Add(q.Window).Sub(now), time.Second))
	}
	return nil
}
