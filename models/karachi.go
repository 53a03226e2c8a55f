package models

import (
	"time"
	_ "time/tzdata" // Asia/Karachi wherever the binary runs, a bare container included
)

// Karachi is Pakistan's time, in which people read dates and times (pages,
// statements, fairs, order cycles), and where their months and days begin.
// The zone database is embedded, so loading it cannot fail at run time.
var Karachi = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Karachi")
	if err != nil {
		panic("models: " + err.Error())
	}
	return loc
}()
