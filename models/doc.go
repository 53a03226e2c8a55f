// Package models holds Karigar's persistent types (gorm models), its value
// types such as Money, and the code that opens a database and migrates it.
//
// It imports nothing else from Karigar: services build on it, and api never
// renders its types directly.
package models
