package api_test

import (
	"testing"

	"github.com/karigar/karigar/api"
	"github.com/karigar/karigar/models/modelstest"
)

// Without a logger, the causes of 500s and panics would go nowhere: both
// the wiring and the server refuse to start without one.
func TestNewAndBuildRequireALogger(t *testing.T) {
	db := modelstest.Open(t, "sqlite")
	w := testWiring()
	svc, err := api.Build(db, w)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := api.New(api.Config{DB: db, Services: svc}); err == nil {
		t.Error("api.New accepted a nil Logger")
	}
	w.Logger = nil
	if _, err := api.Build(db, w); err == nil {
		t.Error("api.Build accepted a nil Logger")
	}
}
