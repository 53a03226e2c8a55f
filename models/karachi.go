package models

import "time"

// Karachi is Pakistan's time, in which people read dates and times (pages,
// statements, fairs, cycles), and where months and days begin for them. A
// fixed UTC+5 stands in when the system has no time zone database (a
// minimal image): Pakistan has kept no daylight saving since 2009.
var Karachi = func() *time.Location {
	if loc, err := time.LoadLocation("Asia/Karachi"); err == nil {
		return loc
	}
	return time.FixedZone("PKT", 5*60*60)
}()
