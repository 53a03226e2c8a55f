// Package docs embeds the OpenAPI description of the API, so the binary
// serves the same spec the tests check it against.
package docs

import _ "embed"

// OpenAPI is docs/openapi.yaml.
//
//go:embed openapi.yaml
var OpenAPI []byte
