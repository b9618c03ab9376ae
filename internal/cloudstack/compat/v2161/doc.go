// Package v2161 tests the CloudStack API with cloudstack-go v2.16.1, which
// signs without signature version 3 and sends most calls as GET. It is its
// own module because the main module requires v2.19.0. Run it with
//
//	cd internal/cloudstack/compat/v2161 && go test ./...
package v2161
