package api_test

import (
	"net/http"
	"regexp"
	"runtime"
	"testing"
)

// karigar_build_info says what the running binary was built from.
func TestMetricsBuildInfo(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		res := e.do("GET", "/metrics", nil)
		res.wantStatus(t, http.StatusOK)
		want := regexp.MustCompile(`(?m)^karigar_build_info\{goversion="` + regexp.QuoteMeta(runtime.Version()) +
			`",revision="[^"]*",version="[^"]+"\} 1$`)
		if !want.Match(res.Body) {
			t.Fatalf("/metrics lacks the build info:\n%s", res.Body)
		}
	})
}
