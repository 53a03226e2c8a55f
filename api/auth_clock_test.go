package api_test

import (
	"encoding/base64"
	"time"

	"github.com/karigar/karigar/api"
	"github.com/karigar/karigar/services/auth"
)

func withClock(now func() time.Time) envOption {
	return func(o *auth.Options, _ *api.Config) { o.Now = now }
}

func base64Std(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
