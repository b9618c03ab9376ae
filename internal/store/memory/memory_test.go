package memory_test

import (
	"testing"
	"time"

	"github.com/stratus-cloud/stratus/internal/store"
	"github.com/stratus-cloud/stratus/internal/store/memory"
	"github.com/stratus-cloud/stratus/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return memory.New(memory.Options{ProgressInterval: 50 * time.Millisecond})
	})
}
