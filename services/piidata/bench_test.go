package piidata_test

import (
	"bytes"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/models/modelstest"
	"github.com/karigar/karigar/services/pii"
	"github.com/karigar/karigar/services/piidata"
)

// BenchmarkRotate reseals 10,000 artisans' phone numbers and CNICs (20,000
// values with their lookup hashes) under a new key, as karigar pii
// rotate-key does, on PostgreSQL:
//
//	KARIGAR_TEST_DATABASE_URL=postgres://... go test -run '^$' -bench Rotate -benchtime 3x ./services/piidata/
func BenchmarkRotate(b *testing.B) {
	if os.Getenv(modelstest.EnvPostgres) == "" {
		b.Skip(modelstest.EnvPostgres + " is not set: this benchmark is for PostgreSQL")
	}
	const n = 10000
	db := modelstest.Open(b, "postgres")
	u := models.User{ID: models.NewID(), Email: "m@x.pk", PasswordHash: "x", Name: "M", Role: models.RoleProducer,
		CreatedAt: time.Now().UTC(), UpdatedAt: time.Now().UTC()}
	g := models.Group{ID: models.NewID(), Name: "G", District: "D", DistrictKey: "d", Province: "punjab", Currency: "PKR",
		ProfitMethod: models.ShareByLaborHours, Status: models.GroupVerified, CreatedBy: u.ID, CreatedAt: u.CreatedAt, UpdatedAt: u.CreatedAt}
	if err := db.Create(&u).Error; err != nil {
		b.Fatal(err)
	}
	if err := db.Create(&g).Error; err != nil {
		b.Fatal(err)
	}
	keys := [][]byte{bytes.Repeat([]byte{1}, pii.KeySize), bytes.Repeat([]byte{2}, pii.KeySize)}
	box0, _ := pii.New(keys[0])
	rows := make([]models.Artisan, n)
	for i := range rows {
		phone, cnic := fmt.Sprintf("+92300%07d", i), fmt.Sprintf("35202-%07d-1", i)
		ps, _ := box0.Seal(phone)
		cs, _ := box0.Seal(cnic)
		pl, cl := box0.Lookup(phone), box0.LookupText(cnic)
		rows[i] = models.Artisan{ID: models.NewID(), GroupID: g.ID, DisplayName: "a", FullName: "a", District: "d", Skills: []string{},
			PhoneSealed: &ps, PhoneLookup: &pl, CNICSealed: &cs, CNICLookup: &cl, CreatedAt: u.CreatedAt, UpdatedAt: u.CreatedAt}
	}
	if err := db.CreateInBatches(rows, 1000).Error; err != nil {
		b.Fatal(err)
	}
	columns := piidata.Columns[:2]
	b.ResetTimer()
	for i := range b.N {
		box, _ := pii.New(keys[(i+1)%2], keys[i%2]) // back and forth between the two keys
		res, err := piidata.Rotate(b.Context(), db, box, piidata.Options{Columns: columns})
		if err != nil {
			b.Fatal(err)
		}
		if res[0].Done != n || res[1].Done != n {
			b.Fatalf("resealed %d and %d of %d", res[0].Done, res[1].Done, n)
		}
	}
	b.ReportMetric(float64(2*n*b.N)/b.Elapsed().Seconds(), "values/s")
}
