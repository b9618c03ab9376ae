module github.com/stratus-cloud/stratus/internal/cloudstack/compat/v2161

go 1.26.8

require github.com/apache/cloudstack-go/v2 v2.19.0

require github.com/stratus-cloud/stratus v0.0.0

require (
	github.com/beorn7/perks v1.0.1 // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/golang/mock v1.6.0 // indirect
	github.com/google/btree v1.1.3 // indirect
	github.com/munnerz/goautoneg v0.0.0-20191010083416-a7dc8b61c822 // indirect
	github.com/prometheus/client_golang v1.24.0 // indirect
	github.com/prometheus/client_model v0.6.2 // indirect
	github.com/prometheus/common v0.70.0 // indirect
	github.com/prometheus/procfs v0.21.1 // indirect
	go.yaml.in/yaml/v2 v2.4.4 // indirect
	golang.org/x/crypto v0.58.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
	k8s.io/utils v0.0.0-20261023123148-ca04ba58ecab // indirect
	sigs.k8s.io/yaml v1.6.0 // indirect
)

replace github.com/stratus-cloud/stratus => ../../../..

// The main module requires v2.19.0; pin the old SDK this module tests.
replace github.com/apache/cloudstack-go/v2 => github.com/apache/cloudstack-go/v2 v2.16.1
