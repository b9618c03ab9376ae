package marathon

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
)

// Detail is one entry of a Marathon error's "details": a JSON path of
// the request body and what is wrong there.
type Detail struct {
	Path   string   `json:"path"`
	Errors []string `json:"errors"`
}

// apiError is an error with Marathon's status and body. Handlers return
// it; writeError renders it (and anything else as a 500).
type apiError struct {
	Status      int
	Message     string
	Details     []Detail
	Deployments []deploymentRef
}

type deploymentRef struct {
	ID string `json:"id"`
}

func (e *apiError) Error() string { return e.Message }

func (e *apiError) MarshalJSON() ([]byte, error) {
	body := map[string]any{"message": e.Message}
	if e.Details != nil {
		body["details"] = e.Details
	}
	if e.Deployments != nil {
		body["deployments"] = e.Deployments
	}
	return json.Marshal(body)
}

func errInvalidJSON(d ...Detail) *apiError {
	return &apiError{Status: http.StatusBadRequest, Message: "Invalid JSON", Details: d}
}

func errNotValid(d ...Detail) *apiError {
	return &apiError{Status: http.StatusUnprocessableEntity, Message: "Object is not valid", Details: d}
}

func errAppNotFound(id string) *apiError {
	return &apiError{Status: http.StatusNotFound, Message: "App '" + id + "' does not exist"}
}

func errGroupNotFound(id string) *apiError {
	return &apiError{Status: http.StatusNotFound, Message: "Group '" + id + "' does not exist"}
}

func errAppExists(id string) *apiError {
	return &apiError{Status: http.StatusConflict, Message: "An app with id [" + id + "] already exists."}
}

func errLocked(ids ...string) *apiError {
	refs := make([]deploymentRef, 0, len(ids))
	for _, id := range ids {
		refs = append(refs, deploymentRef{ID: id})
	}
	return &apiError{Status: http.StatusConflict, Deployments: refs,
		Message: "App is locked by one or more deployments. Override with the option '?force=true'. View details at '/v2/deployments/<DEPLOYMENT_ID>'."}
}

func errNotFound(msg string) *apiError {
	return &apiError{Status: http.StatusNotFound, Message: msg}
}

func errBadRequest(msg string) *apiError {
	return &apiError{Status: http.StatusBadRequest, Message: msg}
}

// errUnauthorized is the security trait's answer to missing or wrong
// credentials.
var errUnauthorized = &apiError{Status: http.StatusUnauthorized, Message: "Invalid username or password."}

// writeError writes err as Marathon does; errors that are not Marathon's
// own are logged and become a 500.
func writeError(w http.ResponseWriter, log *slog.Logger, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		log.Error("marathon request failed", "err", err)
		ae = &apiError{Status: http.StatusInternalServerError, Message: "An unexpected server error occurred."}
	}
	writeJSON(w, ae.Status, ae)
}

// writeJSON writes v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // Marathon writes '<' as it is
	if err := enc.Encode(v); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}
