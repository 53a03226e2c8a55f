package models_test

import (
	"testing"

	"gorm.io/gorm"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/models/modelstest"
)

func TestLogStatements(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		logged, log := models.LogStatements(db)
		if err := logged.Exec("CREATE TABLE counted (n integer)").Error; err != nil {
			t.Fatal(err)
		}
		err := logged.Transaction(func(tx *gorm.DB) error {
			if err := tx.Exec("INSERT INTO counted (n) VALUES (1)").Error; err != nil {
				return err
			}
			var n int
			return tx.Raw("SELECT count(*) FROM counted").Scan(&n).Error
		})
		if err != nil {
			t.Fatal(err)
		}
		got := log.Entries()
		want := []string{"CREATE TABLE counted (n integer)", "BEGIN", "INSERT INTO counted (n) VALUES (1)", "SELECT count(*) FROM counted", "COMMIT"}
		if len(got) != len(want) {
			t.Fatalf("statements = %q, want %q", got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("statement %d = %q, want %q", i, got[i], want[i])
			}
		}
		if log.Commits() != 1 {
			t.Fatalf("commits = %d, want 1", log.Commits())
		}
	})
}
