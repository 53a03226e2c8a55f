package api_test

import (
	"os"
	"testing"

	"github.com/karigar/karigar/services/media/s3test"
	"github.com/karigar/karigar/services/payments/stripemock"
)

// TestMain stops the stripe-mock server the card tests start, and the
// versitygw server the photo tests start, if they did.
func TestMain(m *testing.M) {
	os.Exit(s3test.Around(func() int { return stripemock.Main(m) }))
}
