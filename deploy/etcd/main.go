// Command etcd is the etcd server (go.etcd.io/etcd/server/v3's etcdmain,
// unchanged) built from the Go module proxy as a static binary, so the
// stratus multi-host cluster needs no image registry: deploy/build-images
// puts it in a FROM scratch image.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
