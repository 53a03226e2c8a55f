package models_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/models/modelstest"
)

func TestTransactRetriesOnlyTransientFailures(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		cases := []struct {
			name    string
			fails   []error // what the attempts return, in turn, before one succeeds
			calls   int
			wantErr bool
		}{
			{"succeeds at once", nil, 1, false},
			{"deadlock then success", []error{&pgconn.PgError{Code: "40P01"}}, 2, false},
			{"serialization failure then success", []error{&pgconn.PgError{Code: "40001"}}, 2, false},
			{"other database error is not retried", []error{&pgconn.PgError{Code: "23505"}}, 1, true},
			{"gives up after five", []error{
				&pgconn.PgError{Code: "40P01"}, &pgconn.PgError{Code: "40P01"}, &pgconn.PgError{Code: "40P01"},
				&pgconn.PgError{Code: "40P01"}, &pgconn.PgError{Code: "40P01"}, &pgconn.PgError{Code: "40P01"},
			}, 5, true},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				calls := 0
				err := models.Transact(context.Background(), db, func(tx *gorm.DB) error {
					calls++
					if calls <= len(tc.fails) {
						return tc.fails[calls-1]
					}
					return nil
				})
				var pg *pgconn.PgError
				if calls != tc.calls || tc.wantErr != errors.As(err, &pg) {
					t.Fatalf("%d calls, error %v; want %d calls, an error: %v", calls, err, tc.calls, tc.wantErr)
				}
			})
		}
	})
}
