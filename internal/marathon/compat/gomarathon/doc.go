// Package gomarathon drives stratus's Marathon API with the real Go client
// github.com/gambol99/go-marathon v0.7.1 (the last tag the module proxy
// serves). It is its own module so the client's dependencies stay out of
// the main one. Run it with
//
//	cd internal/marathon/compat/gomarathon && go test ./...
package gomarathon
