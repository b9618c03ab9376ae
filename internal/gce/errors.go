package gce

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/stratus-cloud/stratus/internal/cloudstack/csclient"
)

// apiError is an error answered directly (HTTP ≥ 400) in GCE's shape:
// {"error":{"code":404,"message":"…","errors":[{"message":"…","domain":"global","reason":"notFound"}]}}.
type apiError struct {
	Code    int
	Reason  string
	Message string
	// Location and LocationType are set for authentication errors.
	Location, LocationType string
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s: %s", e.Code, e.Reason, e.Message) }

func errNotFound(resource string) *apiError {
	return &apiError{Code: http.StatusNotFound, Reason: "notFound", Message: fmt.Sprintf("The resource '%s' was not found", resource)}
}

func errAlreadyExists(resource string) *apiError {
	return &apiError{Code: http.StatusConflict, Reason: "alreadyExists", Message: fmt.Sprintf("The resource '%s' already exists", resource)}
}

func errInvalid(format string, args ...any) *apiError {
	return &apiError{Code: http.StatusBadRequest, Reason: "invalid", Message: fmt.Sprintf(format, args...)}
}

func errBadRequest(format string, args ...any) *apiError {
	return &apiError{Code: http.StatusBadRequest, Reason: "badRequest", Message: fmt.Sprintf(format, args...)}
}

func errForbidden(format string, args ...any) *apiError {
	return &apiError{Code: http.StatusForbidden, Reason: "forbidden", Message: fmt.Sprintf(format, args...)}
}

func errFingerprint(what string) *apiError {
	return &apiError{Code: http.StatusPreconditionFailed, Reason: "conditionNotMet",
		Message: fmt.Sprintf("Supplied fingerprint does not match current %s fingerprint.", what)}
}

func errUnsupported(what string) *apiError {
	return &apiError{Code: http.StatusBadRequest, Reason: "unsupported", Message: what + " is not supported by this CloudStack gateway."}
}

var errMissingCredentials = &apiError{Code: http.StatusUnauthorized, Reason: "required",
	Message:  "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
	Location: "Authorization", LocationType: "header"}

var errBadCredentials = &apiError{Code: http.StatusUnauthorized, Reason: "authError",
	Message:  "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
	Location: "Authorization", LocationType: "header"}

type errorItem struct {
	Message      string `json:"message"`
	Domain       string `json:"domain"`
	Reason       string `json:"reason"`
	Location     string `json:"location,omitempty"`
	LocationType string `json:"locationType,omitempty"`
}

type errorBody struct {
	Error struct {
		Code    int         `json:"code"`
		Message string      `json:"message"`
		Errors  []errorItem `json:"errors"`
	} `json:"error"`
}

func (e *apiError) body() errorBody {
	var b errorBody
	b.Error.Code = e.Code
	b.Error.Message = e.Message
	b.Error.Errors = []errorItem{{Message: e.Message, Domain: "global", Reason: e.Reason, Location: e.Location, LocationType: e.LocationType}}
	return b
}

// toAPIError turns any error into the one GCE answer: our own apiErrors
// pass through; CloudStack's errors map by their code; anything else is a
// backend error (its text stays in the log, not in the answer).
func toAPIError(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return &apiError{Code: http.StatusServiceUnavailable, Reason: "backendError", Message: "The request timed out."}
	}
	var ce *csclient.Error
	if errors.As(err, &ce) {
		switch ce.ErrorCode {
		case 401:
			return errBadCredentials
		case 430, 431:
			return errInvalid("Invalid value: %s", ce.Text)
		case 432:
			return errUnsupported("This request (CloudStack: " + ce.Text + ")")
		case 531:
			return errForbidden("Permission denied: %s", ce.Text)
		case 532:
			return &apiError{Code: http.StatusForbidden, Reason: "quotaExceeded", Message: "Quota exceeded: " + ce.Text}
		case 533, 534, 535:
			return &apiError{Code: http.StatusServiceUnavailable, Reason: "resourceExhausted", Message: ce.Text}
		case 536:
			return &apiError{Code: http.StatusBadRequest, Reason: "resourceInUseByAnotherResource", Message: ce.Text}
		}
		return &apiError{Code: http.StatusInternalServerError, Reason: "backendError", Message: "CloudStack error: " + ce.Text}
	}
	return &apiError{Code: http.StatusServiceUnavailable, Reason: "backendError", Message: "The CloudStack API could not be reached."}
}

// opErrorCode maps a failed CloudStack job's errorcode to the error code
// a GCE operation carries, with the HTTP status GCE reports for it.
func opErrorCode(csCode int) (code string, status int) {
	switch csCode {
	case 533, 534, 535:
		return "ZONE_RESOURCE_POOL_EXHAUSTED", http.StatusServiceUnavailable
	case 532:
		return "QUOTA_EXCEEDED", http.StatusForbidden
	case 531:
		return "PERMISSIONS_ERROR", http.StatusForbidden
	case 430, 431:
		return "INVALID_FIELD_VALUE", http.StatusBadRequest
	case 536:
		return "RESOURCE_IN_USE_BY_ANOTHER_RESOURCE", http.StatusBadRequest
	case 537:
		return "RESOURCE_ALREADY_EXISTS", http.StatusConflict
	}
	return "INTERNAL_ERROR", http.StatusInternalServerError
}
