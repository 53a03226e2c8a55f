package main

import (
	"strings"
	"testing"
)

// KARIGAR_STATS_MIN_CELL: 5 by default; at least 3, since a cell of one or
// two people is a person; anything else names the variable.
func TestStatsMinCellConfig(t *testing.T) {
	c, err := loadConfig(envOf(map[string]string{}))
	if err != nil || c.StatsMinCell != 5 {
		t.Fatalf("default: %d, %v", c.StatsMinCell, err)
	}
	c, err = loadConfig(envOf(map[string]string{"KARIGAR_STATS_MIN_CELL": "10"}))
	if err != nil || c.StatsMinCell != 10 || wiring(c, nil).StatsMinCell != 10 {
		t.Fatalf("10: %d, %v", c.StatsMinCell, err)
	}
	for _, bad := range []string{"2", "0", "-5", "five", "1001"} {
		if _, err := loadConfig(envOf(map[string]string{"KARIGAR_STATS_MIN_CELL": bad})); err == nil ||
			!strings.Contains(err.Error(), "KARIGAR_STATS_MIN_CELL") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
