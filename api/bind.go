package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/karigar/karigar/services"
)

var errTooLarge = &services.Error{Code: services.CodePayloadTooLarge, Message: "request body is larger than 1 MiB"}

// bindJSON decodes the request body into dst strictly: one JSON value,
// no unknown fields, the right types. Errors are bad_request (or
// payload_too_large, or unsupported_media_type for a body that says it is
// not JSON) with a message that names the problem.
func bindJSON(c *gin.Context, dst any) error {
	if ct := c.GetHeader("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return &services.Error{Code: services.CodeUnsupportedMedia,
				Message: fmt.Sprintf("Content-Type must be application/json, not %.100q", ct)}
		}
	}
	dec := json.NewDecoder(c.Request.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return errTooLarge
		}
		return services.BadRequest("request body must hold a single JSON object")
	}
	return nil
}

// bindOptionalJSON is bindJSON for routes whose body may be absent: an empty
// body, however it is framed, leaves dst as it is.
func bindOptionalJSON(c *gin.Context, dst any) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	return bindJSON(c, dst)
}

// readBody reads the whole request body (within the server's size limit)
// and puts it back, for the handlers further on to read again.
func readBody(c *gin.Context) ([]byte, error) {
	body, err := io.ReadAll(c.Request.Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, errTooLarge
		}
		return nil, services.BadRequest("could not read the request body")
	}
	c.Request.Body = io.NopCloser(bytes.NewReader(body))
	return body, nil
}

func decodeError(err error) error {
	var (
		syntax    *json.SyntaxError
		typ       *json.UnmarshalTypeError
		tooLarge  *http.MaxBytesError
		unmarshal *json.InvalidUnmarshalError
	)
	switch {
	case errors.As(err, &tooLarge):
		return errTooLarge
	case errors.Is(err, io.EOF):
		return services.BadRequest("request body is empty; send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return services.BadRequest("request body is not valid JSON: it ends too early")
	case errors.As(err, &syntax):
		return services.BadRequest("request body is not valid JSON (at byte %d)", syntax.Offset)
	case errors.As(err, &typ):
		if typ.Field == "" {
			return services.BadRequest("request body must be a JSON object")
		}
		if whole := wholeNumber(typ); whole != "" {
			return services.BadRequest("field %s must be %s", typ.Field, whole)
		}
		return services.BadRequest("field %s must be %s", typ.Field, jsonTypeName(typ.Type.Kind().String()))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return services.BadRequest("unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
	case errors.As(err, &unmarshal):
		return fmt.Errorf("bindJSON: %w", err)
	}
	return services.BadRequest("request body is not valid JSON")
}

// wholeNumber names what an integer field wants when it was sent a number
// that does not fit it (4000.5, 1e30, -1 for an unsigned field); "" when the
// value was not a number or the field is not an integer.
func wholeNumber(typ *json.UnmarshalTypeError) string {
	if typ.Value != "number" && !strings.HasPrefix(typ.Value, "number ") {
		return ""
	}
	switch typ.Type.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number, not negative, within range"
	default:
		return ""
	}
	if typ.Field == "amount" || strings.HasSuffix(typ.Field, ".amount") {
		// Money is whole minor units: 4000.5 is neither rupees nor paisa.
		return "a whole number of minor units (paisa for PKR: Rs 40.00 is 4000), within range"
	}
	return "a whole number, within range"
}

func jsonTypeName(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice", "array":
		return "an array"
	case "struct", "map":
		return "an object"
	}
	return "a number"
}

// clearable is a JSON field where null means "clear it" and absence means
// "leave it": a cleared value reaches the service as a pointer to "".
type clearable struct {
	set   bool
	value string
}

func (o *clearable) UnmarshalJSON(b []byte) error {
	o.set = true
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	return json.Unmarshal(b, &o.value)
}

func (o *clearable) ptr() *string {
	if !o.set {
		return nil
	}
	return &o.value
}
