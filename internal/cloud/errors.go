package cloud

import (
	"errors"
	"fmt"
)

// Error codes of CloudStack's ApiErrorCode that the simulator produces.
const (
	CodeUnauthorized        = 401
	CodeMalformed           = 430
	CodeParamError          = 431
	CodeUnsupported         = 432
	CodeInternal            = 530
	CodePermissionDenied    = 531
	CodeResourceLimit       = 532
	CodeInsufficientCap     = 533
	CodeResourceUnavail     = 534
	CodeResourceAllocation  = 535
	CodeResourceInUse       = 536
	CodeNetworkRuleConflict = 537
)

// CloudStack exception codes (CSExceptionErrorCode).
const (
	CSCloudRuntime         = 4250
	CSInsufficientCapacity = 4325
	CSInsufficientServer   = 4335
	CSInvalidParameter     = 4350
	CSPermissionDenied     = 4365
	CSResourceAllocation   = 4370
	CSResourceInUse        = 4375
	CSResourceUnavailable  = 4380
	CSServerAPI            = 9999
)

// Error is a failure the API reports as is: an errorcode, a cserrorcode and
// the text clients see.
type Error struct {
	Code   int
	CSCode int
	Text   string
}

func (e *Error) Error() string { return e.Text }

// Errorf builds an *Error.
func Errorf(code, cscode int, format string, args ...any) *Error {
	return &Error{Code: code, CSCode: cscode, Text: fmt.Sprintf(format, args...)}
}

// Invalid is a 431 InvalidParameterValue error.
func Invalid(format string, args ...any) *Error {
	return Errorf(CodeParamError, CSInvalidParameter, format, args...)
}

// Denied is a 531 PermissionDenied error.
func Denied(format string, args ...any) *Error {
	return Errorf(CodePermissionDenied, CSPermissionDenied, format, args...)
}

// InUse is a 536 ResourceInUse error.
func InUse(format string, args ...any) *Error {
	return Errorf(CodeResourceInUse, CSResourceInUse, format, args...)
}

// ErrNotFound marks lookups of ids that do not exist (or are not visible to
// the caller). The API turns it into CloudStack's "entity does not exist"
// text for the parameter that named it.
var ErrNotFound = errors.New("cloud: entity does not exist")

// NotFoundError says which kind of entity and which id was missing.
type NotFoundError struct {
	Kind Kind
	ID   string
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("unable to find %s with id %s", e.Kind, e.ID)
}

// Is makes errors.Is(err, ErrNotFound) true.
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

func notFound(k Kind, id string) error { return &NotFoundError{Kind: k, ID: id} }

// AsError returns err as an *Error, mapping anything else to a 530.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var nf *NotFoundError
	if errors.As(err, &nf) {
		return Invalid("Unable to find %s with specified id", nf.Kind)
	}
	return Errorf(CodeInternal, CSCloudRuntime, "%s", err.Error())
}
