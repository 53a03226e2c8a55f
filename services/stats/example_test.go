package stats_test

import (
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/karigar/karigar/services/stats"
)

// The worked example of docs/fair-trade.md: nine groups in three
// provinces. Sindh's group D earns most of what Sindh's women earn; few
// transgender artisans work in any one province.
func ExampleBuild() {
	d := stats.Domains{Genders: []string{"woman", "man", "transgender", "undisclosed"},
		Provinces: []string{"punjab", "sindh", "khyber_pakhtunkhwa"}, DistrictProvince: map[string]string{}}
	district := map[string]string{"punjab": "Multan", "sindh": "Tharparkar", "khyber_pakhtunkhwa": "Swat"}
	for p, name := range district {
		k := stats.DistrictKey(p, name)
		d.Districts = append(d.Districts, k)
		d.DistrictProvince[k] = p
	}
	var ws []stats.Worker
	add := func(group, province, gender string, n int, earned int64) {
		g := uuid.NewSHA1(uuid.Nil, []byte(group))
		for range n {
			ws = append(ws, stats.Worker{Group: g, Province: province, District: stats.DistrictKey(province, district[province]),
				Gender: gender, Earned: earned, Minutes: 6000, Benchmark: 19230})
		}
	}
	for _, g := range []string{"A", "B", "C"} {
		add(g, "punjab", "woman", 4, 1_200_000) // Rs 12,000 for 100 hours each: Rs 120 an hour
	}
	add("A", "punjab", "transgender", 2, 1_200_000)
	add("D", "sindh", "woman", 5, 2_400_000) // D sells far more
	add("E", "sindh", "woman", 2, 600_000)
	add("F", "sindh", "woman", 2, 600_000)
	for _, g := range []string{"G", "H", "I"} {
		add(g, "khyber_pakhtunkhwa", "woman", 3, 1_500_000)
		add(g, "khyber_pakhtunkhwa", "transgender", 1, 1_500_000)
	}
	l := stats.Build(ws, d, stats.DefaultRules)
	show := func(by ...stats.Dimension) {
		for _, c := range l.Table(false, by) {
			var key []string
			for _, dim := range by {
				key = append(key, c.Key[dim])
			}
			status := c.Status.String()
			if status == "" {
				status = fmt.Sprintf("%d workers, %d groups, Rs %d.%02d an hour", c.Workers, c.Groups, c.HourlyAverage/100, c.HourlyAverage%100)
			}
			fmt.Printf("%-32s %s\n", strings.Join(key, " × "), status)
		}
		fmt.Println()
	}
	show(stats.Province)
	show(stats.Gender)
	show(stats.Gender, stats.Province)
	total := l.Table(false, nil)[0]
	fmt.Printf("total: %d workers, %d groups, Rs %d.%02d an hour\n", total.Workers, total.Groups, total.HourlyAverage/100, total.HourlyAverage%100)
	// Output:
	// punjab                           14 workers, 3 groups, Rs 120.00 an hour
	// sindh                            primary
	// khyber_pakhtunkhwa               secondary
	//
	// woman                            30 workers, 9 groups, Rs 141.00 an hour
	// man                              primary
	// transgender                      5 workers, 4 groups, Rs 138.00 an hour
	// undisclosed                      primary
	//
	// woman × punjab                   12 workers, 3 groups, Rs 120.00 an hour
	// woman × sindh                    primary
	// woman × khyber_pakhtunkhwa       secondary
	// man × punjab                     primary
	// man × sindh                      primary
	// man × khyber_pakhtunkhwa         primary
	// transgender × punjab             primary
	// transgender × sindh              primary
	// transgender × khyber_pakhtunkhwa primary
	// undisclosed × punjab             primary
	// undisclosed × sindh              primary
	// undisclosed × khyber_pakhtunkhwa primary
	//
	// total: 35 workers, 9 groups, Rs 140.57 an hour
}
