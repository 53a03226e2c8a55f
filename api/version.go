package api

import (
	"runtime"
	"runtime/debug"
)

// Version is what this binary was built from, as the Go toolchain recorded
// it: the module version ("(devel)" for a build from a checkout), the VCS
// revision and whether the tree had changes, and the Go version.
type Version struct {
	Version   string
	Revision  string // "" when the build recorded none (go run, tests)
	Modified  bool
	GoVersion string
}

// BuildVersion reads the binary's build information.
func BuildVersion() Version {
	v := Version{Version: "(devel)", GoVersion: runtime.Version()}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	if info.Main.Version != "" {
		v.Version = info.Main.Version
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Revision = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		}
	}
	return v
}
