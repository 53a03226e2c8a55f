package api_test

import (
	"os"
	"testing"

	"github.com/karigar/karigar/services/payments/stripemock"
)

// TestMain stops the stripe-mock server the card tests start, if they did.
func TestMain(m *testing.M) { os.Exit(stripemock.Main(m)) }
