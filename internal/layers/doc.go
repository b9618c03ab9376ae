// Package layers keeps the code cut the way docs/architecture.md draws it.
// Its tests read every Go file's imports and fail when a package reaches
// into a layer it must not know (a controller into the store, the GCE
// gateway into the simulator, the dashboard into the API server), or when
// a Kubernetes API package is imported under another name than the one the
// whole tree uses. It has no code of its own: the rules are its tests.
package layers
